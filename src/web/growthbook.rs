//! GrowthBook-named exports (`evalCondition`, `hash`, `getBucketRanges`, …) for rule
//! authors and migrations. `js/api.js` gives them GrowthBook's exact JS signatures.

use wasm_bindgen::prelude::*;

use super::BrowserHost;
use crate::json::{self, Value};
use crate::rules::{condition, hash};

/// `evalCondition(attributes, condition, savedGroups?)` with JSON arguments.
#[wasm_bindgen(js_name = evalConditionJson)]
pub fn eval_condition_json(attributes: &str, condition_json: &str, saved_groups: Option<String>) -> bool {
    let parse = |t: &str| json::parse_with_host(t, &BrowserHost).unwrap_or(Value::Null);
    let groups = saved_groups.as_deref().map(parse);
    condition::eval_condition(&parse(attributes), &parse(condition_json), groups.as_ref().and_then(Value::as_object), &BrowserHost)
}

/// `hash(seed, value, version)`: `undefined` for an unknown version.
#[wasm_bindgen(js_name = hashValue)]
pub fn hash_value(seed: &str, value: &str, version: f64) -> Option<f64> {
    if version == 1.0 || version == 2.0 {
        hash::hash(seed, value, version as u32)
    } else {
        None
    }
}

/// `getBucketRanges(n, coverage, weights)`, flattened as `[start0, end0, start1, …]`.
#[wasm_bindgen(js_name = bucketRanges)]
pub fn bucket_ranges(n: i32, coverage: Option<f64>, weights: Option<Vec<f64>>) -> Vec<f64> {
    hash::get_bucket_ranges(n, coverage, weights.as_deref()).into_iter().flat_map(|(a, b)| [a, b]).collect()
}

/// `chooseVariation(n, ranges)` over flattened ranges.
#[wasm_bindgen(js_name = chooseVariationFlat)]
pub fn choose_variation_flat(n: f64, flat: Vec<f64>) -> i32 {
    let ranges: Vec<(f64, f64)> = flat.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    hash::choose_variation(n, &ranges)
}

/// `inNamespace(hashValue, [id, start, end])`.
#[wasm_bindgen(js_name = inNamespaceParts)]
pub fn in_namespace_parts(hash_value: &str, id: &str, start: f64, end: f64) -> bool {
    hash::in_namespace(hash_value, (id, start, end))
}

/// `getEqualWeights(n)`.
#[wasm_bindgen(js_name = equalWeights)]
pub fn equal_weights(n: i32) -> Vec<f64> {
    hash::get_equal_weights(n)
}
