//! The consent ledger: one immutable record per consent decision, chained by SHA-256,
//! exported as JSON (schema: `pkg/consent-ledger.schema.json`).
//!
//! ## Export format (version 1)
//! ```json
//! { "format": "tailor-consent-ledger", "version": 1,
//!   "dropped": 0, "checkpoint": "000…0", "head": "<hash of the last record>",
//!   "records": [ { "seq": 0, "id": "…", "time": "2026-03-01T12:00:00.000Z", … , "prev": "000…0" } ] }
//! ```
//! A record holds: `seq` (its position since the first record ever), `id` (32 hex
//! digits from 16 random input bytes), `time` (RFC 3339 UTC with milliseconds),
//! `method` (a [`Source`] name: api, accept_all, reject_all, custom, revocation, gpc,
//! tcf, gpp, consent_mode, cookieconsent, klaro, expiry, notice_change), `purposes`
//! (for each purpose: `decided`, what this decision said about it or null; `state`,
//! `source` and `expires`, the effective outcome), `signals` (the GPC value, TC string
//! and GPP string seen on the page, or null), `notice` (`version` and the SHA-256 of
//! each purpose's text), `rules_revision`, `sdk_version`, `gpc_override` (an explicit
//! grant overriding a remembered GPC opt-out) and `prev`. No interaction data.
//!
//! ## Canonical form and the chain
//! The canonical form of a record is the compact JSON the crate's writer produces for
//! the record object with its members in exactly the order listed in the export (seq,
//! id, time, method, purposes{personalization, measurement}{decided, state, source,
//! expires}, signals{gpc, tc_string, gpp_string}, notice{version,
//! personalization_sha256, measurement_sha256}, rules_revision, sdk_version,
//! gpc_override, prev): no whitespace; strings escape only `"`, `\` and U+0000–U+001F
//! (`\b \f \n \r \t`, others `\u00xx` in lowercase hex), all else raw UTF-8; numbers are
//! plain decimal integers. This is what `JSON.stringify(record)` gives for a record
//! parsed from an export, so a JavaScript auditor can check the chain with
//! `crypto.subtle.digest`. A record's hash is the lowercase hex SHA-256 of the UTF-8
//! bytes of its canonical form; each record's `prev` is the hash of the record before
//! it, and the first record ever has 64 zeros.
//!
//! ## Bound
//! At most `ledger_limit` records (default 50) are kept. When the oldest goes,
//! `dropped` counts it and `checkpoint` takes its hash (= the `prev` of the new first
//! record), so the kept records still verify, with `seq` continuing from `dropped`.
//!
//! ## What verification detects, and what it cannot
//! Detected, naming the record index: an edited record (the next record's `prev`, or
//! `head` for the last one, no longer matches); reordered records (`seq` out of
//! order); a record removed in the middle (`seq` gap); records removed from the start
//! (the first `seq` differs from `dropped`, or `prev` from `checkpoint`); records
//! removed from the end (`head` no longer matches); unknown, missing or repeated
//! fields. Then, once the chain holds, what the records say: times going backwards,
//! and records that contradict themselves or the records before them, which the
//! engine never writes (see `contradiction`); so an edit whose hashes were recomputed
//! must still tell a coherent story.
//! Not detectable: a consistent rewrite by someone who recomputes every hash after an
//! edit (there is no secret key), which includes presenting a truncated start as
//! ordinary pruning by also editing `dropped` and `checkpoint`. The chain proves
//! integrity against accidental and naive edits; noting `head` somewhere else (the
//! privacy centre shows it, an auditor keeps it) makes every record up to that head
//! tamper-evident for good.

use super::config::{join, Decoder};
use super::{duplicate_key, parse_rfc3339, sha256_hex, to_json, Purpose, Source, State, MAX_LIFETIME_MS};
use crate::json::{self, Map, Value};

/// `format` member of an export.
pub const FORMAT: &str = "tailor-consent-ledger";
/// `version` member of an export.
pub const FORMAT_VERSION: u64 = 1;
/// `prev` of the first record ever, and `checkpoint` before any pruning.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const MAX_SAFE: u64 = (1 << 53) - 1;
/// How many records beyond `ledger_limit` may be kept because the stored consent state
/// still rests on an older one (a choice, a GPC opt-out or a CMP answer logged before
/// them). Only a CMP changing its answer that often while one choice stands reaches it.
pub(crate) const PIN_ALLOWANCE: usize = 50;
pub(crate) const RECORD_FIELDS: &[&str] = &[
    "seq",
    "id",
    "time",
    "method",
    "purposes",
    "signals",
    "notice",
    "rules_revision",
    "sdk_version",
    "gpc_override",
    "prev",
];

