//! The browser glue: the only module that touches wasm-bindgen and js-sys.
//!
//! Every export decodes its arguments, calls one core function and encodes the result.
//! Structured values cross the boundary as JSON text: the browser's own `JSON.parse`
//! and `JSON.stringify` do the JavaScript side, so no serializer ships in the .wasm
//! twice. Errors cross as JSON text too; `js/api.js` turns them into `TailorError`s.
//! serde-wasm-bindgen in their place was measured larger and slower, and its objects
//! run setters a page puts on `Object.prototype` (README, "Design: what is
//! hand-written, and the measured reason").

use std::rc::Rc;

use wasm_bindgen::prelude::*;

mod consent;
mod growthbook;
pub use consent::{verify_ledger_json, Consent};

use crate::context::{self, PageInputs};
use crate::decide;
use crate::measure::Goals;
use crate::profile::{self, Profile};
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

/// Reads text handed over as UTF-8 bytes. Large texts (rules, stored records) come in
/// as `TextEncoder` output, which the browser copies into wasm memory in one native
/// step; a `&str` parameter would be copied character by character in JavaScript,
/// which costs milliseconds at start-up before the JIT warms up.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    core::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))
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
    // The browser's host, so numbers in messages read as JavaScript writes them.
    match rules::parse_rules_with(text, &BrowserHost) {
        Ok(_) => "[]".into(),
        Err(problems) => problems_json(&problems),
    }
}

/// A loaded, validated rules document ready to decide slots, and the visitor's
/// profile while personalization is granted (the JS runtime loads and drops it).
#[wasm_bindgen]
pub struct Engine {
    rules: Rc<Rules>,
    profile: Option<Profile>,
    goals: Option<Goals>,
}

/// One round of decisions ([`Engine::decide_round`]): the decisions at once, and each
/// one's summary and explanation built on request from what the round measured, so
/// deciding stays cheap and a late explanation still describes that moment.
#[wasm_bindgen]
pub struct Round {
    rules: Rc<Rules>,
    round: decide::Round,
}

#[wasm_bindgen]
impl Round {
    /// The decisions as a JSON array, without `summary` and `explanation`.
    pub fn decisions(&self) -> String {
        Value::Array(self.round.decisions().iter().map(|d| d.to_value_compact()).collect()).to_json(&BrowserHost)
    }

    /// The summary of decision `index`.
    pub fn summary(&self, index: usize) -> String {
        self.round.summary(&self.rules, index)
    }

    /// The explanation of decision `index`, as JSON.
    pub fn explanation(&self, index: usize) -> String {
        self.round.explanation(&self.rules, index).to_json(&BrowserHost)
    }
}

fn props(json_text: &str) -> Value {
    json::parse_with_host(json_text, &BrowserHost).unwrap_or(Value::Null)
}

#[wasm_bindgen]
impl Engine {
    /// Parses and validates the rules document (UTF-8 JSON); throws the JSON array of
    /// problems.
    #[wasm_bindgen(constructor)]
    pub fn new(rules_utf8: &[u8]) -> Result<Engine, String> {
        let rules_json = utf8(rules_utf8).map_err(|found| problems_json(&[Problem { path: "$".into(), expected: "a JSON document".into(), found }]))?;
        rules::parse_rules_with(rules_json, &BrowserHost).map(|rules| Engine { rules: Rc::new(rules), profile: None, goals: None }).map_err(|p| problems_json(&p))
    }

    /// Decides every slot for a page (`page_json`: the inputs of
    /// [`PageInputs::from_json`]); `unit` is the allocation identity; `view_start_ms`
    /// when the page view started (default `now_ms`, see [`decide::decide_view`]).
    /// Each summary and explanation is built when read from the returned [`Round`].
    #[wasm_bindgen(js_name = decideRound)]
    pub fn decide_round(&self, page_json: &str, unit: &str, now_ms: f64, view_start_ms: Option<f64>) -> Round {
        let attributes = context::attributes(&PageInputs::from_json(&props(page_json)));
        let start = view_start_ms.unwrap_or(now_ms);
        let round = decide::decide_round_view(&self.rules, &attributes, self.profile.as_ref(), unit, now_ms, start, &BrowserHost);
        Round { rules: Rc::clone(&self.rules), round }
    }

    /// Starts using a profile: the stored one, or a new one when there is none. Returns
    /// the reason a stored profile (UTF-8) was discarded (corrupted or foreign), if it was.
    #[wasm_bindgen(js_name = loadProfile)]
    pub fn load_profile(&mut self, stored: Option<Box<[u8]>>, now_ms: f64) -> Option<String> {
        let loaded = stored.as_deref().map(|b| utf8(b).and_then(|t| Profile::load_with(t, &self.rules, now_ms, profile::BYTE_BUDGET, &BrowserHost).map_err(|e| e.message)));
        let (profile, discarded) = match loaded {
            None => (Profile::new(), None),
            Some(Ok(p)) => (p, None),
            Some(Err(message)) => (Profile::new(), Some(message)),
        };
        self.profile = Some(profile);
        discarded
    }

    /// Forgets the profile in memory (consent withdrawn).
    #[wasm_bindgen(js_name = dropProfile)]
    pub fn drop_profile(&mut self) {
        self.profile = None;
    }

    /// Whether a profile is in use.
    #[wasm_bindgen(js_name = hasProfile)]
    pub fn has_profile(&self) -> bool {
        self.profile.is_some()
    }

