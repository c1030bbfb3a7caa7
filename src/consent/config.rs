//! The consent configuration, decoded from JSON with every problem reported at once.
//!
//! ```json
//! {
//!   "notice_version": "2026-03",
//!   "purposes": {
//!     "personalization": { "text": "We remember what you look at to …" },
//!     "measurement":     { "text": "We count which version of a page …" }
//!   },
//!   "rules_revision": "4",
//!   "lifetime_days": 183,
//!   "strict": true,
//!   "defaults": { "personalization": "not_asked", "measurement": "not_asked" },
//!   "ledger_limit": 50,
//!   "signals": {
//!     "gpc": true,
//!     "tcf": { "gdpr_applies": true, "vendor_id": 1234 },
//!     "gpp": true, "consent_mode": false, "cookieconsent": false, "klaro": false
//!   }
//! }
//! ```
//!
//! Required: `purposes.personalization.text` and `purposes.measurement.text` (may be
//! empty strings; their SHA-256 is what a decision is bound to). Everything else is
//! optional with the defaults shown, except `signals`: GPC defaults to on (it is a legal
//! opt-out in California and Colorado), every other signal to off. `tcf` is `false`,
//! `true` (GDPR not assumed, no vendor id) or an object. Unknown fields are errors.

use super::{sha256_hex, Purpose, State};
use crate::json::{self, Map, Value};
use crate::rules::Problem;

/// Longest allowed lifetime of a decision: 13 months, rounded up to days.
pub const MAX_LIFETIME_DAYS: u64 = 395;
/// Default lifetime of a decision: 6 months.
pub const DEFAULT_LIFETIME_DAYS: u64 = 183;
/// Default number of ledger records kept.
pub const DEFAULT_LEDGER_LIMIT: u64 = 50;
const DAY_MS: u64 = 86_400_000;

/// A validated consent configuration. Build it with [`ConsentConfig::parse`] or
/// [`ConsentConfig::from_json`], so that a configuration the engine runs with has
/// always passed validation (lifetime bound, strict mode).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentConfig {
    pub(crate) notice_version: String,
    /// Hex SHA-256 of each purpose's notice text, by [`Purpose::index`].
    pub(crate) text_sha256: [String; 2],
    pub(crate) rules_revision: String,
    pub(crate) lifetime_ms: u64,
    pub(crate) defaults: [State; 2],
    pub(crate) ledger_limit: usize,
    pub(crate) gpc: bool,
    pub(crate) tcf: Option<TcfConfig>,
    pub(crate) gpp: bool,
    pub(crate) consent_mode: bool,
    pub(crate) cookieconsent: bool,
    pub(crate) klaro: bool,
}

/// How TCF is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcfConfig {
    /// GDPR applies on this site: until the CMP answers (or if it never does) nothing
    /// is granted.
    pub gdpr_applies: bool,
    /// Tailor's vendor id in the Global Vendor List, when the site relies on vendor
    /// consent; publisher consent counts either way.
    pub vendor_id: Option<u32>,
}

impl ConsentConfig {
    /// Parses and validates a configuration text.
    pub fn parse(text: &str) -> Result<ConsentConfig, Vec<Problem>> {
        match json::parse(text) {
            Ok(v) => ConsentConfig::from_json(&v),
            Err(e) => Err(vec![Problem { path: "$".into(), expected: "a JSON document".into(), found: e.to_string() }]),
        }
    }

    /// Validates an already-parsed configuration, returning every problem found.
    pub fn from_json(v: &Value) -> Result<ConsentConfig, Vec<Problem>> {
        let mut d = Decoder::default();
        let config = d.config(v);
        match config {
            Some(c) if d.problems.is_empty() => Ok(c),
            _ => Err(d.problems),
        }
    }

    /// The lifetime of a decision in milliseconds.
    pub fn lifetime_ms(&self) -> u64 {
        self.lifetime_ms
    }
}

/// Collects problems while walking a JSON value; shared with the record and ledger
/// decoders.
#[derive(Default)]
pub(crate) struct Decoder {
    pub(crate) problems: Vec<Problem>,
}

