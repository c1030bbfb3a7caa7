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
//!
//! ## The state is bound to the ledger
//! `choice`, `gpc` and `seen` are a cache of what the ledger logs, and must agree
//! with it exactly, or the whole record is discarded (see [`Record::parse`]):
//! - a granted or denied `choice` is the last explicit decision about the purpose in
//!   the ledger (api, accept_all, reject_all, custom or revocation), not lapsed by a
//!   later notice change: same state, source (= method), time, notice text hash,
//!   rules revision and GPC override; its `exp` is within 13 months of it (the one
//!   logged when the choice was in force at once); a lapsed or absent choice needs
//!   a lapse logged after the last explicit decision, or none in the ledger;
//! - `gpc` is the last GPC record, unless a later expiry lapsed it; removing it needs
//!   that lapse too;
//! - each `seen` pair is what the last record of that signal decided.
//!
//! No time in the record or its ledger may be in the future (beyond
//! [`super::CLOCK_SKEW_MS`]), no expiry further than 13 months from its decision, and
//! no JSON object may repeat a key. The ledger keeps the records the state rests on
//! when it prunes (see [`Ledger::prune`]); a state whose record was pruned anyway
//! (by an older release, or past the allowance) can only be checked if it grants
//! nothing: a grant with no record in the ledger is refused.
//!
//! What this achieves: anyone who can write this storage key can still write a whole
//! record with a coherent, re-hashed ledger (there is no secret), but they can no
//! longer make the state say what the ledger does not: a forged grant needs a forged
//! ledger record, which the ledger export then shows.

