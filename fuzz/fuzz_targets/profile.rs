//! The stored profile decoder (`tailor:p:profile`, read by `Engine.loadProfile`). The
//! first byte is a set of flags: bit 0 puts a valid `tp1:` header in front of the rest
//! (else the rest is the whole stored text, header included), bit 1 loads with a 2 KB
//! byte budget instead of the real one, so that fitting runs. What loads must write
//! back as text that loads again with the same counts, and a page view and a save
//! must stay within the budget and load.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor::host::NativeHost;
use tailor::profile::{Profile, BYTE_BUDGET};
use tailor::rules::{parse_rules_with, Rules};
use tailor_fuzz::NOW_MS;

thread_local! {
    // Parsed once: libFuzzer calls the target on one thread.
    static RULES: Rules = parse_rules_with(tailor_fuzz::PROFILE_RULES, &NativeHost).expect("the fuzz rules document is valid");
}

fuzz_target!(|data: &[u8]| RULES.with(|rules| run(data, rules)));

fn run(data: &[u8], rules: &Rules) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(rest) = std::str::from_utf8(rest) else { return };
    let text = if flags & 1 == 1 { tailor_fuzz::stored_profile(rest) } else { rest.to_string() };
    let max_bytes = if flags & 2 == 2 { 2048 } else { BYTE_BUDGET };
    let host = NativeHost;

    if let Ok(p) = Profile::parse(&text) {
        let written = p.serialize();
        if let Err(e) = Profile::parse(&written) {
            panic!("a parsed profile serializes as {written:?}, which does not parse: {e}");
        }
    }
    let Ok(mut p) = Profile::load_with(&text, rules, NOW_MS, max_bytes, &host) else { return };
    let written = p.serialize_with(&host);
    let again = Profile::load_with(&written, rules, NOW_MS, max_bytes, &host)
        .unwrap_or_else(|e| panic!("a loaded profile serializes as {written:?}, which does not load: {e}"));
    if written.len() <= max_bytes {
        // Loading again may coarsen what fitting folded into day rollups (coarsening
        // is lazy), but loses or invents nothing, and a third load changes nothing.
        assert_eq!(counts(&again), counts(&p), "loading {written:?} again changed the counts");
        let rewritten = again.serialize_with(&host);
        let third = Profile::load_with(&rewritten, rules, NOW_MS, max_bytes, &host).expect("a reloaded profile loads");
        assert_eq!(third.serialize_with(&host), rewritten, "loading {rewritten:?} changed it");
    }

    // What a page does next with it: a page view, an impression, the save.
    p.record_page_view(rules, &tailor::json::Value::Null, NOW_MS + 1.0);
    p.record_impression("hero", "b", NOW_MS + 2.0);
    let saved = p.prune_with(rules, NOW_MS + 3.0, max_bytes, &host);
    assert!(saved.len() <= max_bytes, "saved {} bytes over a budget of {max_bytes}", saved.len());
    if let Err(e) = Profile::load_with(&saved, rules, NOW_MS + 3.0, max_bytes, &host) {
        panic!("a saved profile {saved:?} does not load: {e}");
    }
}

/// What a profile knows: occurrences of each event name (raw events plus rollups),
/// visits, page views, impressions and assignments.
fn counts(p: &Profile) -> (Vec<(String, u64)>, u32, u32) {
    let mut by_name: Vec<(String, u64)> = p.names().iter().map(|n| (n.clone(), 0)).collect();
    for e in p.events() {
        by_name[e.name as usize].1 += 1;
    }
    for r in p.rollups() {
        by_name[r.name as usize].1 += u64::from(r.count);
    }
    by_name.sort();
    (by_name, p.visits(), p.pageviews())
}
