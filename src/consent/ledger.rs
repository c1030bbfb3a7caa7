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
//! removed from the end (`head` no longer matches); unknown or missing fields.
//! Not detectable: a consistent rewrite by someone who recomputes every hash after an
//! edit (there is no secret key), which includes presenting a truncated start as
//! ordinary pruning by also editing `dropped` and `checkpoint`. The chain proves
//! integrity against accidental and naive edits; noting `head` somewhere else (the
//! privacy centre shows it, an auditor keeps it) makes every record up to that head
//! tamper-evident for good.

use super::config::{join, Decoder};
use super::{rfc3339_is_valid, sha256_hex, to_json, Purpose, Source, State};
use crate::json::{self, Map, Value};

/// `format` member of an export.
pub const FORMAT: &str = "tailor-consent-ledger";
/// `version` member of an export.
pub const FORMAT_VERSION: u64 = 1;
/// `prev` of the first record ever, and `checkpoint` before any pruning.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const MAX_SAFE: u64 = (1 << 53) - 1;
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

    /// Appends `record` (its `seq` and `prev` are set here), then prunes to `limit`.
    pub fn append(&mut self, mut record: LedgerRecord, limit: usize) {
        record.seq = self.dropped + self.records.len() as u64;
        record.prev = core::mem::take(&mut self.head);
        self.head = record.hash();
        self.records.push(record);
        let excess = self.records.len().saturating_sub(limit.max(1));
        if excess > 0 {
            self.records.drain(..excess);
            self.dropped += excess as u64;
            self.checkpoint = self.records[0].prev.clone();
        }
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
    /// A record has a missing, unknown or mistyped field.
    Record,
    /// A record's `seq` is not its position: removed, added or moved records.
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
    Ledger::from_value(&v).map(|l| l.records.len())
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
        Some(t) if !rfc3339_is_valid(&t) => {
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