/// What a record says about one purpose.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PurposeEntry {
    pub decided: Option<State>,
    pub state: State,
    pub source: Source,
    pub expires: Option<String>,
}

/// One ledger record (see the module documentation for the fields).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LedgerRecord {
    pub seq: u64,
    pub id: String,
    pub time: String,
    pub method: Source,
    pub purposes: [PurposeEntry; 2],
    pub gpc: Option<bool>,
    pub tc_string: Option<String>,
    pub gpp_string: Option<String>,
    pub notice_version: String,
    pub text_sha256: [String; 2],
    pub rules_revision: String,
    pub sdk_version: String,
    pub gpc_override: bool,
    pub prev: String,
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, Value::from)
}

impl LedgerRecord {
    /// The record as a JSON object, members in canonical order.
    pub fn to_value(&self) -> Value {
        let mut purposes = Map::new();
        for p in Purpose::ALL {
            let e = &self.purposes[p.index()];
            let mut o = Map::new();
            o.insert("decided", e.decided.map_or(Value::Null, |s| s.name().into()));
            o.insert("state", e.state.name().into());
            o.insert("source", e.source.name().into());
            o.insert("expires", opt_str(&e.expires));
            purposes.insert(p.name(), o.into());
        }
        let mut signals = Map::new();
        signals.insert("gpc", self.gpc.map_or(Value::Null, Value::Bool));
        signals.insert("tc_string", opt_str(&self.tc_string));
        signals.insert("gpp_string", opt_str(&self.gpp_string));
        let mut notice = Map::new();
        notice.insert("version", self.notice_version.as_str().into());
        notice.insert("personalization_sha256", self.text_sha256[0].as_str().into());
        notice.insert("measurement_sha256", self.text_sha256[1].as_str().into());
        let mut m = Map::new();
        m.insert("seq", (self.seq as f64).into());
        m.insert("id", self.id.as_str().into());
        m.insert("time", self.time.as_str().into());
        m.insert("method", self.method.name().into());
        m.insert("purposes", purposes.into());
        m.insert("signals", signals.into());
        m.insert("notice", notice.into());
        m.insert("rules_revision", self.rules_revision.as_str().into());
        m.insert("sdk_version", self.sdk_version.as_str().into());
        m.insert("gpc_override", self.gpc_override.into());
        m.insert("prev", self.prev.as_str().into());
        Value::Object(m)
    }

    /// Hex SHA-256 of the canonical form.
    pub fn hash(&self) -> String {
        sha256_hex(to_json(&self.to_value()).as_bytes())
    }
}

