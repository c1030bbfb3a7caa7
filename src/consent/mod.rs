//! Consent: purposes, signals (API, GPC, TCF, GPP, Consent Mode, CMP adapters), expiry,
//! the consent record and the hash-chained ledger.
//!
//! The engine is pure: time (`now_ms`, milliseconds since the Unix epoch) and randomness
//! (`random`, 32 fresh bytes from `crypto.getRandomValues`) are inputs, and every method
//! returns the [`Effect`]s the browser glue must carry out (persist, delete, notify), so
//! the glue stays a thin loop and every rule here runs in a native test.
//!
//! ## How the state of a purpose is decided ("most restrictive wins")
//!
//! Each purpose hears several *voices*:
//! - the visitor's own **choice** through Tailor's API (`grant`, `decide`, `revoke`),
//!   persisted in the consent record, expiring;
//! - **GPC** (personalization only), remembered in the record from first sight
//!   (sticky), expiring like any refusal;
//! - the **live signals** of this page view: TCF, GPP, Consent Mode, cookieconsent,
//!   klaro. Their last answers are remembered in the record. A remembered *grant*
//!   never counts before the CMP has answered on *this* page, because a CMP whose
//!   cookie was cleared shows its banner again while an old answer would still say
//!   "granted". A remembered *refusal* counts until the CMP answers on this page, so
//!   that a refusal made in one tab holds in the others (which reload the record) and
//!   a page load never grants, however briefly, what the CMP last refused.
//!
//! The purpose is **denied** when any voice refuses; otherwise **not asked** when TCF
//! applies but has not answered yet (no consent where GDPR applies); otherwise
//! **granted** when any voice grants; otherwise the configured default
//! (`not_asked`, which behaves as denied). One exception: an explicit API grant of
//! personalization made while a GPC opt-out is remembered overrides GPC (it is logged
//! with `gpc_override: true`); it never overrides a TCF, GPP, Consent Mode or adapter
//! refusal, which the visitor changes in that CMP.
//!
//! ## Lifecycle
//! Choices and the GPC memory expire `lifetime_days` after they were made (default 183,
//! at most 395 ≈ 13 months): a decision made at `t` holds while `now < t + lifetime`,
//! and at `now == t + lifetime` the purpose is back to not asked and
//! [`Effect::AskAgain`] is emitted. A stored decision whose notice text hash or rules
//! revision differs from the configuration is reset the same way when the engine
//! starts. A purpose that stops being granted has its storage deleted; granting
//! personalization again issues a new identifier from fresh random bytes. A grant that
//! finds no data recorded for its purpose first deletes the purpose's keys, so data
//! left behind without a record (a partial clean-up) is never adopted.
//!
//! Submodules: [`config`] (the configuration and its validation), [`signal`] (signal
//! inputs and their mapping to purposes), [`ledger`] (records, canonical form,
//! verification), `record` (the persisted consent record) and `engine`.

pub mod config;
mod engine;
pub mod ledger;
mod record;
pub mod signal;

#[cfg(test)]
mod tests;

pub use config::ConsentConfig;
pub use engine::ConsentEngine;
pub use ledger::{verify_ledger, LedgerError, LedgerErrorKind};
pub use record::RecordError;
pub use signal::{Adapter, GppData, Restriction, Signal, TcfData};

use crate::host::Host;

/// Storage key of the consent record (with its ledger): the only key the SDK reads or
/// writes before consent.
pub const RECORD_KEY: &str = "tailor:consent";
/// Storage key of the personalization identifier (sticky assignment unit). Issued by
/// the engine in an [`Effect::Persist`] when personalization becomes granted.
pub const IDENTIFIER_KEY: &str = "tailor:p:id";

/// The longest a decision, or a remembered GPC opt-out, can last: 13 months
/// ([`config::MAX_LIFETIME_DAYS`]) whatever the configuration. A stored or logged
/// expiry further from its decision time than this is a contradiction.
pub(crate) const MAX_LIFETIME_MS: u64 = config::MAX_LIFETIME_DAYS * 86_400_000;

/// How far in the future a stored decision may be, to allow for clocks that
/// disagree slightly (another tab's `Date.now()`, a small correction); anything
/// later was not written by this browser and discards the record.
pub const CLOCK_SKEW_MS: u64 = 5 * 60_000;

/// Every key personalization may use: identifier, event log and rollups, sticky
/// experiment assignments, frequency caps.
const PERSONALIZATION_KEYS: &[&str] = &[IDENTIFIER_KEY, "tailor:p:profile", "tailor:p:assign", "tailor:p:caps"];
/// Every key measurement may use: goals, attribution touches, pending aggregate reports.
const MEASUREMENT_KEYS: &[&str] = &["tailor:m:goals", "tailor:m:attribution", "tailor:m:reports"];