use super::config::{join, Decoder};
use super::ledger::{is_choice, Ledger, LedgerError, LedgerRecord};
use super::{duplicate_key, parse_rfc3339, rfc3339, to_json, Purpose, Source, State, CLOCK_SKEW_MS, MAX_LIFETIME_MS};
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

    /// Reads a stored record at `now_ms`: any deviation from the format, a ledger
    /// that fails verification, or a state that disagrees with its ledger (see the
    /// module documentation) is an error.
    pub fn parse(text: &str, now_ms: u64) -> Result<Record, RecordError> {
        let v = json::parse(text).map_err(|e| RecordError { message: e.to_string() })?;
        if let Some(path) = duplicate_key(text) {
            return Err(RecordError { message: format!("{path}: a key appears twice in one object") });
        }
        let record = Record::decode(&v)?;
        record.check(now_ms).map_err(|message| RecordError { message })?;
        Ok(record)
    }

    fn decode(v: &Value) -> Result<Record, RecordError> {
        let mut d = Decoder::default();
        let record = decode(&mut d, v);
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

    /// Checks the state against the ledger, and every time against `now`.
    fn check(&self, now: u64) -> Result<(), String> {
        let ledger = &self.ledger;
        let records = &ledger.records;
        let pruned = ledger.dropped > 0;
        let time = |k: usize| parse_rfc3339(&records[k].time).unwrap_or_default(); // verified
        let future = |t: u64| t > now.saturating_add(CLOCK_SKEW_MS);
        if let Some(last) = ledger.last_time().filter(|&t| future(t)) {
            return Err(format!("ledger: the last record is dated {}, in the future", rfc3339(last)));
        }
        let within = |at: u64, exp: u64| exp > at && exp - at <= MAX_LIFETIME_MS;
        let history = History::of(ledger);
        for p in Purpose::ALL {
            let i = p.index();
            let path = format!("$.{}.choice", p.name());
            let basis = history.choice[i];
            let says = |k: usize| {
                let r = &records[k];
                format!("the ledger's last decision about {} (record {k}, {}, {})", p.name(), r.method.name(), r.time)
            };
            match &self.choice[i] {
                Some(d) if d.state != State::NotAsked => {
                    let Some(k) = basis.filter(|_| !history.choice_lapsed[i]) else {
                        // A refusal whose record was pruned cannot be checked, but it
                        // grants nothing; a grant must show its record.
                        if basis.is_none() && pruned && d.state == State::Denied {
                            continue;
                        }
                        return Err(match basis {
                            Some(k) => {
                                format!("{path}: says {}, but {} was lapsed by a later record", d.state.name(), says(k))
                            }
                            None => format!(
                                "{path}: says {}, but the ledger holds no decision about {}",
                                d.state.name(),
                                p.name()
                            ),
                        });
                    };
                    let r = &records[k];
                    let e = &r.purposes[i];
                    let override_logged = p == Purpose::Personalization && r.gpc_override;
                    let agrees = e.decided == Some(d.state)
                        && r.method == d.source
                        && time(k) == d.at
                        && r.text_sha256[i] == d.text
                        && r.rules_revision == d.rev
                        && override_logged == d.gpc_override;
                    if !agrees {
                        return Err(format!(
                            "{path}: {} {} at {} disagrees with {}",
                            d.state.name(),
                            d.source.name(),
                            rfc3339(d.at),
                            says(k)
                        ));
                    }
                    let exp = d.exp.unwrap_or_default(); // a decision always has one
                    let logged = e.expires.as_deref().filter(|_| e.source == r.method).and_then(parse_rfc3339);
                    if !within(d.at, exp) || logged.is_some_and(|l| l != exp) {
                        return Err(format!("{path}.exp: {exp} is not the expiry of {}", says(k)));
                    }
                }
                lapsed => {
                    if let Some(at) = lapsed.as_ref().map(|d| d.at).filter(|&t| future(t)) {
                        return Err(format!("{path}.at: {at} is in the future"));
                    }
                    if let Some(k) = basis.filter(|_| !history.choice_may_have_lapsed[i]) {
                        let what = lapsed.as_ref().map_or("null", |_| "not asked");
                        return Err(format!("{path}: is {what}, but {} logs no lapse after it", says(k)));
                    }
                }
            }
        }
        match (self.gpc, history.gpc.filter(|_| !history.gpc_lapsed)) {
            (Some((at, exp)), Some(k)) => {
                let r = &records[k];
                let logged = r.purposes[0].expires.as_deref().filter(|_| r.purposes[0].source == Source::Gpc);
                if time(k) != at || !within(at, exp) || logged.and_then(parse_rfc3339).is_some_and(|l| l != exp) {
                    return Err(format!("$.gpc: does not match the ledger's last GPC record (record {k}, {})", r.time));
                }
            }
            // Pruned: a remembered opt-out refuses, it cannot grant.
            (Some((at, exp)), None) if pruned && history.gpc.is_none() => {
                if future(at) || !within(at, exp) {
                    return Err("$.gpc: not a GPC opt-out remembered for at most 13 months".into());
                }
            }
            (Some(_), None) => return Err("$.gpc: a GPC opt-out the ledger does not log (or logs as lapsed)".into()),
            (None, Some(k)) => {
                return Err(format!("$.gpc: null, but the ledger's GPC opt-out (record {k}) has not lapsed"))
            }
            (None, None) => {}
        }
        for (c, (channel, seen)) in CHANNELS.iter().zip(&self.seen).enumerate() {
            let logged = match history.seen[c] {
                Some(k) => records[k].purposes.each_ref().map(|e| e.decided),
                None if pruned => continue,
                None => [None, None],
            };
            if logged != *seen {
                return Err(format!(
                    "$.seen.{}: differs from the last {} answer the ledger logs",
                    channel.name(),
                    channel.name()
                ));
            }
        }
        Ok(())
    }

    /// The index of the oldest kept ledger record the current state rests on: the
    /// record of each standing choice, of the remembered GPC opt-out and of each
    /// remembered signal answer. [`Ledger::prune`] keeps it.
    pub fn oldest_basis(&self) -> Option<usize> {
        let h = History::of(&self.ledger);
        let choices = Purpose::ALL.into_iter().filter_map(|p| {
            let i = p.index();
            self.choice[i].as_ref().filter(|d| d.state != State::NotAsked).and(h.choice[i])
        });
        let gpc = self.gpc.and(h.gpc);
        let seen = self.seen.iter().zip(h.seen).filter_map(|(s, k)| k.filter(|_| *s != [None, None]));
        choices.chain(gpc).chain(seen).min()
    }

    /// Whether the granted or denied choice about `purpose` still has its ledger record.
    pub fn choice_has_basis(&self, purpose: Purpose) -> bool {
        History::of(&self.ledger).choice[purpose.index()].is_some()
    }
}

