// npm entry for browsers and bundlers: the wasm beside this file is fetched and
// compiled during import (top-level await), so the exports are ready to call.
import init from "../../../pkg/wasm/tailor.js";

await init({ module_or_path: new URL("./tailor_bg.wasm", import.meta.url) });

export {
  Engine, TailorError, validateRules, verifyLedger, version,
  evalCondition, hash, getBucketRanges, chooseVariation, inNamespace, getEqualWeights,
} from "./api.js";
export { start } from "./runtime.js";
