//! The condition evaluator as GrowthBook's `evalCondition` (the .wasm's
//! `evalConditionJson`): attributes, condition and saved groups, each any JSON text,
//! separated by NUL bytes. Text that is not JSON counts as `null`, as in the browser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor::host::NativeHost;
use tailor::json::{self, Value};
use tailor::rules::condition;

fuzz_target!(|data: &[u8]| {
    let Some(parts) = tailor_fuzz::parts(data) else { return };
    let parse = |i: usize| parts.get(i).map(|t| json::parse_with_host(t, &NativeHost).unwrap_or(Value::Null));
    let attributes = parse(0).unwrap_or_default();
    let condition = parse(1).unwrap_or_default();
    let groups = parse(2);
    condition::eval_condition(&attributes, &condition, groups.as_ref().and_then(Value::as_object), &NativeHost);
});