/// Where, in the kept ledger, each part of the persisted state was last decided.
#[derive(Default)]
struct History {
    /// The last explicit decision (granted or denied) about each purpose.
    choice: [Option<usize>; 2],
    /// A record after it certainly lapsed that decision: a notice change; an expiry
    /// of measurement; an expiry of personalization after which it is back to
    /// not asked by expiry. (An expiry record also logs a GPC opt-out lapsing, with
    /// personalization still decided by a standing choice.)
    choice_lapsed: [bool; 2],
    /// A record after it may have lapsed that decision: any expiry or notice change
    /// returning the purpose to not asked.
    choice_may_have_lapsed: [bool; 2],
    /// The last GPC record.
    gpc: Option<usize>,
    /// An expiry after it lapsed the opt-out: personalization returned to not asked
    /// and GPC no longer decides it (while an opt-out stands, it decides unless a
    /// standing choice refuses or an explicit grant overrode it).
    gpc_lapsed: bool,
    /// The last record of each live signal, in [`CHANNELS`] order.
    seen: [Option<usize>; 5],
}

impl History {
    fn of(ledger: &Ledger) -> History {
        let mut h = History::default();
        for (k, r) in ledger.records.iter().enumerate() {
            let decided = |i: usize| r.purposes[i].decided;
            for i in 0..2 {
                let lapse = decided(i) == Some(State::NotAsked);
                if is_choice(r.method) && decided(i).is_some() {
                    h.choice[i] = Some(k);
                    h.choice_lapsed[i] = false;
                    h.choice_may_have_lapsed[i] = false;
                } else if lapse && h.choice[i].is_some() {
                    h.choice_may_have_lapsed[i] = true;
                    h.choice_lapsed[i] |= r.method == Source::NoticeChange || i == 1 || certainly_lapsed(r);
                }
            }
            match r.method {
                Source::Gpc => (h.gpc, h.gpc_lapsed) = (Some(k), false),
                Source::Expiry if h.gpc.is_some() && decided(0) == Some(State::NotAsked) => {
                    h.gpc_lapsed |= r.purposes[0].source != Source::Gpc
                }
                method => {
                    if let Some(c) = CHANNELS.iter().position(|&c| c == method) {
                        h.seen[c] = Some(k);
                    }
                }
            }
        }
        h
    }
}

/// Whether an expiry record about personalization lapsed its choice: personalization
/// is then decided by nothing but that expiry.
fn certainly_lapsed(r: &LedgerRecord) -> bool {
    r.purposes[0].source == Source::Expiry
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
    // A decision comes from an explicit choice, a lapse from an expiry or notice change.
    let lapse = matches!(decision.source, Source::Expiry | Source::NoticeChange);
    if (decision.state == State::NotAsked) != lapse || !(lapse || is_choice(decision.source)) {
        let expected = "a choice method (api, accept_all, reject_all, custom, revocation), or expiry or notice_change for not_asked";
        d.fail(join(path, "source"), expected, o.get("source"));
        return None;
    }
    if decision.gpc_override && !path.starts_with("$.personalization") {
        d.fail(
            join(path, "gpc_override"),
            "false (only a grant of personalization overrides GPC)",
            o.get("gpc_override"),
        );
        return None;
    }
    Some(decision)
}
