#!/usr/bin/env node
// The `tailor` command of the npm package: the same Rust command line as
// `cargo install --path .` (validate, simulate, diff, compile), compiled for WASI
// (dist/tailor-cli.wasm) and run by Node's own WASI host. It sees the file system from
// the root, and starts in the current directory (PWD): relative and absolute paths work.
import { readFile } from "node:fs/promises";
import process from "node:process";

// Node marks its WASI host experimental: one warning on every run would be noise here.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => (/WASI/.test(String(warning)) ? undefined : emitWarning.call(process, warning, ...rest));
const { WASI } = await import("node:wasi");

const wasi = new WASI({
  version: "preview1",
  args: ["tailor", ...process.argv.slice(2)],
  env: { ...process.env, PWD: process.cwd() },
  preopens: { "/": "/" },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(new URL("../dist/tailor-cli.wasm", import.meta.url)));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
