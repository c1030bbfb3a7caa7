// The script tag's full module (tailor.full.js, an ES module the first stage imports
// after the first decision is painted): the wasm-bindgen glue, the engine's API, consent
// handling, capture and the page runtime, started with what the first stage hands over.
import init from "../../../pkg/wasm/tailor.js";
import { start } from "./runtime.js";

/**
 * Starts the full runtime on this page with the script tag's `options`, taking over the
 * first stage's state (`handoff`, see runtime.js); `wasm` is the .wasm's response
 * (a promise), requested beside this module. Returns the page API.
 */
export function takeOver(options, handoff, wasm) {
  const wasmReady = init({ module_or_path: wasm });
  wasmReady.catch(() => {}); // reported by start(); never an unhandled rejection in the host page
  return start({ ...options, wasmReady }, handoff);
}
