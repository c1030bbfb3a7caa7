//! The consent record: all the SDK persists about consent, and the only thing it may
//! read before consent. Compact JSON, versioned (`"v": 1`):
//!
//! ```json
//! { "v": 1,
//!   "personalization": { "choice": { "state": "granted", "source": "api", "at": 1767225600000,
//!                                    "exp": 1783036800000, "text": "<sha256>", "rev": "4",
//!                                    "gpc_override": false },
//!                        "data": true },
//!   "measurement": { "choice": null, "data": false },
//!   "gpc": { "at": 1767225600000, "exp": 1783036800000 },
//!   "seen": { "tcf": ["granted", "denied"], "gpp": [null, null], "consent_mode": [null, null],
//!             "cookieconsent": [null, null], "klaro": [null, null] },
//!   "ledger": { …the ledger export… } }
//! ```
//!
//! `choice` is the visitor's last explicit choice (or a not-asked marker saying why it
//! lapsed: expiry or notice change), bound to the notice text hash and rules revision
//! it was made under. `data` says the purpose's storage may hold something, so that a
//! refusal knows to delete it and a new grant knows to issue a new identifier. `gpc`
//! is the sticky GPC memory. `seen` is the last answer of each live signal, used only to
//! avoid logging the same answer on every page view. The record holds no identifier
//! and no interaction data. Anything that does not decode exactly, including a ledger
//! that fails verification, discards the whole record.

use super::config::{join, Decoder};
use super::ledger::{Ledger, LedgerError};
use super::{to_json, Purpose, Source, State};
use crate::json::{self, Map, Value};

/// Record format version.
const VERSION: u64 = 1;
const MAX_SAFE: u64 = (1 << 53) - 1;

/// The live signals whose last answer is remembered, in `seen` order.
pub(crate) const CHANNELS: [Source; 5] =
    [Source::Tcf, Source::Gpp, Source::ConsentMode, Source::CookieConsent, Source::Klaro];

/// The stored consent record could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// What was wrong, e.g. `$.personalization.choice.at: expected an integer …`.
    pub message: String,
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the stored consent record was discarded: {}", self.message)
    }
}

/// An explicit choice, or a not-asked marker (`state` NotAsked, no `exp`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub state: State,
    pub source: Source,
    pub at: u64,
    pub exp: Option<u64>,
    /// Hex SHA-256 of the purpose's notice text it was made under.
    pub text: String,
    /// Rules consent revision it was made under.
    pub rev: String,
    /// A personalization grant made while a GPC opt-out was remembered.
    pub gpc_override: bool,
}

impl Decision {
    /// The marker left when a decision lapses.
    pub fn lapsed(source: Source, at: u64) -> Decision {
        Decision {
            state: State::NotAsked,
            source,
            at,
            exp: None,
            text: String::new(),
            rev: String::new(),
            gpc_override: false,
        }
    }
}

/// The persisted consent state (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub choice: [Option<Decision>; 2],
    pub data: [bool; 2],
    /// Remembered GPC opt-out: (first seen, expires).
    pub gpc: Option<(u64, u64)>,
    pub seen: [[Option<State>; 2]; 5],
    pub ledger: Ledger,
}

fn num(n: u64) -> Value {
    Value::Number(n as f64)
}

impl Record {
    pub fn new() -> Record {
        Record { choice: [None, None], data: [false; 2], gpc: None, seen: [[None; 2]; 5], ledger: Ledger::new() }
    }

    /// Compact JSON.
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("v", num(VERSION));
        for p in Purpose::ALL {
            let choice = match &self.choice[p.index()] {
                None => Value::Null,
                Some(d) => {
                    let mut o = Map::new();
                    o.insert("state", d.state.name().into());
                    o.insert("source", d.source.name().into());
                    o.insert("at", num(d.at));
                    o.insert("exp", d.exp.map_or(Value::Null, num));
                    o.insert("text", d.text.as_str().into());
                    o.insert("rev", d.rev.as_str().into());
                    o.insert("gpc_override", d.gpc_override.into());
                    o.into()
                }
            };
            let mut o = Map::new();
            o.insert("choice", choice);
            o.insert("data", self.data[p.index()].into());
            m.insert(p.name(), o.into());
        }
        m.insert(
            "gpc",
            self.gpc.map_or(Value::Null, |(at, exp)| {
                let mut o = Map::new();
                o.insert("at", num(at));
                o.insert("exp", num(exp));
                o.into()
            }),
        );
        let mut seen = Map::new();
        for (c, states) in CHANNELS.iter().zip(&self.seen) {
            let pair = states.iter().map(|s| s.map_or(Value::Null, |s| s.name().into())).collect::<Vec<_>>();
            seen.insert(c.name(), pair.into());
        }
        m.insert("seen", seen.into());
        m.insert("ledger", self.ledger.to_value());
        to_json(&Value::Object(m))
    }

    /// Reads a stored record; any deviation from the format is an error.
    pub fn parse(text: &str) -> Result<Record, RecordError> {
        let v = json::parse(text).map_err(|e| RecordError { message: e.to_string() })?;
        let mut d = Decoder::default();
        let record = decode(&mut d, &v);
        if let Some(p) = d.problems.first() {
            return Err(RecordError { message: format!("{}: expected {}, found {}", p.path, p.expected, p.found) });
        }
        let ledger = Ledger::from_value(v.get("ledger").unwrap_or(&Value::Null))
            .map_err(|e: LedgerError| RecordError { message: e.to_string() })?;
        match record {
            Some(mut r) => {
                r.ledger = ledger;
                Ok(r)
            }
            None => Err(RecordError { message: "not a consent record".into() }),
        }
    }
}

