//! What the fuzz targets share: splitting one input into the parts a target needs, a
//! stored-profile header the fuzzer cannot forge by mutation, and the fixed documents
//! the decoders are run against.

use tailor::rules::hash::fnv1a32;

/// The time every target decides at (the synthetic benchmark's: 2026-06-01T12:00Z), so
/// that a crash replays exactly.
pub const NOW_MS: f64 = 1_780_315_200_000.0;

/// Separates the parts of a multi-part input (rules, page inputs, profile, …). A raw NUL
/// never appears in valid JSON, so a seed made of JSON texts splits unambiguously, and
/// the fuzzer finds the separator in the dictionary of bytes it has seen.
pub const SEPARATOR: u8 = 0;

/// The input's parts, split on [`SEPARATOR`], as text; `None` when one is not UTF-8
/// (the browser hands the core only strings, so invalid UTF-8 never reaches it).
pub fn parts(data: &[u8]) -> Option<Vec<&str>> {
    data.split(|b| *b == SEPARATOR).map(|p| std::str::from_utf8(p).ok()).collect()
}

/// `body` behind a valid `tp1:` header (its FNV-1a checksum), as a stored profile is
/// written. Mutating a stored profile almost always breaks its checksum, so without this
/// the fuzzer would spend its time on the header check and never reach the decoder.
pub fn stored_profile(body: &str) -> String {
    format!("tp1:{:08x}:{body}", fnv1a32(body))
}

/// A rules document whose events have `keep` lists and retentions, so that loading a
/// profile against it forgets expired events and unkept properties.
pub const PROFILE_RULES: &str = r#"{"version": 1, "revision": "fuzz",
  "events": {"page_view": {"keep": ["path"], "retention": "90d"}, "view_item": {"keep": ["category", "price"], "retention": "30d"},
             "add_to_cart": {"keep": ["category"]}, "purchase": {"retention": "365d"}},
  "caps": {"impressions": 50, "per": "1d"},
  "experiences": [{"id": "hero", "slot": "hero", "audience": {"$event": {"name": "view_item", "where": {"category": "shoes"}, "within": "14d", "count": {"$gte": 2}}},
                   "cap": {"impressions": 3, "per": "7d"}, "variants": [{"id": "a"}, {"id": "b", "content": {"text": "B"}}]}]}"#;

/// The consent configuration used when a consent input carries none that validates.
pub const CONSENT_CONFIG: &str = r#"{"notice_version": "v1", "purposes": {"personalization": {"text": "P"}, "measurement": {"text": "M"}},
  "signals": {"tcf": {"gdpr_applies": true, "vendor_id": 42}, "gpp": true, "consent_mode": true}}"#;