/// The kept records and what stands for the pruned ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ledger {
    pub dropped: u64,
    pub checkpoint: String,
    pub records: Vec<LedgerRecord>,
    pub head: String,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger { dropped: 0, checkpoint: GENESIS.into(), records: Vec::new(), head: GENESIS.into() }
    }

    /// Appends `record` (its `seq` and `prev` are set here). See [`Ledger::prune`].
    pub fn append(&mut self, mut record: LedgerRecord) {
        record.seq = self.dropped + self.records.len() as u64;
        record.prev = core::mem::take(&mut self.head);
        self.head = record.hash();
        self.records.push(record);
    }

    /// Drops the oldest records beyond `limit`, but not the record at index `keep` or
    /// any after it (the oldest record the stored consent state rests on, so that the
    /// state can still be checked against it), unless that would keep more than
    /// `limit + PIN_ALLOWANCE` records.
    pub fn prune(&mut self, limit: usize, keep: Option<usize>) {
        let limit = limit.max(1);
        let len = self.records.len();
        let excess =
            len.saturating_sub(limit).min(keep.unwrap_or(usize::MAX)).max(len.saturating_sub(limit + PIN_ALLOWANCE));
        if excess > 0 {
            self.records.drain(..excess);
            self.dropped += excess as u64;
            self.checkpoint = self.records[0].prev.clone();
        }
    }

    /// The time of the last record, in ms since the epoch.
    pub fn last_time(&self) -> Option<u64> {
        self.records.last().and_then(|r| parse_rfc3339(&r.time))
    }

    /// The export object.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("format", FORMAT.into());
        m.insert("version", (FORMAT_VERSION as f64).into());
        m.insert("dropped", (self.dropped as f64).into());
        m.insert("checkpoint", self.checkpoint.as_str().into());
        m.insert("head", self.head.as_str().into());
        m.insert("records", Value::Array(self.records.iter().map(LedgerRecord::to_value).collect()));
        Value::Object(m)
    }

    /// Decodes an export and verifies it completely.
    pub fn from_value(v: &Value) -> Result<Ledger, LedgerError> {
        let mut d = Decoder::default();
        let fields = &["format", "version", "dropped", "checkpoint", "head", "records"];
        let envelope = d.object(Some(v), "$", fields).and_then(|m| {
            let format = d.string(m, "format", "$");
            let version = d.integer(m, "version", "$", 0, MAX_SAFE, None);
            let dropped = d.integer(m, "dropped", "$", 0, MAX_SAFE, None);
            let checkpoint = hex_field(&mut d, m, "checkpoint", "$", 64);
            let head = hex_field(&mut d, m, "head", "$", 64);
            let records = match m.get("records") {
                Some(Value::Array(a)) => Some(a),
                other => {
                    d.fail("$.records".into(), "an array", other);
                    None
                }
            };
            Some((format?, version?, dropped?, checkpoint?, head?, records?))
        });
        if let Some(p) = d.problems.first() {
            let message = format!("{}: expected {}, found {}", p.path, p.expected, p.found);
            return Err(LedgerError { index: None, kind: LedgerErrorKind::Format, message });
        }
        let Some((format, version, dropped, checkpoint, head, items)) = envelope else {
            return Err(LedgerError { index: None, kind: LedgerErrorKind::Format, message: "not a ledger".into() });
        };
        let envelope_error =
            |message: &str| LedgerError { index: None, kind: LedgerErrorKind::Format, message: message.into() };
        if format != FORMAT || version != FORMAT_VERSION {
            return Err(envelope_error("not a version 1 tailor-consent-ledger export (format, version)"));
        }
        if dropped == 0 && checkpoint != GENESIS {
            return Err(envelope_error("checkpoint must be 64 zeros when no record was dropped"));
        }

        let mut records = Vec::with_capacity(items.len());
        let mut expected_prev = checkpoint.clone();
        for (i, item) in items.iter().enumerate() {
            let fail = |kind, message: String| Err(LedgerError { index: Some(i), kind, message });
            let path = format!("$.records[{i}]");
            let decoded = decode_record(&mut d, item, &path);
            let Some(r) = decoded.filter(|_| d.problems.is_empty()) else {
                let p = &d.problems[0];
                return fail(
                    LedgerErrorKind::Record,
                    format!("{}: expected {}, found {}", p.path, p.expected, p.found),
                );
            };
            let want = dropped + i as u64;
            if r.seq != want {
                return fail(
                    LedgerErrorKind::Sequence,
                    format!("seq is {}, expected {want}: a record was removed, added or moved", r.seq),
                );
            }
            if r.prev != expected_prev {
                let message = if i == 0 {
                    "prev does not match the checkpoint: records were removed from the start".to_string()
                } else {
                    format!("prev does not match the SHA-256 of record {}: that record was edited", i - 1)
                };
                return fail(LedgerErrorKind::Chain, message);
            }
            expected_prev = r.hash();
            records.push(r);
        }
        if head != expected_prev {
            let (index, message) = match records.len() {
                0 => (None, "head does not match the checkpoint: records were removed".to_string()),
                n => (
                    Some(n - 1),
                    "head does not match the SHA-256 of the last record: it was edited, or records were removed from the end".into(),
                ),
            };
            return Err(LedgerError { index, kind: LedgerErrorKind::Head, message });
        }
        // Then what the records say, once the chain shows they are as written: an edit
        // that left the hashes stale is reported as an edit (chain, head), one whose
        // hashes were recomputed by what it contradicts.
        let mut prev_time = None;
        let mut last_choice: [Option<(Source, State)>; 2] = [None, None];
        let mut seen_gpc = false;
        for (i, r) in records.iter().enumerate() {
            let time = parse_rfc3339(&r.time).unwrap_or_default(); // checked by decode_record
            if let Err((kind, message)) = contradiction(r, time, prev_time) {
                return Err(LedgerError { index: Some(i), kind, message });
            }
            // A state a record says came from a choice (or GPC) is that of the last
            // choice (or a GPC record) logged up to it; only pruning hides one.
            if is_choice(r.method) {
                for (last, e) in last_choice.iter_mut().zip(&r.purposes) {
                    if let Some(d) = e.decided {
                        *last = Some((r.method, d));
                    }
                }
            }
            seen_gpc |= r.method == Source::Gpc;
            for p in Purpose::ALL {
                let e = &r.purposes[p.index()];
                let backed = match last_choice[p.index()] {
                    _ if !is_choice(e.source) => e.source != Source::Gpc || seen_gpc || dropped > 0,
                    Some(choice) => choice == (e.source, e.state),
                    None => dropped > 0,
                };
                if !backed {
                    let message = format!(
                        "purposes.{}: {} from {}, which is not the last decision logged before it",
                        p.name(),
                        e.state.name(),
                        e.source.name()
                    );
                    return Err(LedgerError { index: Some(i), kind: LedgerErrorKind::Record, message });
                }
            }
            prev_time = Some(time);
        }
        Ok(Ledger { dropped, checkpoint, records, head })
    }
}