    /// Records a batch of events, `[[name, props, now_ms], …]`, in one crossing (the
    /// runtime queues `track()` calls and hands them over once per task). Returns how
    /// many were stored.
    #[wasm_bindgen(js_name = trackBatch)]
    pub fn track_batch(&mut self, batch_json: &str) -> u32 {
        let rules = &self.rules;
        let Some(p) = self.profile.as_mut() else { return 0 };
        let Value::Array(items) = props(batch_json) else { return 0 };
        let mut stored = 0;
        for item in items {
            let Value::Array(mut parts) = item else { continue };
            if parts.len() != 3 {
                continue;
            }
            let now = parts[2].as_f64().unwrap_or(0.0);
            let event_props = std::mem::take(&mut parts[1]);
            if let Some(name) = parts[0].as_str() {
                stored += u32::from(p.record_event_owned(rules, name, event_props, now));
            }
        }
        stored
    }

    /// The event names the rules declare, as a JSON array: `track()` answers from it
    /// without crossing into the .wasm.
    #[wasm_bindgen(js_name = eventNames)]
    pub fn event_names(&self) -> String {
        Value::Array(self.rules.events.iter().map(|e| e.name.as_str().into()).collect()).to_json(&BrowserHost)
    }

    /// Records a page view.
    #[wasm_bindgen(js_name = pageView)]
    pub fn page_view(&mut self, props_json: &str, now_ms: f64) {
        let rules = &self.rules;
        if let Some(p) = self.profile.as_mut() {
            p.record_page_view(rules, &props(props_json), now_ms);
        }
    }

    /// Records that `variant` of `experience` was shown (caps, lifetimes, stickiness).
    pub fn impression(&mut self, experience: &str, variant: &str, now_ms: f64) {
        if let Some(p) = self.profile.as_mut() {
            decide::record_impression(p, experience, variant, now_ms);
        }
    }

    /// The profile in its storage format, pruned to the retention and byte budget.
    #[wasm_bindgen(js_name = profileText)]
    pub fn profile_text(&mut self, now_ms: f64) -> Option<String> {
        let rules = &self.rules;
        self.profile.as_mut().map(|p| p.prune_with(rules, now_ms, profile::BYTE_BUDGET, &BrowserHost))
    }

    /// Starts measurement (the measurement purpose is granted): the stored goals
    /// record, or a new one. Returns why a stored record was discarded, if it was.
    #[wasm_bindgen(js_name = loadGoals)]
    pub fn load_goals(&mut self, stored: Option<String>, now_ms: f64) -> Option<String> {
        let (mut goals, discarded) = match stored.as_deref().map(Goals::parse) {
            None => (Goals::new(), None),
            Some(Ok(g)) => (g, None),
            Some(Err(e)) => (Goals::new(), Some(e)),
        };
        goals.prune(&self.rules, now_ms);
        self.goals = Some(goals);
        discarded
    }

    /// Forgets measurement in memory (consent withdrawn).
    #[wasm_bindgen(js_name = dropGoals)]
    pub fn drop_goals(&mut self) {
        self.goals = None;
    }

    /// The events the rules count as goals (the document's `goals` and the experiences'
    /// `goal`), as a JSON array.
    #[wasm_bindgen(js_name = goalNames)]
    pub fn goal_names(&self) -> String {
        let mut names: Vec<&str> = self.rules.goals.iter().map(String::as_str).collect();
        names.extend(self.rules.experiences.iter().filter_map(|e| e.goal.as_deref()));
        Value::Array(names.into_iter().map(Value::from).collect()).to_json(&BrowserHost)
    }

    /// Records this page view's visit as a touchpoint for attribution (measurement):
    /// `page_json` as for [`Engine::decide_round`]. Returns whether it was recorded
    /// (never when the rules name no goal: there would be nothing to attribute).
    pub fn touch(&mut self, page_json: &str, now_ms: f64) -> bool {
        match self.goals.as_mut() {
            Some(g) if self.rules.has_goals() => {
                g.touch_page(&PageInputs::from_json(&props(page_json)), now_ms);
                true
            }
            _ => false,
        }
    }

    /// Records an exposure for measurement.
    pub fn expose(&mut self, experience: &str, variant: &str, now_ms: f64) {
        if let Some(g) = self.goals.as_mut() {
            g.expose(experience, variant, now_ms);
        }
    }

    /// Counts a goal event; returns how many conversions were attributed.
    pub fn convert(&mut self, name: &str, now_ms: f64) -> u32 {
        let rules = &self.rules;
        self.goals.as_mut().map_or(0, |g| g.convert(rules, name, now_ms) as u32)
    }

    /// The goals record in its storage format.
    #[wasm_bindgen(js_name = goalsText)]
    pub fn goals_text(&self) -> Option<String> {
        self.goals.as_ref().map(Goals::serialize)
    }

    /// What `goals()` shows, as JSON: `{conversions, credit, touchpoints}`
    /// ([`Goals::report`]).
    #[wasm_bindgen(js_name = goalsReport)]
    pub fn goals_report(&self) -> String {
        self.goals.as_ref().map_or(Value::Null, Goals::report).to_json(&BrowserHost)
    }

    /// What the profile holds, for `inventory()`: counts and attributes (JSON).
    #[wasm_bindgen(js_name = profileSummary)]
    pub fn profile_summary(&self, now_ms: f64) -> String {
        let Some(p) = &self.profile else { return "null".into() };
        let mut m = Map::new();
        m.insert("events", (p.events().len() as f64).into());
        m.insert("rollups", (p.rollups().len() as f64).into());
        m.insert("eventNames", Value::Array(p.names().iter().map(|n| n.as_str().into()).collect()));
        let mut attrs = Map::new();
        for (k, v) in p.attributes(now_ms) {
            attrs.insert(k, v);
        }
        m.insert("attributes", Value::Object(attrs));
        m.insert("bytes", (p.serialize_with(&BrowserHost).len() as f64).into());
        Value::Object(m).to_json(&BrowserHost)
    }
}