fn decode(d: &mut Decoder, v: &Value) -> Option<Record> {
    let m = d.object(Some(v), "$", &["v", "personalization", "measurement", "gpc", "seen", "ledger"])?;
    // A record from another version: nothing else in it can be trusted.
    d.integer(m, "v", "$", VERSION, VERSION, None)?;
    let mut r = Record::new();
    let mut ok = true;
    for p in Purpose::ALL {
        let path = join("$", p.name());
        let Some(o) = d.object(m.get(p.name()), &path, &["choice", "data"]) else { continue };
        match o.get("choice") {
            Some(Value::Null) => {}
            c => r.choice[p.index()] = decision(d, c, &join(&path, "choice")),
        }
        match d.boolean(o, "data", &path, None) {
            Some(b) => r.data[p.index()] = b,
            None => ok = false,
        }
    }
    match m.get("gpc") {
        Some(Value::Null) => {}
        g => {
            if let Some(o) = d.object(g, "$.gpc", &["at", "exp"]) {
                let at = d.integer(o, "at", "$.gpc", 0, MAX_SAFE, None);
                let exp = d.integer(o, "exp", "$.gpc", 0, MAX_SAFE, None);
                r.gpc = at.zip(exp);
            }
        }
    }
    let names = CHANNELS.map(Source::name);
    if let Some(o) = d.object(m.get("seen"), "$.seen", &names) {
        for (i, name) in names.iter().enumerate() {
            let pair = o.get(name).and_then(Value::as_array).filter(|a| a.len() == 2);
            let states = pair.map(|a| {
                a.iter().map(|s| match s {
                    Value::Null => Some(None),
                    s => s.as_str().and_then(State::from_name).filter(|s| *s != State::NotAsked).map(Some),
                })
            });
            match states.map(|mut it| (it.next().flatten(), it.next().flatten())) {
                Some((Some(a), Some(b))) => r.seen[i] = [a, b],
                _ => d.fail(join("$.seen", name), "[state, state] with \"granted\", \"denied\" or null", o.get(name)),
            }
        }
    }
    ok.then_some(r)
}

fn decision(d: &mut Decoder, v: Option<&Value>, path: &str) -> Option<Decision> {
    let o = d.object(v, path, &["state", "source", "at", "exp", "text", "rev", "gpc_override"])?;
    let all = [State::Granted, State::Denied, State::NotAsked];
    let state = d.state(o, "state", path, &all, "\"granted\", \"denied\" or \"not_asked\"");
    let source = o.get("source").and_then(Value::as_str).and_then(Source::from_name);
    if source.is_none() {
        d.fail(join(path, "source"), "a source name such as \"api\"", o.get("source"));
    }
    let at = d.integer(o, "at", path, 0, MAX_SAFE, None);
    let exp = match o.get("exp") {
        Some(Value::Null) => Some(None),
        _ => d.integer(o, "exp", path, 0, MAX_SAFE, None).map(Some),
    };
    let text = d.string(o, "text", path);
    let rev = d.string(o, "rev", path);
    let gpc_override = d.boolean(o, "gpc_override", path, None);
    let decision = Decision {
        state: state?,
        source: source?,
        at: at?,
        exp: exp?,
        text: text?,
        rev: rev?,
        gpc_override: gpc_override?,
    };
    // A real decision always expires; only a lapsed marker has none.
    if (decision.state == State::NotAsked) != decision.exp.is_none() {
        d.fail(join(path, "exp"), "an expiry for a decision, null for not_asked", o.get("exp"));
        return None;
    }
    Some(decision)
}