/// Why a ledger export failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerError {
    /// Index in `records` of the record whose check failed; `None` for the envelope.
    pub index: Option<usize>,
    /// Which check failed.
    pub kind: LedgerErrorKind,
    /// What failed, readable.
    pub message: String,
}

/// The check a ledger export failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerErrorKind {
    /// Not JSON.
    Syntax,
    /// The envelope: missing/unknown members, wrong format or version.
    Format,
    /// A record has a missing, unknown, repeated or mistyped field, or contradicts
    /// itself or the records before it (a refusal that does not deny, an expiry more
    /// than 13 months after the record, a state said to come from a choice that is not
    /// the last one logged, …). Checked once the chain holds: an edit that left the
    /// hashes stale is reported as `chain` or `head`.
    Record,
    /// A record's `seq` is not its position (removed, added or moved records), or its
    /// time is before the previous record's.
    Sequence,
    /// A record's `prev` is not the hash of the record before it (or the checkpoint).
    Chain,
    /// `head` is not the hash of the last record.
    Head,
}

impl LedgerErrorKind {
    /// The name used in JSON: syntax, format, record, sequence, chain or head.
    pub fn name(self) -> &'static str {
        match self {
            LedgerErrorKind::Syntax => "syntax",
            LedgerErrorKind::Format => "format",
            LedgerErrorKind::Record => "record",
            LedgerErrorKind::Sequence => "sequence",
            LedgerErrorKind::Chain => "chain",
            LedgerErrorKind::Head => "head",
        }
    }
}

impl core::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.index {
            Some(i) => write!(f, "ledger record {i}: {}", self.message),
            None => write!(f, "ledger: {}", self.message),
        }
    }
}

/// Verifies a ledger export: envelope, every record's fields, sequence, hash chain and
/// head. Returns the number of records kept in it.
pub fn verify_ledger(json_text: &str) -> Result<usize, LedgerError> {
    let v = json::parse(json_text).map_err(|e| LedgerError {
        index: None,
        kind: LedgerErrorKind::Syntax,
        message: e.to_string(),
    })?;
    if let Some(path) = duplicate_key(json_text) {
        return Err(duplicate_error(&path));
    }
    Ledger::from_value(&v).map(|l| l.records.len())
}

/// The error for a duplicate key at `path` (a path in the export): kind `record` with
/// the record's index inside `$.records[i]`, `format` elsewhere.
pub(crate) fn duplicate_error(path: &str) -> LedgerError {
    let index =
        path.strip_prefix("$.records[").and_then(|rest| rest.split(']').next()).and_then(|n| n.parse::<usize>().ok());
    let kind = if index.is_some() { LedgerErrorKind::Record } else { LedgerErrorKind::Format };
    let message = format!("{path}: a key appears twice in one object (only one of them would be read)");
    LedgerError { index, kind, message }
}