/// A purpose the visitor can consent to. Contextual decisions need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The profile, sticky experiment assignment and caps (TCF purposes 1 + 5 + 6,
    /// Consent Mode `personalization_storage`).
    Personalization,
    /// Goals, attribution and aggregate reports (TCF purposes 1 + 7 + 8 + 9, Consent
    /// Mode `analytics_storage`).
    Measurement,
}

impl Purpose {
    /// Both purposes, in the order used everywhere (records, ledger, state).
    pub const ALL: [Purpose; 2] = [Purpose::Personalization, Purpose::Measurement];

    /// The name used in JSON: `personalization` or `measurement`.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Personalization => "personalization",
            Purpose::Measurement => "measurement",
        }
    }

    /// The purpose called `name` in JSON.
    pub fn from_name(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Every storage key holding this purpose's data. Revoking the purpose deletes
    /// exactly these keys (and anything else under [`Purpose::key_prefix`]).
    pub fn storage_keys(self) -> &'static [&'static str] {
        match self {
            Purpose::Personalization => PERSONALIZATION_KEYS,
            Purpose::Measurement => MEASUREMENT_KEYS,
        }
    }

    /// The prefix of every key (localStorage key, IndexedDB or cache name) this
    /// purpose may use: `tailor:p:` or `tailor:m:`. No key of one purpose starts with
    /// the other's prefix, and the consent record starts with neither.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Purpose::Personalization => "tailor:p:",
            Purpose::Measurement => "tailor:m:",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The storage keys to delete when `revoked` purposes are revoked: each purpose's own
/// keys, never the consent record nor another purpose's keys.
pub fn keys_to_delete(revoked: &[Purpose]) -> Vec<&'static str> {
    let mut keys = Vec::new();
    for p in Purpose::ALL {
        if revoked.contains(&p) {
            keys.extend_from_slice(p.storage_keys());
        }
    }
    keys
}

/// The state of a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Processing for the purpose is allowed.
    Granted,
    /// The visitor (or a signal speaking for them) refused.
    Denied,
    /// No valid decision: behaves exactly as denied, and the host may ask.
    NotAsked,
}

impl State {
    /// The name used in JSON: `granted`, `denied` or `not_asked`.
    pub fn name(self) -> &'static str {
        match self {
            State::Granted => "granted",
            State::Denied => "denied",
            State::NotAsked => "not_asked",
        }
    }

    /// The state called `name` in JSON.
    pub fn from_name(name: &str) -> Option<State> {
        [State::Granted, State::Denied, State::NotAsked].into_iter().find(|s| s.name() == name)
    }
}

/// Where a state came from; also the `method` of a ledger record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing decided: the configured default.
    Default,
    /// An explicit choice through the API.
    Api,
    /// "Accept all" in a consent UI.
    AcceptAll,
    /// "Reject all" in a consent UI.
    RejectAll,
    /// Per-purpose choices in a consent UI.
    Custom,
    /// Withdrawal of consent.
    Revocation,
    /// Global Privacy Control.
    Gpc,
    /// IAB TCF v2.2.
    Tcf,
    /// IAB GPP (a US opt-out).
    Gpp,
    /// Google Consent Mode v2 (read only).
    ConsentMode,
    /// The cookieconsent (v3) adapter.
    CookieConsent,
    /// The Klaro! adapter.
    Klaro,
    /// The decision expired.
    Expiry,
    /// The purposes' notice text or the rules' consent revision changed.
    NoticeChange,
}

const SOURCES: [Source; 14] = [
    Source::Default,
    Source::Api,
    Source::AcceptAll,
    Source::RejectAll,
    Source::Custom,
    Source::Revocation,
    Source::Gpc,
    Source::Tcf,
    Source::Gpp,
    Source::ConsentMode,
    Source::CookieConsent,
    Source::Klaro,
    Source::Expiry,
    Source::NoticeChange,
];

impl Source {
    /// The name used in JSON, e.g. `accept_all`, `tcf`, `cookieconsent`, `notice_change`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::Api => "api",
            Source::AcceptAll => "accept_all",
            Source::RejectAll => "reject_all",
            Source::Custom => "custom",
            Source::Revocation => "revocation",
            Source::Gpc => "gpc",
            Source::Tcf => "tcf",
            Source::Gpp => "gpp",
            Source::ConsentMode => "consent_mode",
            Source::CookieConsent => "cookieconsent",
            Source::Klaro => "klaro",
            Source::Expiry => "expiry",
            Source::NoticeChange => "notice_change",
        }
    }

    /// The source called `name` in JSON.
    pub fn from_name(name: &str) -> Option<Source> {
        SOURCES.into_iter().find(|s| s.name() == name)
    }
}

