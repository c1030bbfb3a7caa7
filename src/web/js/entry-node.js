// npm entry for Node >= 20: the wasm is compiled during import, so
// `await import("tailor-sdk")` returns ready-to-call exports.
import { readFileSync } from "node:fs";
import { initSync } from "../../../pkg/wasm/tailor.js";

initSync({ module: readFileSync(new URL("./tailor_bg.wasm", import.meta.url)) });

export * from "./api.js";
