//! The rules decoder: any text given to `Tailor.init({rules})` / `Engine.new`, both as
//! the browser parses it (NativeHost stands in for its RegExp and number formatting)
//! and as the validator does (PlainHost). Also the JSON layer under it: whatever it
//! parses, it writes back as JSON that parses and writes again to the same text (not
//! always the same value: like `JSON.stringify`, it writes `1e999`, Infinity, as null).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor::host::{NativeHost, PlainHost};
use tailor::{json, rules};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(v) = json::parse_with_host(text, &NativeHost) {
        let written = v.to_json(&NativeHost);
        let again = json::parse_with_host(&written, &NativeHost).unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
        assert_eq!(again.to_json(&NativeHost), written, "JSON written as {written:?} is written differently once parsed");
    }
    let _ = rules::parse_rules_with(text, &NativeHost);
    let _ = rules::parse_rules_with(text, &PlainHost);
});
