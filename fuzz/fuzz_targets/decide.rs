//! A round of decisions, as `Engine.decideRound` makes it: a rules document, the page
//! inputs (any JSON), a stored profile body (its header made valid here) and the unit
//! id, separated by NUL bytes. Every decision's summary and explanation are built too,
//! and the events the rules keep are recorded into the profile before deciding again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor::context::{self, PageInputs};
use tailor::decide;
use tailor::host::NativeHost;
use tailor::json;
use tailor::profile::{Profile, BYTE_BUDGET};
use tailor::rules;
use tailor_fuzz::NOW_MS;

fuzz_target!(|data: &[u8]| {
    let Some(parts) = tailor_fuzz::parts(data) else { return };
    let host = NativeHost;
    let Ok(rules) = rules::parse_rules_with(parts[0], &host) else { return };
    let page = parts.get(1).and_then(|t| json::parse_with_host(t, &host).ok()).unwrap_or_default();
    let attributes = context::attributes(&PageInputs::from_json(&page));
    let mut profile = parts.get(2).and_then(|body| Profile::load_with(&tailor_fuzz::stored_profile(body), &rules, NOW_MS, BYTE_BUDGET, &host).ok());
    let unit = parts.get(3).copied().unwrap_or("visitor");

    let round = decide::decide_round_view(&rules, &attributes, profile.as_ref(), unit, NOW_MS, NOW_MS - 5_000.0, &host);
    for i in 0..round.decisions().len() {
        let _ = round.summary(&rules, i);
        let _ = round.explanation(&rules, i).to_json(&host);
    }
    for d in round.explained(&rules) {
        let _ = d.to_value().to_json(&host);
    }

    // The page view and the page's own properties as an event of every kind the rules
    // keep, then the same round again on the grown profile.
    if let Some(p) = profile.as_mut() {
        p.record_page_view(&rules, &page, NOW_MS);
        let names: Vec<String> = p.names().to_vec();
        for name in names.iter().take(8) {
            p.record_event(&rules, name, &page, NOW_MS + 1.0);
        }
        for d in decide::decide_all(&rules, &attributes, Some(p), unit, NOW_MS + 2.0, &host) {
            if let (Some(experience), Some(variant)) = (&d.experience, &d.variant) {
                decide::record_impression(p, experience, variant, NOW_MS + 3.0);
            }
        }
        let _ = p.prune_with(&rules, NOW_MS + 4.0, BYTE_BUDGET, &host);
    }
});