/// How the visitor expressed an explicit choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A direct API call (`tailor.consent.grant(...)`).
    Api,
    /// "Accept all".
    AcceptAll,
    /// "Reject all".
    RejectAll,
    /// Per-purpose choices.
    Custom,
}

impl Method {
    fn source(self) -> Source {
        match self {
            Method::Api => Source::Api,
            Method::AcceptAll => Source::AcceptAll,
            Method::RejectAll => Source::RejectAll,
            Method::Custom => Source::Custom,
        }
    }
}

/// The effective state of one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurposeState {
    /// Granted, denied or not asked.
    pub state: State,
    /// The voice that decided it.
    pub source: Source,
    /// When that decision was made (ms since epoch); `None` for the default.
    pub decided_at: Option<u64>,
    /// When it expires (ms since epoch); `None` for the default and for live signals,
    /// whose lifetime is the CMP's (they are read again on every page view).
    pub expires_at: Option<u64>,
}

/// What the browser glue must do after a call, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The stored consent record could not be read and was discarded; everything
    /// starts over from not asked, and both purposes' storage is deleted (a
    /// [`Effect::Delete`] follows). Warn in the console.
    RecordDiscarded(RecordError),
    /// Delete `keys` and anything else whose name starts with `purpose.key_prefix()`,
    /// and drop the purpose's in-memory data, before the call returns. Emitted when a
    /// purpose stops being granted, and before first use when it becomes granted with
    /// no data recorded.
    Delete {
        /// The purpose whose data goes.
        purpose: Purpose,
        /// Its storage keys ([`Purpose::storage_keys`]).
        keys: &'static [&'static str],
    },
    /// Write `value` under `key`: the consent record under [`RECORD_KEY`], or a fresh
    /// identifier under [`IDENTIFIER_KEY`].
    Persist {
        /// Storage key.
        key: &'static str,
        /// Value to store.
        value: String,
    },
    /// The effective state of these purposes changed: start or stop their processing
    /// and tell other tabs.
    Changed {
        /// The purposes that changed.
        purposes: Vec<Purpose>,
    },
    /// These purposes returned to not asked because their decision expired or their
    /// notice changed: the host should show its consent UI again.
    AskAgain {
        /// The purposes to ask about.
        purposes: Vec<Purpose>,
    },
}

/// A [`Host`] for writing consent JSON, which holds only strings, booleans and safe
/// integers (milliseconds, counters): the JSON writer formats those itself and never
/// asks the host, so the engine needs no host of its own.
struct IntegerHost;

impl Host for IntegerHost {
    fn regex_test(&self, _: &str, _: bool, _: &str) -> Option<bool> {
        None
    }
    fn number_to_string(&self, _: f64) -> String {
        // Unreachable for safe integers; `null` keeps the output valid JSON regardless.
        "null".into()
    }
    fn string_to_number(&self, _: &str) -> f64 {
        f64::NAN
    }
}