/// The explicit choice methods: a visitor's own decision, persisted as a choice.
pub(crate) fn is_choice(method: Source) -> bool {
    matches!(method, Source::Api | Source::AcceptAll | Source::RejectAll | Source::Custom | Source::Revocation)
}

/// What a record contradicts in itself, or about the record before it (logged at
/// `prev_time`): things the engine never writes, so that an edit which keeps the
/// chain intact (all hashes recomputed) still has to tell a coherent story. The
/// rules follow how the engine decides (see the parent module): a refusal always
/// wins, so a purpose a record refuses is denied after it; only a choice or a GPC
/// opt-out has an expiry, within 13 months of the record; each method decides only
/// what it can (GPC and GPP speak for personalization alone and only refuse, a
/// revocation only refuses, an expiry or notice change only returns to not asked).
fn contradiction(r: &LedgerRecord, time: u64, prev_time: Option<u64>) -> Result<(), (LedgerErrorKind, String)> {
    use State::{Denied, Granted, NotAsked};
    let record = |m: String| Err((LedgerErrorKind::Record, m));
    if prev_time.is_some_and(|p| time < p) {
        return Err((
            LedgerErrorKind::Sequence,
            "time is before the previous record's: records were moved or edited".into(),
        ));
    }
    let method = r.method;
    // What this method may say about a purpose (personalization, measurement).
    let may_decide = |p: Purpose, s: State| match method {
        Source::Gpc | Source::Gpp => p == Purpose::Personalization && s == Denied,
        Source::Revocation | Source::RejectAll => s == Denied,
        Source::AcceptAll => s == Granted,
        Source::Expiry | Source::NoticeChange => s == NotAsked,
        Source::Default => false,
        _ => s != NotAsked,
    };
    let decided = r.purposes.each_ref().map(|e| e.decided);
    let must_decide =
        !matches!(method, Source::Tcf | Source::Gpp | Source::ConsentMode | Source::CookieConsent | Source::Klaro);
    if must_decide && decided == [None, None] {
        return record(format!("method {} decides no purpose", method.name()));
    }
    if method == Source::Gpc && decided[0] != Some(Denied) {
        return record("method gpc must refuse personalization".into());
    }
    for p in Purpose::ALL {
        let e = &r.purposes[p.index()];
        let at = |what: &str| format!("purposes.{}: {what}", p.name());
        if let Some(d) = e.decided.filter(|&d| !may_decide(p, d)) {
            return record(at(&format!("method {} cannot decide {}", method.name(), d.name())));
        }
        let states: &[State] = match e.source {
            Source::Default | Source::Tcf => &[Granted, Denied, NotAsked],
            Source::Revocation | Source::RejectAll | Source::Gpc | Source::Gpp => &[Denied],
            Source::AcceptAll => &[Granted],
            Source::Expiry | Source::NoticeChange => &[NotAsked],
            _ => &[Granted, Denied],
        };
        if !states.contains(&e.state)
            || (matches!(e.source, Source::Gpc | Source::Gpp) && p != Purpose::Personalization)
        {
            return record(at(&format!("state {} cannot come from source {}", e.state.name(), e.source.name())));
        }
        // A refusal wins over every other voice (GPC excepted: an explicit grant made
        // over an earlier GPC opt-out still stands when GPC is seen again).
        if e.decided == Some(Denied) && e.state != Denied && method != Source::Gpc {
            return record(at(&format!("refused by this record, yet {}", e.state.name())));
        }
        let lasts = is_choice(e.source) || e.source == Source::Gpc;
        match e.expires.as_deref().map(parse_rfc3339) {
            None if lasts => return record(at(&format!("a state from {} must have an expiry", e.source.name()))),
            Some(_) if !lasts => return record(at(&format!("a state from {} has no expiry", e.source.name()))),
            Some(Some(exp)) if exp <= time || exp - time > MAX_LIFETIME_MS => {
                return record(at("expires is not within 13 months after the record's time"))
            }
            _ => {}
        }
    }
    if r.gpc_override && !(is_choice(method) && decided[0] == Some(Granted)) {
        return record("gpc_override without an explicit grant of personalization".into());
    }
    Ok(())
}