/// "string \"x\"", "number 3", "boolean true", "array", …: what was found.
pub(crate) fn describe(v: Option<&Value>) -> String {
    match v {
        None => "nothing (the field is required)".into(),
        Some(v) => v.describe(),
    }
}

/// `path.key`.
pub(crate) fn join(path: &str, key: &str) -> String {
    let mut s = String::with_capacity(path.len() + key.len() + 1);
    s.push_str(path);
    s.push('.');
    s.push_str(key);
    s
}

impl Decoder {
    pub(crate) fn fail(&mut self, path: String, expected: &str, found: Option<&Value>) {
        self.problems.push(Problem { path, expected: expected.into(), found: describe(found) });
    }

    /// The object at `path` with every key outside `allowed` reported.
    pub(crate) fn object<'v>(&mut self, v: Option<&'v Value>, path: &str, allowed: &[&str]) -> Option<&'v Map> {
        match v {
            Some(Value::Object(m)) => {
                for (k, _) in m.iter() {
                    if !allowed.contains(&k.as_str()) {
                        self.problems.push(Problem {
                            path: join(path, k),
                            expected: format!("one of the fields {}", allowed.join(", ")),
                            found: format!("unknown field {}", json::quote(k)),
                        });
                    }
                }
                Some(m)
            }
            other => {
                self.fail(path.into(), "an object", other);
                None
            }
        }
    }

    /// A required string member.
    pub(crate) fn string(&mut self, m: &Map, key: &str, path: &str) -> Option<String> {
        match m.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            other => {
                self.fail(join(path, key), "a string", other);
                None
            }
        }
    }

    /// A required member that is a string or null.
    pub(crate) fn opt_string(&mut self, m: &Map, key: &str, path: &str) -> Option<Option<String>> {
        match m.get(key) {
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            other => {
                self.fail(join(path, key), "a string or null", other);
                None
            }
        }
    }

    /// A boolean member, `default` when absent (`None` default: required).
    pub(crate) fn boolean(&mut self, m: &Map, key: &str, path: &str, default: Option<bool>) -> Option<bool> {
        match (m.get(key), default) {
            (Some(Value::Bool(b)), _) => Some(*b),
            (None, Some(d)) => Some(d),
            (other, _) => {
                self.fail(join(path, key), "a boolean", other);
                None
            }
        }
    }

    /// An integer member in `min..=max`, `default` when absent (`None`: required).
    pub(crate) fn integer(
        &mut self,
        m: &Map,
        key: &str,
        path: &str,
        min: u64,
        max: u64,
        default: Option<u64>,
    ) -> Option<u64> {
        match (m.get(key), default) {
            (Some(Value::Number(n)), _) if n.fract() == 0.0 && *n >= min as f64 && *n <= max as f64 => Some(*n as u64),
            (None, Some(d)) => Some(d),
            (other, _) => {
                let expected = format!("an integer from {min} to {max}");
                self.fail(join(path, key), &expected, other);
                None
            }
        }
    }

    /// A member that is a state name (`allowed` lists the accepted states).
    pub(crate) fn state(&mut self, m: &Map, key: &str, path: &str, allowed: &[State], expected: &str) -> Option<State> {
        match m.get(key) {
            Some(Value::String(s)) => match State::from_name(s) {
                Some(st) if allowed.contains(&st) => Some(st),
                _ => {
                    self.fail(join(path, key), expected, m.get(key));
                    None
                }
            },
            other => {
                self.fail(join(path, key), expected, other);
                None
            }
        }
    }

    fn config(&mut self, v: &Value) -> Option<ConsentConfig> {
        const FIELDS: &[&str] = &[
            "notice_version",
            "purposes",
            "rules_revision",
            "lifetime_days",
            "strict",
            "defaults",
            "ledger_limit",
            "signals",
        ];
        let m = self.object(Some(v), "$", FIELDS)?;
        let notice_version = match m.get("notice_version") {
            None => Some(String::new()),
            Some(_) => self.string(m, "notice_version", "$"),
        };
        let rules_revision = match m.get("rules_revision") {
            None => Some(String::new()),
            Some(_) => self.string(m, "rules_revision", "$"),
        };
        let lifetime = self.integer(m, "lifetime_days", "$", 1, MAX_LIFETIME_DAYS, Some(DEFAULT_LIFETIME_DAYS));
        let strict = self.boolean(m, "strict", "$", Some(true));
        let ledger_limit = self.integer(m, "ledger_limit", "$", 1, 1000, Some(DEFAULT_LEDGER_LIMIT));

        let mut texts = [None, None];
        if let Some(pm) = self.object(m.get("purposes"), "$.purposes", &["personalization", "measurement"]) {
            for p in Purpose::ALL {
                let path = join("$.purposes", p.name());
                if let Some(o) = self.object(pm.get(p.name()), &path, &["text"]) {
                    texts[p.index()] = self.string(o, "text", &path).map(|t| sha256_hex(t.as_bytes()));
                }
            }
        }

        let mut defaults = [Some(State::NotAsked), Some(State::NotAsked)];
        if m.contains_key("defaults") {
            if let Some(dm) = self.object(m.get("defaults"), "$.defaults", &["personalization", "measurement"]) {
                for p in Purpose::ALL {
                    if !dm.contains_key(p.name()) {
                        continue;
                    }
                    let all = [State::Granted, State::Denied, State::NotAsked];
                    let st = self.state(dm, p.name(), "$.defaults", &all, "\"granted\", \"denied\" or \"not_asked\"");
                    if st == Some(State::Granted) && strict == Some(true) {
                        self.fail(
                            join("$.defaults", p.name()),
                            "\"denied\" or \"not_asked\" (strict mode forbids granting a purpose by default)",
                            dm.get(p.name()),
                        );
                    }
                    defaults[p.index()] = st;
                }
            }
        }

        let mut signals = (Some(true), Some(None), Some(false), Some(false), Some(false), Some(false));
        if m.contains_key("signals") {
            let fields = &["gpc", "tcf", "gpp", "consent_mode", "cookieconsent", "klaro"];
            if let Some(sm) = self.object(m.get("signals"), "$.signals", fields) {
                signals = (
                    self.boolean(sm, "gpc", "$.signals", Some(true)),
                    self.tcf(sm.get("tcf")),
                    self.boolean(sm, "gpp", "$.signals", Some(false)),
                    self.boolean(sm, "consent_mode", "$.signals", Some(false)),
                    self.boolean(sm, "cookieconsent", "$.signals", Some(false)),
                    self.boolean(sm, "klaro", "$.signals", Some(false)),
                );
            }
        }

        let [t0, t1] = texts;
        let [d0, d1] = defaults;
        Some(ConsentConfig {
            notice_version: notice_version?,
            text_sha256: [t0?, t1?],
            rules_revision: rules_revision?,
            lifetime_ms: lifetime? * DAY_MS,
            defaults: [d0?, d1?],
            ledger_limit: ledger_limit? as usize,
            gpc: signals.0?,
            tcf: signals.1?,
            gpp: signals.2?,
            consent_mode: signals.3?,
            cookieconsent: signals.4?,
            klaro: signals.5?,
        })
    }

    fn tcf(&mut self, v: Option<&Value>) -> Option<Option<TcfConfig>> {
        const PATH: &str = "$.signals.tcf";
        match v {
            None | Some(Value::Bool(false)) => Some(None),
            Some(Value::Bool(true)) => Some(Some(TcfConfig { gdpr_applies: false, vendor_id: None })),
            Some(Value::Object(_)) => {
                let m = self.object(v, PATH, &["gdpr_applies", "vendor_id"])?;
                let gdpr_applies = self.boolean(m, "gdpr_applies", PATH, Some(false));
                let vendor_id = match m.get("vendor_id") {
                    None | Some(Value::Null) => Some(None),
                    Some(_) => self.integer(m, "vendor_id", PATH, 1, u32::MAX as u64, None).map(|n| Some(n as u32)),
                };
                Some(Some(TcfConfig { gdpr_applies: gdpr_applies?, vendor_id: vendor_id? }))
            }
            other => {
                self.fail(PATH.into(), "a boolean or an object with gdpr_applies and vendor_id", other);
                None
            }
        }
    }
}