/// Compact JSON of a consent value (record, ledger, state).
pub(crate) fn to_json(v: &crate::json::Value) -> String {
    v.to_json(&IntegerHost)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(data))
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds,
/// e.g. `2026-03-01T12:00:00.000Z` (years past 9999 are not supported).
pub fn rfc3339(ms: u64) -> String {
    let (days, rem) = (ms / 86_400_000, ms % 86_400_000);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(24);
    let mut push = |n: u64, width: u32, sep: char| {
        for k in (0..width).rev() {
            s.push((b'0' + (n / 10u64.pow(k) % 10) as u8) as char);
        }
        s.push(sep);
    };
    push(y, 4, '-');
    push(m, 2, '-');
    push(d, 2, 'T');
    push(rem / 3_600_000, 2, ':');
    push(rem / 60_000 % 60, 2, ':');
    push(rem / 1000 % 60, 2, '.');
    push(rem % 1000, 3, 'Z');
    s
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01, proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`, for days on or after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u64::from(m <= 2), m, d)
}

/// The milliseconds since the Unix epoch of a time `rfc3339` wrote, or `None` when
/// `s` is not exactly such a time (wrong shape, a day or hour that does not exist, a
/// year before 1970).
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    if !rfc3339_is_valid(s) {
        return None;
    }
    // The shape is checked: these are ASCII digits.
    let n = |from: usize, to: usize| s.as_bytes()[from..to].iter().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (h, min, sec, ms) = (n(11, 13), n(14, 16), n(17, 19), n(20, 23));
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || sec > 59
    {
        return None;
    }
    // Howard Hinnant's `days_from_civil`, the inverse of `civil_from_days`.
    let y_mar = y - u64::from(m <= 2); // years starting on March 1
    let (era, yoe) = (y_mar / 400, y_mar % 400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    let t = days * 86_400_000 + h * 3_600_000 + min * 60_000 + sec * 1000 + ms;
    // A day past the end of its month (2026-02-30) lands in the next month: refused.
    (rfc3339(t) == s).then_some(t)
}

/// The JSON path (e.g. `$.ledger.records[2].purposes.personalization`) of the first
/// member whose key repeats an earlier key of the same object, in `text` that has
/// already parsed as JSON. The parser keeps only the last of duplicate keys, as
/// `JSON.parse` does, so a record that says `"state":"denied"` and then
/// `"state":"granted"` would otherwise read as granted while a reader of the text may
/// see the refusal: consent data with a duplicate key is refused as a whole. Keys
/// compare after unescaping (`"a"` and `"\u0061"` are the same key).
pub fn duplicate_key(text: &str) -> Option<String> {
    enum Frame {
        Object { path: String, keys: Vec<String>, want_key: bool },
        Array { path: String, index: usize },
    }
    fn value_path(stack: &[Frame]) -> String {
        match stack.last() {
            None => "$".into(),
            Some(Frame::Object { path, keys, .. }) => config::join(path, keys.last().map_or("", String::as_str)),
            // No `format!` and no `&text[a..b]` in this scanner: either pulls the
            // formatting and string-slice panic machinery (Unicode tables) into the .wasm.
            Some(Frame::Array { path, index }) => {
                let mut p = path.clone();
                p.push('[');
                p.push_str(&crate::json::plain_number(*index as f64));
                p.push(']');
                p
            }
        }
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                let path = value_path(&stack);
                stack.push(Frame::Object { path, keys: Vec::new(), want_key: true });
            }
            b'[' => {
                let path = value_path(&stack);
                stack.push(Frame::Array { path, index: 0 });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { want_key, .. }) => *want_key = true,
                Some(Frame::Array { index, .. }) => *index += 1,
                None => {}
            },
            b'"' => {
                let (s, end) = json_string(text, i);
                if let Some(Frame::Object { path, keys, want_key: want @ true }) = stack.last_mut() {
                    if keys.contains(&s) {
                        return Some(config::join(path, &s));
                    }
                    keys.push(s);
                    *want = false;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The unescaped content of the JSON string starting at byte `start` (a `"`), and the
/// byte after its closing quote. The text is known to be valid JSON. A lone surrogate
/// is kept as its escape text, so that distinct ones stay distinct.
fn json_string(text: &str, start: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    let hex4 = |at: usize| {
        bytes.get(at..at + 4)?.iter().try_fold(0u32, |n, &b| Some(n * 16 + (b as char).to_digit(16)?))
    };
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return (out, i + 1),
            b'\\' => {
                let step = match bytes.get(i + 1) {
                    Some(b'u') => {
                        let hi = hex4(i + 2).unwrap_or(0xfffd);
                        let lo = (bytes.get(i + 6) == Some(&b'\\') && bytes.get(i + 7) == Some(&b'u'))
                            .then(|| hex4(i + 8))
                            .flatten()
                            .filter(|lo| (0xdc00..0xe000).contains(lo));
                        match (hi, lo) {
                            (0xd800..=0xdbff, Some(lo)) => {
                                let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                                if let Some(c) = char::from_u32(c) {
                                    out.push(c);
                                }
                                12
                            }
                            _ => {
                                match char::from_u32(hi) {
                                    Some(c) => out.push(c),
                                    None => out.push_str(crate::json::slice(text, i..i + 6)),
                                }
                                6
                            }
                        }
                    }
                    Some(&c) => {
                        out.push(match c {
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            c => c as char, // `"`, `\\` and `/`
                        });
                        2
                    }
                    None => 1,
                };
                i += step;
            }
            _ => {
                // Copy the run of plain characters up to the next quote or backslash.
                let end = bytes[i..].iter().position(|&b| b == b'"' || b == b'\\').map_or(bytes.len(), |n| i + n);
                out.push_str(crate::json::slice(text, i..end));
                i = end;
            }
        }
    }
    (out, i)
}

/// Whether `s` has the shape `rfc3339` writes: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn rfc3339_is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}