fn hex_field(d: &mut Decoder, m: &Map, key: &str, path: &str, len: usize) -> Option<String> {
    let s = d.string(m, key, path)?;
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Some(s)
    } else {
        let expected = format!("{len} lowercase hex digits");
        d.fail(join(path, key), &expected, m.get(key));
        None
    }
}

fn time_field(d: &mut Decoder, m: &Map, key: &str, path: &str, nullable: bool) -> Option<Option<String>> {
    let s = if nullable { d.opt_string(m, key, path)? } else { Some(d.string(m, key, path)?) };
    match s {
        Some(t) if parse_rfc3339(&t).is_none() => {
            d.fail(join(path, key), "an RFC 3339 UTC time like 2026-03-01T12:00:00.000Z", m.get(key));
            None
        }
        s => Some(s),
    }
}

fn named<T>(
    d: &mut Decoder,
    m: &Map,
    key: &str,
    path: &str,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Option<T> {
    let found = m.get(key).and_then(Value::as_str).and_then(parse);
    if found.is_none() {
        d.fail(join(path, key), expected, m.get(key));
    }
    found
}

/// Decodes one record strictly (exact fields, exact types), so that re-encoding it
/// gives the canonical form whatever the export's formatting or member order.
fn decode_record(d: &mut Decoder, v: &Value, path: &str) -> Option<LedgerRecord> {
    let m = d.object(Some(v), path, RECORD_FIELDS)?;
    let seq = d.integer(m, "seq", path, 0, MAX_SAFE, None);
    let id = hex_field(d, m, "id", path, 32);
    let time = time_field(d, m, "time", path, false);
    let method = named(d, m, "method", path, Source::from_name, "a method name such as \"api\" or \"tcf\"");

    let ppath = join(path, "purposes");
    let mut purposes = [None, None];
    if let Some(pm) = d.object(m.get("purposes"), &ppath, &["personalization", "measurement"]) {
        for p in Purpose::ALL {
            let path = join(&ppath, p.name());
            let Some(o) = d.object(pm.get(p.name()), &path, &["decided", "state", "source", "expires"]) else {
                continue;
            };
            let decided = match o.get("decided") {
                Some(Value::Null) => Some(None),
                _ => named(d, o, "decided", &path, State::from_name, "a state name or null").map(Some),
            };
            let state = named(d, o, "state", &path, State::from_name, "\"granted\", \"denied\" or \"not_asked\"");
            let source = named(d, o, "source", &path, Source::from_name, "a source name such as \"api\"");
            let expires = time_field(d, o, "expires", &path, true);
            purposes[p.index()] =
                (|| Some(PurposeEntry { decided: decided?, state: state?, source: source?, expires: expires? }))();
        }
    }

    let spath = join(path, "signals");
    let signals = d.object(m.get("signals"), &spath, &["gpc", "tc_string", "gpp_string"]).and_then(|sm| {
        let gpc = match sm.get("gpc") {
            Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            other => {
                d.fail(join(&spath, "gpc"), "a boolean or null", other);
                None
            }
        };
        let tc = d.opt_string(sm, "tc_string", &spath);
        let gpp = d.opt_string(sm, "gpp_string", &spath);
        Some((gpc?, tc?, gpp?))
    });

    let npath = join(path, "notice");
    let notice = d
        .object(m.get("notice"), &npath, &["version", "personalization_sha256", "measurement_sha256"])
        .and_then(|nm| {
            let version = d.string(nm, "version", &npath);
            let p = hex_field(d, nm, "personalization_sha256", &npath, 64);
            let m = hex_field(d, nm, "measurement_sha256", &npath, 64);
            Some((version?, [p?, m?]))
        });
    let rules_revision = d.string(m, "rules_revision", path);
    let sdk_version = d.string(m, "sdk_version", path);
    let gpc_override = d.boolean(m, "gpc_override", path, None);
    let prev = hex_field(d, m, "prev", path, 64);

    let [p0, p1] = purposes;
    let (gpc, tc_string, gpp_string) = signals?;
    let (notice_version, text_sha256) = notice?;
    Some(LedgerRecord {
        seq: seq?,
        id: id?,
        time: time??,
        method: method?,
        purposes: [p0?, p1?],
        gpc,
        tc_string,
        gpp_string,
        notice_version,
        text_sha256,
        rules_revision: rules_revision?,
        sdk_version: sdk_version?,
        gpc_override: gpc_override?,
        prev: prev?,
    })
}
