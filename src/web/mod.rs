//! The browser glue: the only module that touches wasm-bindgen and js-sys.
//!
//! Every export decodes its arguments, calls one core function and encodes the result.
//! Structured values cross the boundary as JSON text: the browser's own `JSON.parse`
//! and `JSON.stringify` do the JavaScript side, so no serializer ships in the .wasm
//! twice. Errors cross as JSON text too; `js/api.js` turns them into `TailorError`s.

use wasm_bindgen::prelude::*;

mod consent;
mod growthbook;
pub use consent::{verify_ledger_json, Consent};

use crate::context::{self, PageInputs};
use crate::decide::{self, Decision};
use crate::host::Host;
use crate::json::{self, Map, Value};
use crate::rules::{self, Problem, Rules};

#[wasm_bindgen(module = "/src/web/js/host.js")]
extern "C" {
    /// `new RegExp(p, i ? "i" : "").test(s)`, cached; `undefined` for a bad pattern.
    fn regex_test(pattern: &str, insensitive: bool, subject: &str) -> Option<bool>;
    /// `String(n)`.
    fn number_to_string(n: f64) -> String;
    /// `Number(s)`.
    fn string_to_number(s: &str) -> f64;
    /// `s.toLowerCase()`.
    fn to_lower_case(s: &str) -> String;
}

/// The browser lends the core its RegExp engine and number conversions.
pub(crate) struct BrowserHost;

/// The browser's [`Host`], for tests of the glue.
pub fn browser_host() -> impl Host {
    BrowserHost
}

impl Host for BrowserHost {
    fn regex_test(&self, pattern: &str, insensitive: bool, subject: &str) -> Option<bool> {
        regex_test(pattern, insensitive, subject)
    }
    fn number_to_string(&self, n: f64) -> String {
        number_to_string(n)
    }
    fn string_to_number(&self, s: &str) -> f64 {
        string_to_number(s)
    }
    fn to_lower_case(&self, s: &str) -> String {
        to_lower_case(s)
    }
}

/// The SDK version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.into()
}

fn problems_json(problems: &[Problem]) -> String {
    let list = problems
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("path", p.path.as_str().into());
            m.insert("expected", p.expected.as_str().into());
            m.insert("found", p.found.as_str().into());
            Value::Object(m)
        })
        .collect();
    Value::Array(list).to_json(&BrowserHost)
}

/// Validates a rules document; returns a JSON array of problems (empty when valid).
#[wasm_bindgen(js_name = validateRulesJson)]
pub fn validate_rules_json(text: &str) -> String {
    match rules::parse_rules(text) {
        Ok(_) => "[]".into(),
        Err(problems) => problems_json(&problems),
    }
}

/// A loaded, validated rules document ready to decide slots.
#[wasm_bindgen]
pub struct Engine {
    rules: Rules,
}

#[wasm_bindgen]
impl Engine {
    /// Parses and validates `rules_json`; throws the JSON array of problems.
    #[wasm_bindgen(constructor)]
    pub fn new(rules_json: &str) -> Result<Engine, String> {
        rules::parse_rules(rules_json).map(|rules| Engine { rules }).map_err(|p| problems_json(&p))
    }

    /// Decides every slot for a page (`page_json`: the inputs of
    /// [`PageInputs::from_json`]); `unit` is the allocation identity. Returns a JSON
    /// array of decisions.
    pub fn decide(&self, page_json: &str, unit: &str) -> String {
        let page = json::parse_with_host(page_json, &BrowserHost).unwrap_or(Value::Null);
        let attributes = context::attributes(&PageInputs::from_json(&page));
        let decisions = decide::decide_all(&self.rules, &attributes, unit, &BrowserHost);
        Value::Array(decisions.iter().map(decision_value).collect()).to_json(&BrowserHost)
    }
}

fn opt(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, Value::from)
}

fn decision_value(d: &Decision) -> Value {
    let mut m = Map::new();
    m.insert("slot", d.slot.as_str().into());
    m.insert("experience", opt(&d.experience));
    m.insert("variant", opt(&d.variant));
    let content = d.content.as_ref().map_or(Value::Null, |c| {
        let mut cm = Map::new();
        cm.insert("text", opt(&c.text));
        cm.insert("html", opt(&c.html));
        cm.insert("template", opt(&c.template));
        Value::Object(cm)
    });
    m.insert("content", content);
    m.insert("reasons", Value::Array(d.reasons.iter().map(|r| r.as_str().into()).collect()));
    Value::Object(m)
}
