//! The browser glue in a real headless Chromium (wasm-bindgen-test): the host functions
//! the core borrows from the browser, and the exported engine.
#![cfg(target_arch = "wasm32")]

use tailor::web::{validate_rules_json, Engine};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RULES: &str = r#"{"version":1,"experiences":[{"id":"spring","slot":"hero",
  "audience":{"utm.campaign":"spring"},"variants":[{"id":"v","content":{"text":"Spring!"}}]}]}"#;

#[wasm_bindgen_test]
fn decides_the_campaign_variant_in_the_browser() {
    let engine = Engine::new(RULES.as_bytes()).unwrap();
    let page = r#"{"url":"https://shop.example/?utm_campaign=spring","query":[["utm_campaign","spring"]]}"#;
    let out = engine.decide_round(page, "unit", 0.0, None).decisions();
    assert!(out.contains(r#""variant":"v""#), "{out}");
    let out = engine.decide_round(r#"{"url":"https://shop.example/"}"#, "unit", 0.0, None).decisions();
    assert!(out.contains(r#""variant":null"#), "{out}");
}

#[wasm_bindgen_test]
fn invalid_rules_are_reported_with_paths() {
    let problems = validate_rules_json(r#"{"version":1,"experiences":[{"id":"x"}]}"#);
    assert!(problems.contains(r#""path":"$.experiences[0].slot""#), "{problems}");
    assert_eq!(validate_rules_json(RULES), "[]");
    assert!(Engine::new(b"{").is_err());
    // Bytes that are not UTF-8 are refused with where they stop being text.
    let err = Engine::new(b"{\"version\":1,\"x\":\"\xff\"}").err().unwrap();
    assert!(err.contains("not UTF-8 text (invalid byte at offset 18)"), "{err}");
}

#[wasm_bindgen_test]
fn the_browser_lends_ecmascript_regexp_and_number_formatting() {
    use tailor::host::Host;
    let host = tailor::web::browser_host();
    assert_eq!(host.regex_test("^a(?<=a)b", false, "ab"), Some(true));
    assert_eq!(host.regex_test("(", false, "x"), None);
    assert_eq!(host.number_to_string(1e21), "1e+21");
    assert_eq!(host.string_to_number(" 0x10 "), 16.0);
}
