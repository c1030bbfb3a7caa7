// npm entry for Node >= 20: the wasm is compiled during import, so
// `await import("tailor-sdk")` returns ready-to-call exports.
import { readFileSync } from "node:fs";
import { initSync } from "../../../pkg/wasm/tailor.js";

initSync({ module: readFileSync(new URL("./tailor_bg.wasm", import.meta.url)) });

export {
  Engine, TailorError, validateRules, verifyLedger, version,
  evalCondition, hash, getBucketRanges, chooseVariation, inNamespace, getEqualWeights,
} from "./api.js";
// Importable during server-side rendering: start() touches no DOM until called, and
// then fails with a TailorError (NO_DOCUMENT) rather than a ReferenceError.
export { start } from "./runtime.js";
