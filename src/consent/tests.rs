//! Native tests of the consent engine, with an injected clock and injected randomness.

use super::ledger::{LedgerRecord, PurposeEntry, GENESIS, RECORD_FIELDS};
use super::*;
use crate::host::NativeHost;
use crate::json::{self, Value};
use Purpose::{Measurement as M, Personalization as P};

const DAY: u64 = 86_400_000;
/// 2026-01-01T00:00:00.000Z
const T0: u64 = 1_767_225_600_000;
const LIFE: u64 = 183 * DAY;

fn rnd(n: u8) -> [u8; 32] {
    core::array::from_fn(|i| n.wrapping_mul(37).wrapping_add(i as u8))
}

fn config_texts(p: &str, m: &str, extra: &str) -> ConsentConfig {
    let text = format!(
        r#"{{"notice_version":"v1","purposes":{{"personalization":{{"text":"{p}"}},"measurement":{{"text":"{m}"}}}}{extra}}}"#
    );
    ConsentConfig::parse(&text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn config(extra: &str) -> ConsentConfig {
    config_texts("P", "M", extra)
}

fn start(extra: &str, stored: Option<&str>, now: u64) -> (ConsentEngine, Vec<Effect>) {
    ConsentEngine::new(config(extra), stored, now, rnd(200))
}

fn st(e: &ConsentEngine, p: Purpose, now: u64) -> State {
    e.purpose_state(p, now).state
}

fn src(e: &ConsentEngine, p: Purpose, now: u64) -> Source {
    e.purpose_state(p, now).source
}

fn stored(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::Persist { key: RECORD_KEY, value } => Some(value.clone()),
        _ => None,
    })
}

fn identifier(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::Persist { key: IDENTIFIER_KEY, value } => Some(value.clone()),
        _ => None,
    })
}

fn deleted(fx: &[Effect]) -> Vec<Purpose> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Delete { purpose, .. } => Some(*purpose),
            _ => None,
        })
        .collect()
}

fn asked(fx: &[Effect]) -> Vec<Purpose> {
    fx.iter()
        .find_map(|e| match e {
            Effect::AskAgain { purposes } => Some(purposes.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn changed(fx: &[Effect]) -> Vec<Purpose> {
    fx.iter()
        .find_map(|e| match e {
            Effect::Changed { purposes } => Some(purposes.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn records(e: &ConsentEngine) -> Vec<Value> {
    let v = json::parse(&e.export_ledger()).unwrap();
    v.get("records").and_then(Value::as_array).unwrap().clone()
}

fn last_record(e: &ConsentEngine) -> Value {
    records(e).pop().expect("a ledger record")
}

fn field<'v>(v: &'v Value, path: &[&str]) -> &'v Value {
    path.iter().fold(v, |v, k| v.get(k).unwrap_or_else(|| panic!("no {k} in {v:?}")))
}

fn s<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    field(v, path).as_str().unwrap_or_else(|| panic!("{path:?} is not a string"))
}

const TCF: &str = r#","signals":{"tcf":{"gdpr_applies":true,"vendor_id":755}}"#;

fn mask(purposes: &[u8]) -> u32 {
    purposes.iter().fold(0, |m, p| m | 1 << p)
}

fn tcdata(publisher: &[u8], purposes: &[u8], vendors: &[u32]) -> TcfData {
    TcfData {
        gdpr_applies: Some(true),
        cmp_status: "loaded".into(),
        event_status: "tcloaded".into(),
        tc_string: "CQ-TCSTRING".into(),
        publisher_consents: mask(publisher),
        purpose_consents: mask(purposes),
        vendor_consents: vendors.to_vec(),
        ..TcfData::default()
    }
}

fn tcf_engine() -> ConsentEngine {
    start(TCF, None, T0).0
}

fn tcf_states(data: TcfData) -> (State, State) {
    let mut e = tcf_engine();
    e.apply_signal(Signal::Tcf(data), T0, rnd(1));
    (st(&e, P, T0), st(&e, M, T0))
}

fn gpp(status: &str, sections: &str) -> Signal {
    let text = format!(r#"{{"signalStatus":"{status}","gppString":"DBABL~BVQqAAAAAgA","parsedSections":{sections}}}"#);
    Signal::Gpp(GppData::from_ping(&json::parse(&text).unwrap()))
}

// ---------------------------------------------------------------- configuration

#[test]
fn config_defaults_and_limits() {
    let c = config("");
    assert_eq!(c.lifetime_ms(), LIFE);
    assert_eq!(c.defaults, [State::NotAsked; 2]);
    assert!(c.gpc && c.tcf.is_none() && !c.gpp && !c.consent_mode && !c.cookieconsent && !c.klaro);
    assert_eq!(c.text_sha256[0], sha256_hex(b"P"));
    assert_eq!(config(r#","lifetime_days":395"#).lifetime_ms(), 395 * DAY);

    for (extra, path, found) in [
        (r#","lifetime_days":396"#, "$.lifetime_days", "number 396"),
        (r#","lifetime_days":0"#, "$.lifetime_days", "number 0"),
        (r#","lifetime_days":30.5"#, "$.lifetime_days", "number 30.5"),
        (r#","lifetime_days":"6 months""#, "$.lifetime_days", "string \"6 months\""),
    ] {
        let text = format!(r#"{{"purposes":{{"personalization":{{"text":""}},"measurement":{{"text":""}}}}{extra}}}"#);
        let problems = ConsentConfig::parse(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, path);
        assert_eq!(problems[0].expected, "an integer from 1 to 395");
        assert_eq!(problems[0].found, found);
    }
}

#[test]
fn config_reports_every_problem_with_path_expected_found() {
    let text = r#"{"purposes":{"personalization":{"txt":"x"}},"lifetme_days":10,
        "signals":{"tcf":{"vendor_id":-1},"gpp":"yes"},"defaults":{"measurement":"maybe"}}"#;
    let problems = ConsentConfig::parse(text).unwrap_err();
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.lifetme_days",
            "$.purposes.personalization.txt",
            "$.purposes.personalization.text",
            "$.purposes.measurement",
            "$.defaults.measurement",
            "$.signals.tcf.vendor_id",
            "$.signals.gpp",
        ]
    );
    assert_eq!(problems[0].found, "unknown field \"lifetme_days\"");
    assert_eq!(problems[2].found, "nothing (the field is required)");
    assert_eq!(problems[6].expected, "a boolean");
    assert!(ConsentConfig::parse("{").unwrap_err()[0].found.contains("line 1"));
}

#[test]
fn strict_mode_rejects_granting_by_default() {
    let base = r#"{"purposes":{"personalization":{"text":""},"measurement":{"text":""}},"#;
    let problems = ConsentConfig::parse(&format!(r#"{base}"defaults":{{"personalization":"granted"}}}}"#)).unwrap_err();
    assert_eq!(problems[0].path, "$.defaults.personalization");
    assert!(problems[0].expected.contains("strict mode"));
    // Strict is the default; measurement is covered too.
    let problems =
        ConsentConfig::parse(&format!(r#"{base}"strict":true,"defaults":{{"measurement":"granted"}}}}"#)).unwrap_err();
    assert_eq!(problems[0].path, "$.defaults.measurement");
    // Non-strict: allowed, and the purpose starts granted with a fresh identifier.
    let c =
        ConsentConfig::parse(&format!(r#"{base}"strict":false,"defaults":{{"personalization":"granted"}}}}"#)).unwrap();
    let (e, fx) = ConsentEngine::new(c, None, T0, rnd(9));
    assert_eq!(e.purpose_state(P, T0).source, Source::Default);
    assert!(e.is_granted(P, T0));
    assert_eq!(identifier(&fx), Some(hex(&rnd(9)[16..])));
    // Denied and not asked defaults are fine in strict mode.
    let c = ConsentConfig::parse(&format!(
        r#"{base}"defaults":{{"personalization":"denied","measurement":"not_asked"}}}}"#
    ));
    assert_eq!(c.unwrap().defaults, [State::Denied, State::NotAsked]);
}

// ---------------------------------------------------------------- defaults

#[test]
fn first_visit_is_not_asked_and_writes_nothing() {
    let (e, fx) = start("", None, T0);
    assert!(fx.is_empty(), "{fx:?}");
    for p in Purpose::ALL {
        assert_eq!(
            e.purpose_state(p, T0),
            PurposeState { state: State::NotAsked, source: Source::Default, decided_at: None, expires_at: None }
        );
        assert!(!e.is_granted(p, T0));
    }
    assert_eq!(
        to_json(&e.state(T0)),
        r#"{"personalization":{"state":"not_asked","source":"default","decided_at":null,"expires_at":null},"measurement":{"state":"not_asked","source":"default","decided_at":null,"expires_at":null},"gpc_honored":false}"#
    );
}

#[test]
fn reject_all_stores_only_the_consent_record() {
    let (mut e, _) = start("", None, T0);
    let fx = e.decide(&[(P, false), (M, false)], Method::RejectAll, T0, rnd(1));
    assert!(fx.iter().all(|f| matches!(f, Effect::Persist { key: RECORD_KEY, .. } | Effect::Changed { .. })), "{fx:?}");
    assert_eq!(changed(&fx), [P, M]);
    assert_eq!(st(&e, P, T0), State::Denied);
    assert_eq!(src(&e, M, T0), Source::RejectAll);
    let r = last_record(&e);
    assert_eq!(s(&r, &["method"]), "reject_all");
    assert_eq!(s(&r, &["purposes", "measurement", "decided"]), "denied");
    assert_eq!(s(&r, &["id"]), hex(&rnd(1)[..16]));
    assert_eq!(s(&r, &["time"]), "2026-01-01T00:00:00.000Z");
    assert_eq!(s(&r, &["purposes", "personalization", "expires"]), "2026-07-03T00:00:00.000Z");
}

// ---------------------------------------------------------------- expiry

#[test]
fn consent_expires_exactly_at_the_end_of_its_lifetime() {
    let (mut e, _) = start("", None, T0);
    let fx = e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    assert_eq!(identifier(&fx), Some(hex(&rnd(1)[16..])));
    assert_eq!(e.purpose_state(P, T0).expires_at, Some(T0 + LIFE));

    assert!(e.is_granted(P, T0 + LIFE - 1));
    assert!(e.tick(T0 + LIFE - 1, rnd(2)).is_empty(), "no re-asking before expiry");
    // `state` already applies expiry before `tick` runs.
    assert_eq!(st(&e, P, T0 + LIFE), State::NotAsked);

    let fx = e.tick(T0 + LIFE, rnd(3));
    assert_eq!(deleted(&fx), [P, M]);
    assert_eq!(asked(&fx), [P, M]);
    assert_eq!(changed(&fx), [P, M]);
    assert!(stored(&fx).is_some());
    assert_eq!(src(&e, P, T0 + LIFE), Source::Expiry);
    let r = last_record(&e);
    assert_eq!(s(&r, &["method"]), "expiry");
    assert_eq!(s(&r, &["purposes", "personalization", "decided"]), "not_asked");
    assert_eq!(s(&r, &["purposes", "personalization", "state"]), "not_asked");
    // Nothing more to do afterwards.
    assert!(e.tick(T0 + LIFE + DAY, rnd(4)).is_empty());
}

#[test]
fn refusal_expires_too() {
    let (mut e, _) = start("", None, T0);
    e.decide(&[(P, false), (M, false)], Method::RejectAll, T0, rnd(1));
    assert!(e.tick(T0 + LIFE - 1, rnd(2)).is_empty());
    assert_eq!(st(&e, M, T0 + LIFE - 1), State::Denied);
    let fx = e.tick(T0 + LIFE, rnd(3));
    assert!(deleted(&fx).is_empty(), "nothing was stored for a refusal");
    assert_eq!(asked(&fx), [P, M]);
    assert_eq!(st(&e, P, T0 + LIFE), State::NotAsked);
}

#[test]
fn expiry_is_applied_when_a_later_page_view_starts() {
    let (mut e, _) = start("", None, T0);
    let record = stored(&e.grant(&[P], Method::Api, T0, rnd(1))).unwrap();

    let (e2, fx) = start("", Some(&record), T0 + LIFE - 1);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(e2.is_granted(P, T0 + LIFE - 1));

    let (e3, fx) = start("", Some(&record), T0 + LIFE);
    assert_eq!(deleted(&fx), [P]);
    assert_eq!(asked(&fx), [P], "measurement was never asked: not asked *again*");
    assert!(changed(&fx).is_empty(), "new() reports no Changed");
    assert_eq!(st(&e3, P, T0 + LIFE), State::NotAsked);
    assert!(stored(&fx).is_some());
}

#[test]
fn a_shortened_lifetime_cuts_stored_decisions_short() {
    let (mut e, _) = start(r#","lifetime_days":395"#, None, T0);
    let record = stored(&e.grant(&[P], Method::Api, T0, rnd(1))).unwrap();
    let (e2, _) = start(r#","lifetime_days":30"#, Some(&record), T0 + 30 * DAY - 1);
    assert!(e2.is_granted(P, T0 + 30 * DAY - 1));
    assert_eq!(e2.purpose_state(P, T0).expires_at, Some(T0 + 30 * DAY));
    let (e3, fx) = start(r#","lifetime_days":30"#, Some(&record), T0 + 30 * DAY);
    assert_eq!(st(&e3, P, T0 + 30 * DAY), State::NotAsked);
    assert_eq!(deleted(&fx), [P]);
}

// ---------------------------------------------------------------- notice and revision

#[test]
fn a_new_notice_text_asks_again_for_that_purpose_only() {
    let (mut e, _) = start("", None, T0);
    let record = stored(&e.grant(&[P, M], Method::AcceptAll, T0, rnd(1))).unwrap();
    let (e2, fx) =
        ConsentEngine::new(config_texts("P", "M, now with attribution", ""), Some(&record), T0 + DAY, rnd(2));
    assert!(e2.is_granted(P, T0 + DAY));
    assert_eq!(e2.purpose_state(M, T0 + DAY).source, Source::NoticeChange);
    assert_eq!(st(&e2, M, T0 + DAY), State::NotAsked);
    assert_eq!(deleted(&fx), [M]);
    assert_eq!(asked(&fx), [M]);
    let r = last_record(&e2);
    assert_eq!(s(&r, &["method"]), "notice_change");
    assert_eq!(field(&r, &["purposes", "personalization", "decided"]), &Value::Null);
    assert_eq!(s(&r, &["notice", "measurement_sha256"]), sha256_hex(b"M, now with attribution"));
    // Confirmed again under the new text: granted, with a new decision.
    let mut e2 = e2;
    e2.grant(&[M], Method::Api, T0 + DAY, rnd(3));
    assert!(e2.is_granted(M, T0 + DAY));
}

#[test]
fn a_new_rules_revision_asks_again_for_every_decided_purpose() {
    let (mut e, _) = start(r#","rules_revision":"1""#, None, T0);
    let record = stored(&e.decide(&[(P, true), (M, false)], Method::Custom, T0, rnd(1))).unwrap();
    let (same, fx) = start(r#","rules_revision":"1""#, Some(&record), T0 + 1);
    assert!(fx.is_empty() && same.is_granted(P, T0 + 1));
    let (e2, fx) = start(r#","rules_revision":"2""#, Some(&record), T0 + 1);
    assert_eq!(asked(&fx), [P, M]);
    assert_eq!(deleted(&fx), [P]);
    for p in Purpose::ALL {
        assert_eq!(e2.purpose_state(p, T0 + 1).source, Source::NoticeChange);
    }
    assert_eq!(s(&last_record(&e2), &["rules_revision"]), "2");
}

// ---------------------------------------------------------------- GPC

#[test]
fn gpc_opts_out_of_personalization_on_first_sight() {
    let (mut e, _) = start("", None, T0);
    let fx = e.apply_signal(Signal::Gpc(true), T0, rnd(1));
    assert!(stored(&fx).is_some());
    assert!(identifier(&fx).is_none());
    assert_eq!(
        e.purpose_state(P, T0),
        PurposeState { state: State::Denied, source: Source::Gpc, decided_at: Some(T0), expires_at: Some(T0 + LIFE) }
    );
    assert_eq!(st(&e, M, T0), State::NotAsked, "GPC is about personalization");
    assert!(e.gpc_honored(T0));
    assert_eq!(e.state(T0).get("gpc_honored"), Some(&Value::Bool(true)));
    let r = last_record(&e);
    assert_eq!(s(&r, &["method"]), "gpc");
    assert_eq!(field(&r, &["signals", "gpc"]), &Value::Bool(true));
    // Seen again: nothing new.
    assert!(e.apply_signal(Signal::Gpc(true), T0 + 1, rnd(2)).is_empty());
    // Disabled in the configuration: ignored.
    let (mut off, _) = start(r#","signals":{"gpc":false}"#, None, T0);
    assert!(off.apply_signal(Signal::Gpc(true), T0, rnd(1)).is_empty());
    assert!(!off.gpc_honored(T0));
}

#[test]
fn gpc_beats_a_stored_allow_and_deletes_only_personalization() {
    let (mut e, _) = start("", None, T0);
    let record = stored(&e.grant(&[P, M], Method::AcceptAll, T0, rnd(1))).unwrap();
    let (mut e2, fx) = start("", Some(&record), T0 + DAY);
    assert!(fx.is_empty());
    let fx = e2.apply_signal(Signal::Gpc(true), T0 + DAY, rnd(2));
    assert_eq!(deleted(&fx), [P]);
    assert_eq!(changed(&fx), [P]);
    assert_eq!(src(&e2, P, T0 + DAY), Source::Gpc);
    assert!(e2.is_granted(M, T0 + DAY));
}

#[test]
fn gpc_is_sticky_across_page_views_without_the_signal() {
    let (mut e, _) = start("", None, T0);
    let record = stored(&e.apply_signal(Signal::Gpc(true), T0, rnd(1))).unwrap();
    let (mut e2, fx) = start("", Some(&record), T0 + DAY);
    assert!(fx.is_empty());
    assert_eq!(src(&e2, P, T0 + DAY), Source::Gpc);
    assert!(e2.gpc_honored(T0 + DAY));
    assert!(e2.apply_signal(Signal::Gpc(false), T0 + DAY, rnd(2)).is_empty(), "false does not opt back in");
    assert_eq!(st(&e2, P, T0 + DAY), State::Denied);
    // A stored allow older than GPC does not win either.
    let fx = e2.tick(T0 + LIFE, rnd(3));
    assert_eq!(asked(&fx), [P], "the GPC refusal expires like any refusal");
}

#[test]
fn an_explicit_grant_overrides_gpc_and_is_logged() {
    let (mut e, _) = start("", None, T0);
    e.apply_signal(Signal::Gpc(true), T0, rnd(1));
    let fx = e.grant(&[P], Method::Api, T0 + 5, rnd(2));
    assert!(e.is_granted(P, T0 + 5));
    assert!(!e.gpc_honored(T0 + 5));
    assert_eq!(identifier(&fx), Some(hex(&rnd(2)[16..])));
    let r = last_record(&e);
    assert_eq!(s(&r, &["method"]), "api");
    assert_eq!(field(&r, &["gpc_override"]), &Value::Bool(true));
    assert_eq!(field(&records(&e)[0], &["gpc_override"]), &Value::Bool(false));
    // The override survives a reload that sees GPC again.
    let record = e.record_json();
    let (mut e2, fx) = start("", Some(&record), T0 + DAY);
    assert!(fx.is_empty());
    assert!(e2.apply_signal(Signal::Gpc(true), T0 + DAY, rnd(3)).is_empty());
    assert!(e2.is_granted(P, T0 + DAY));
    // Revoking ends the override: GPC is honored again.
    e2.revoke(&[P], T0 + DAY, rnd(4));
    assert!(e2.gpc_honored(T0 + DAY));
}

// ---------------------------------------------------------------- TCF

#[test]
fn tcf_where_gdpr_applies_grants_nothing_until_the_cmp_answers() {
    let (mut e, _) = start(TCF, None, T0);
    e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    assert_eq!(
        e.purpose_state(P, T0),
        PurposeState { state: State::NotAsked, source: Source::Tcf, decided_at: None, expires_at: None }
    );
    let fx = e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6, 7, 8, 9], &[], &[])), T0, rnd(2));
    assert_eq!(changed(&fx), [P, M]);
    assert!(e.is_granted(P, T0) && e.is_granted(M, T0));
    assert_eq!(s(&last_record(&e), &["signals", "tc_string"]), "CQ-TCSTRING");
    // TCF alone grants too (the CMP collected the consent).
    assert_eq!(tcf_states(tcdata(&[1, 5, 6], &[], &[])).0, State::Granted);
}

#[test]
fn tcf_refusal_beats_an_api_grant_and_api_refusal_beats_tcf() {
    let (mut e, _) = start(TCF, None, T0);
    e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6, 7, 8, 9], &[], &[])), T0, rnd(1));
    e.grant(&[P, M], Method::AcceptAll, T0, rnd(2));
    let fx = e.apply_signal(
        Signal::Tcf(TcfData { event_status: "useractioncomplete".into(), ..tcdata(&[1], &[], &[]) }),
        T0 + 1,
        rnd(3),
    );
    assert_eq!(deleted(&fx), [P, M]);
    assert_eq!(src(&e, P, T0 + 1), Source::Tcf);
    assert_eq!(st(&e, M, T0 + 1), State::Denied);

    let (mut e, _) = start(TCF, None, T0);
    e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6, 7, 8, 9], &[], &[])), T0, rnd(1));
    let fx = e.revoke(&[P], T0 + 1, rnd(2));
    assert_eq!(deleted(&fx), [P]);
    assert_eq!(src(&e, P, T0 + 1), Source::Revocation);
    assert!(e.is_granted(M, T0 + 1));
}

#[test]
fn tcf_acts_only_on_loaded_and_final_events() {
    for (cmp, event) in
        [("stub", "tcloaded"), ("loading", "tcloaded"), ("error", "tcloaded"), ("loaded", "cmpuishown"), ("loaded", "")]
    {
        let mut e = tcf_engine();
        let data = TcfData { cmp_status: cmp.into(), event_status: event.into(), ..tcdata(&[1, 5, 6], &[], &[]) };
        assert!(e.apply_signal(Signal::Tcf(data), T0, rnd(1)).is_empty(), "{cmp}/{event}");
        assert_eq!(e.purpose_state(P, T0).source, Source::Tcf, "still waiting");
        assert_eq!(st(&e, P, T0), State::NotAsked);
    }
    assert_eq!(
        tcf_states(TcfData { event_status: "useractioncomplete".into(), ..tcdata(&[1, 5, 6], &[], &[]) }).0,
        State::Granted
    );
}

#[test]
fn tcf_gdpr_applies_undefined_waits_and_false_says_nothing() {
    let mut e = tcf_engine();
    let undefined = TcfData { gdpr_applies: None, ..tcdata(&[1, 5, 6], &[], &[]) };
    assert!(e.apply_signal(Signal::Tcf(undefined), T0, rnd(1)).is_empty());
    assert_eq!(src(&e, P, T0), Source::Tcf);

    let outside = TcfData { gdpr_applies: Some(false), ..tcdata(&[], &[], &[]) };
    let fx = e.apply_signal(Signal::Tcf(outside.clone()), T0, rnd(2));
    assert!(stored(&fx).is_none(), "nothing to log: TCF said nothing before and after");
    assert_eq!(e.purpose_state(P, T0).source, Source::Default);
    // TCF says nothing, so an API choice decides.
    e.grant(&[P], Method::Api, T0, rnd(3));
    assert!(e.is_granted(P, T0));
    assert!(e.apply_signal(Signal::Tcf(outside), T0, rnd(4)).is_empty());
    assert!(e.is_granted(P, T0));
}

#[test]
fn tcf_purpose_mapping() {
    use State::{Denied as D, Granted as G};
    // Personalization: 1 + 5 + 6; measurement: 1 + 7 + 8 + 9, all of them.
    assert_eq!(tcf_states(tcdata(&[1, 5, 6], &[], &[])), (G, D));
    assert_eq!(tcf_states(tcdata(&[1, 7, 8, 9], &[], &[])), (D, G));
    assert_eq!(tcf_states(tcdata(&[5, 6, 7, 8, 9], &[], &[])), (D, D), "purpose 1 is needed for any storage");
    assert_eq!(tcf_states(tcdata(&[1, 5], &[], &[])), (D, D), "5 builds the profile, 6 is needed to use it");
    assert_eq!(tcf_states(tcdata(&[1, 7], &[], &[])), (D, D), "one of 7-9 is not enough");
    assert_eq!(tcf_states(tcdata(&[1, 8, 9], &[], &[])), (D, D));
    // Purpose 11 alone allows only contextual selection, which needs no purpose.
    assert_eq!(tcf_states(tcdata(&[11], &[11], &[755])), (D, D));
    assert_eq!(tcf_states(tcdata(&[1, 11], &[], &[])), (D, D));
}

#[test]
fn tcf_legitimate_interest_never_counts() {
    use State::Denied as D;
    let li = TcfData {
        purpose_legitimate_interests: mask(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        publisher_legitimate_interests: mask(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ..tcdata(&[1], &[1], &[755])
    };
    assert_eq!(tcf_states(li), (D, D));
}

#[test]
fn tcf_vendor_consent_and_publisher_consent() {
    use State::{Denied as D, Granted as G};
    // Vendor path: purpose consents and our vendor id.
    assert_eq!(tcf_states(tcdata(&[], &[1, 5, 6, 7, 8, 9], &[755])), (G, G));
    assert_eq!(tcf_states(tcdata(&[], &[1, 5, 6, 7, 8, 9], &[754, 756])), (D, D), "another vendor's consent");
    assert_eq!(tcf_states(tcdata(&[], &[1, 5], &[755])), (D, D));
    // Without a configured vendor id only publisher consent counts.
    let (mut e, _) = start(r#","signals":{"tcf":{"gdpr_applies":true}}"#, None, T0);
    e.apply_signal(Signal::Tcf(tcdata(&[], &[1, 5, 6], &[755])), T0, rnd(1));
    assert_eq!(st(&e, P, T0), State::Denied);
    e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6], &[], &[])), T0, rnd(2));
    assert_eq!(st(&e, P, T0), State::Granted);
    // One party must consent to every purpose needed: no mixing of paths.
    assert_eq!(tcf_states(tcdata(&[1, 5], &[6], &[755])), (D, D));
}

#[test]
fn tcf_publisher_restriction_type_0_blocks() {
    use State::{Denied as D, Granted as G};
    let restricted = |purpose, vendor, kind| TcfData {
        restrictions: vec![Restriction { purpose, vendor, kind }],
        ..tcdata(&[1, 5, 6, 7, 8, 9], &[1, 5, 6, 7, 8, 9], &[755])
    };
    assert_eq!(tcf_states(restricted(5, 755, 0)), (D, G));
    assert_eq!(tcf_states(restricted(8, 755, 0)), (G, D));
    assert_eq!(tcf_states(restricted(1, 755, 0)), (D, D));
    assert_eq!(tcf_states(restricted(5, 755, 1)), (G, G), "require consent: consent is there");
    assert_eq!(tcf_states(restricted(5, 12, 0)), (G, G), "another vendor's restriction");
}

#[test]
fn tcdata_is_read_from_json() {
    let v = json::parse(
        r#"{"tcString":"CQabc","gdprApplies":true,"cmpStatus":"loaded","eventStatus":"useractioncomplete",
            "listenerId":2,"purpose":{"consents":{"1":true,"5":true,"6":false},"legitimateInterests":{"7":true}},
            "vendor":{"consents":{"755":true,"12":false},"legitimateInterests":{}},
            "publisher":{"consents":{"1":true,"5":true,"6":true},"legitimateInterests":{"2":true},
                         "customPurpose":{"consents":{},"legitimateInterests":{}},
                         "restrictions":{"7":{"755":0,"12":1}}}}"#,
    )
    .unwrap();
    let d = TcfData::from_tcdata(&v);
    assert_eq!(d.gdpr_applies, Some(true));
    assert_eq!(d.purpose_consents, mask(&[1, 5]));
    assert_eq!(d.purpose_legitimate_interests, mask(&[7]));
    assert_eq!(d.vendor_consents, [755]);
    assert_eq!(d.publisher_consents, mask(&[1, 5, 6]));
    assert_eq!(d.publisher_legitimate_interests, mask(&[2]));
    assert_eq!(
        d.restrictions,
        [Restriction { purpose: 7, vendor: 755, kind: 0 }, Restriction { purpose: 7, vendor: 12, kind: 1 }]
    );
    assert_eq!(tcf_states(d), (State::Granted, State::Denied));
    // gdprApplies absent (undefined before JSON.stringify) reads as unknown.
    assert_eq!(TcfData::from_tcdata(&json::parse(r#"{"cmpStatus":"loaded"}"#).unwrap()).gdpr_applies, None);
}

#[test]
fn tcf_answers_are_logged_once() {
    let (mut e, _) = start(TCF, None, T0);
    let fx = e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6], &[], &[])), T0, rnd(1));
    assert_eq!(records(&e).len(), 1);
    let record = stored(&fx).unwrap();
    // Next page view: same answer, no new record; the grant waits for it again, the
    // remembered refusal (measurement) holds from the start.
    let (mut e2, fx) = start(TCF, Some(&record), T0 + DAY);
    assert!(fx.is_empty());
    assert_eq!(st(&e2, P, T0 + DAY), State::NotAsked);
    assert_eq!((st(&e2, M, T0 + DAY), src(&e2, M, T0 + DAY)), (State::Denied, Source::Tcf));
    let fx = e2.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6], &[], &[])), T0 + DAY, rnd(2));
    assert_eq!(fx, [Effect::Changed { purposes: vec![P] }], "no identifier: the stored one continues");
    assert_eq!(records(&e2).len(), 1);
}

#[test]
fn a_remembered_refusal_holds_until_the_signal_answers_again() {
    // The visitor granted through the API, then a GPP opt-out arrived (in this tab or
    // another: the other tab reloads the record the same way).
    let cfg = r#","signals":{"gpp":true}"#;
    let (mut e, _) = start(cfg, None, T0);
    e.grant(&[P], Method::Api, T0, rnd(1));
    let fx = e.apply_signal(gpp("ready", r#"{"usnat":{"SaleOptOut":1}}"#), T0 + 1, rnd(2));
    assert_eq!(deleted(&fx), [P]);
    let record = e.record_json();
    // Another tab (or the next page) starts from the record: still refused, nothing
    // granted or issued before its own GPP CMP answers.
    let (mut other, fx) = start(cfg, Some(&record), T0 + 2);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!((st(&other, P, T0 + 2), src(&other, P, T0 + 2)), (State::Denied, Source::Gpp));
    // Its CMP answers the same: nothing new. Then the opt-out is lifted: the API grant
    // counts again, with a new identifier.
    assert!(other.apply_signal(gpp("ready", r#"{"usnat":{"SaleOptOut":1}}"#), T0 + 3, rnd(3)).is_empty());
    let fx = other.apply_signal(gpp("ready", r#"{"usnat":{"SaleOptOut":2}}"#), T0 + 4, rnd(4));
    assert_eq!(st(&other, P, T0 + 4), State::Granted);
    assert!(identifier(&fx).is_some());
    // A remembered grant does not count before the signal answers.
    let (mut e, _) = start(r#","signals":{"klaro":true}"#, None, T0);
    let signal = Signal::Adapter { adapter: Adapter::Klaro, personalization: Some(true), measurement: Some(false) };
    let fx = e.apply_signal(signal, T0, rnd(5));
    let (next, _) = start(r#","signals":{"klaro":true}"#, stored(&fx).as_deref(), T0 + 1);
    assert_eq!((st(&next, P, T0 + 1), st(&next, M, T0 + 1)), (State::NotAsked, State::Denied));
}

// ---------------------------------------------------------------- GPP

#[test]
fn gpp_us_opt_outs_act_like_gpc() {
    let cfg = r#","signals":{"gpp":true}"#;
    for sections in [
        r#"{"usnat":[{"Version":1,"SaleOptOut":1,"SharingOptOut":2},{"SubsectionType":1,"Gpc":false}]}"#,
        r#"{"usca":[{"SaleOptOut":2,"SharingOptOut":1}]}"#,
        r#"{"usva":[{"TargetedAdvertisingOptOut":1}]}"#,
        r#"{"usco":{"SaleOptOut":0,"TargetedAdvertisingOptOut":1}}"#,
        r#"{"usnat":[{"SaleOptOut":2},{"SubsectionType":1,"Gpc":true}]}"#,
        r#"{"uspv1":{"Version":1,"Notice":"Y","OptOutSale":"Y","LspaCovered":"N"}}"#,
    ] {
        let (mut e, _) = start(cfg, None, T0);
        e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
        let fx = e.apply_signal(gpp("ready", sections), T0 + 1, rnd(2));
        assert_eq!(deleted(&fx), [P], "{sections}");
        assert_eq!(src(&e, P, T0 + 1), Source::Gpp, "{sections}");
        assert!(e.is_granted(M, T0 + 1));
        assert_eq!(s(&last_record(&e), &["signals", "gpp_string"]), "DBABL~BVQqAAAAAgA");
        // Not overridable through the API: the visitor changes it in the CMP.
        e.grant(&[P], Method::Api, T0 + 2, rnd(3));
        assert_eq!(st(&e, P, T0 + 2), State::Denied);
    }
}

#[test]
fn gpp_without_opt_out_or_not_ready_changes_nothing() {
    let cfg = r#","signals":{"gpp":true}"#;
    for (status, sections) in [
        ("ready", r#"{"usnat":[{"SaleOptOut":2,"SharingOptOut":2,"TargetedAdvertisingOptOut":0},{"Gpc":false}]}"#),
        ("ready", r#"{"tcfeuv2":[{"SaleOptOut":1,"Gpc":true}]}"#),
        ("ready", "{}"),
        ("not ready", r#"{"usnat":[{"SaleOptOut":1}]}"#),
    ] {
        let (mut e, _) = start(cfg, None, T0);
        e.grant(&[P], Method::Api, T0, rnd(1));
        let fx = e.apply_signal(gpp(status, sections), T0 + 1, rnd(2));
        assert!(fx.is_empty(), "{status} {sections}: {fx:?}");
        assert!(e.is_granted(P, T0 + 1));
    }
    // GPP disabled in the configuration: ignored.
    let (mut e, _) = start("", None, T0);
    assert!(e.apply_signal(gpp("ready", r#"{"usnat":[{"SaleOptOut":1}]}"#), T0, rnd(1)).is_empty());
}

// ---------------------------------------------------------------- Consent Mode and adapters

#[test]
fn consent_mode_is_read_per_purpose() {
    let (mut e, _) = start(r#","signals":{"consent_mode":true}"#, None, T0);
    e.grant(&[P], Method::Api, T0, rnd(1));
    let fx = e.apply_signal(
        Signal::ConsentMode { personalization_storage: Some(false), analytics_storage: Some(true) },
        T0,
        rnd(2),
    );
    // Personalization's data goes; measurement, newly granted, has its (empty) keys
    // cleared before first use.
    assert_eq!(deleted(&fx), [P, M]);
    assert_eq!(src(&e, P, T0), Source::ConsentMode);
    assert_eq!(src(&e, M, T0), Source::ConsentMode);
    assert!(e.is_granted(M, T0));
    assert_eq!(s(&last_record(&e), &["method"]), "consent_mode");
    // Not enabled: ignored.
    let (mut off, _) = start("", None, T0);
    let signal = Signal::ConsentMode { personalization_storage: Some(true), analytics_storage: Some(true) };
    assert!(off.apply_signal(signal, T0, rnd(1)).is_empty());
}

#[test]
fn cmp_adapters_give_per_purpose_answers() {
    let (mut e, _) = start(r#","signals":{"klaro":true}"#, None, T0);
    let signal = |adapter, p, m| Signal::Adapter { adapter, personalization: p, measurement: m };
    e.apply_signal(signal(Adapter::Klaro, Some(true), Some(false)), T0, rnd(1));
    assert_eq!((st(&e, P, T0), st(&e, M, T0)), (State::Granted, State::Denied));
    assert_eq!(src(&e, P, T0), Source::Klaro);
    // cookieconsent is not enabled here.
    assert!(e.apply_signal(signal(Adapter::CookieConsent, Some(false), None), T0, rnd(2)).is_empty());
    // Revocation through the adapter deletes personalization.
    let fx = e.apply_signal(signal(Adapter::Klaro, Some(false), Some(false)), T0 + 1, rnd(3));
    assert_eq!(deleted(&fx), [P]);
    assert_eq!(s(&last_record(&e), &["method"]), "klaro");

    let (mut e, _) = start(r#","signals":{"cookieconsent":true}"#, None, T0);
    e.apply_signal(signal(Adapter::CookieConsent, None, Some(true)), T0, rnd(1));
    assert_eq!((st(&e, P, T0), st(&e, M, T0)), (State::NotAsked, State::Granted));
}

// ---------------------------------------------------------------- revocation and identifiers

#[test]
fn storage_keys_are_partitioned_by_purpose() {
    for p in Purpose::ALL {
        for k in p.storage_keys() {
            assert!(k.starts_with(p.key_prefix()));
            assert!(!RECORD_KEY.starts_with(p.key_prefix()));
        }
    }
    assert!(!P.key_prefix().starts_with(M.key_prefix()) && !M.key_prefix().starts_with(P.key_prefix()));
    assert_eq!(keys_to_delete(&[P]), ["tailor:p:id", "tailor:p:profile", "tailor:p:assign", "tailor:p:caps"]);
    assert_eq!(keys_to_delete(&[M]), ["tailor:m:goals", "tailor:m:attribution", "tailor:m:reports"]);
    assert_eq!(keys_to_delete(&[M, P]).len(), 7);
    assert!(keys_to_delete(&[]).is_empty());
}

#[test]
fn revocation_deletes_exactly_the_revoked_purposes_keys() {
    let (mut e, _) = start("", None, T0);
    e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    let fx = e.revoke(&[P], T0 + 1, rnd(2));
    let deletes: Vec<_> = fx.iter().filter(|f| matches!(f, Effect::Delete { .. })).collect();
    assert_eq!(deletes, [&Effect::Delete { purpose: P, keys: P.storage_keys() }]);
    assert!(matches!(fx[0], Effect::Delete { .. }), "deletion comes first");
    assert!(e.is_granted(M, T0 + 1));
    assert_eq!(s(&last_record(&e), &["method"]), "revocation");

    let fx = e.revoke(&[M], T0 + 2, rnd(3));
    assert_eq!(deleted(&fx), [M]);
    // Revoking again finds nothing left to delete.
    assert!(deleted(&e.revoke(&[P, M], T0 + 3, rnd(4))).is_empty());
}

#[test]
fn re_consent_starts_a_new_identifier() {
    let (mut e, _) = start("", None, T0);
    let first = identifier(&e.grant(&[P], Method::Api, T0, rnd(1))).unwrap();
    assert_eq!(first, hex(&rnd(1)[16..]));
    assert!(identifier(&e.grant(&[P], Method::Api, T0 + 1, rnd(2))).is_none(), "still granted: same identifier");
    e.revoke(&[P], T0 + 2, rnd(3));
    let second = identifier(&e.grant(&[P], Method::Api, T0 + 3, rnd(4))).unwrap();
    assert_eq!(second, hex(&rnd(4)[16..]));
    assert_ne!(first, second);
    // The identifier never appears in the record or the ledger.
    assert!(!e.record_json().contains(&first) && !e.record_json().contains(&second));
    // Measurement has no identifier.
    let (mut e, _) = start("", None, T0);
    assert!(identifier(&e.grant(&[M], Method::Api, T0, rnd(5))).is_none());
}

#[test]
fn a_fresh_grant_clears_orphaned_keys_before_first_use() {
    // No record (a partial clean-up removed it) but maybe an old identifier and profile:
    // the first grant deletes the purpose's keys, then issues the new identifier.
    let (mut e, fx) = start("", None, T0);
    assert!(fx.is_empty());
    let fx = e.grant(&[P], Method::Api, T0, rnd(1));
    let delete = fx.iter().position(|x| matches!(x, Effect::Delete { purpose: P, .. })).expect("a delete");
    let issue = fx.iter().position(|x| matches!(x, Effect::Persist { key: IDENTIFIER_KEY, .. })).expect("an identifier");
    assert!(delete < issue, "{fx:?}");
    assert_eq!(deleted(&fx), [P]);
    // Already granted: nothing is cleared again, in this page or the next.
    assert!(deleted(&e.grant(&[P], Method::Api, T0 + 1, rnd(2))).is_empty());
    let record = e.record_json();
    let (_, fx) = start("", Some(&record), T0 + 2);
    assert!(fx.is_empty(), "{fx:?}");
    // The same for measurement.
    assert_eq!(deleted(&e.grant(&[M], Method::Api, T0 + 3, rnd(3))), [M]);
}

// ---------------------------------------------------------------- the consent record

#[test]
fn the_record_round_trips() {
    let cfg = r#","signals":{"gpp":true,"tcf":{"gdpr_applies":false}}"#;
    let (mut e, _) = start(cfg, None, T0);
    e.decide(&[(P, true), (M, false)], Method::Custom, T0, rnd(1));
    e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6], &[], &[])), T0 + 1, rnd(2));
    e.apply_signal(Signal::Gpc(true), T0 + 2, rnd(3));
    let record = e.record_json();
    assert!(record
        .starts_with(r#"{"v":1,"personalization":{"choice":{"state":"granted","source":"custom","at":1767225600000,"#));
    let (e2, fx) = start(cfg, Some(&record), T0 + 3);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(e2.record_json(), record);
    assert_eq!(e2.export_ledger(), e.export_ledger());
}

#[test]
fn a_corrupted_record_is_discarded_with_an_error() {
    let (mut e, _) = start("", None, T0);
    let good = stored(&e.grant(&[P, M], Method::AcceptAll, T0, rnd(1))).unwrap();
    let edited = good.replacen(r#""source":"accept_all""#, r#""source":"api""#, 1);
    assert_ne!(edited, good);
    for (bad, says) in [
        ("not json", "line 1"),
        (r#"{"v":2}"#, "$.v"),
        (&good.replacen(r#""data":true"#, r#""data":"yes""#, 1), "$.personalization.data"),
        (&good.replacen(r#""v":1,"#, r#""v":1,"extra":0,"#, 1), "$.extra"),
        (&good.replacen(r#""at":"#, r#""at":-"#, 1), "$.personalization.choice.at"),
        (&good.replacen(r#""method":"accept_all""#, r#""method":"api""#, 1), "ledger"),
    ] {
        let (e2, fx) = start("", Some(bad), T0 + 1);
        let Effect::RecordDiscarded(err) = &fx[0] else { panic!("{fx:?}") };
        assert!(err.message.contains(says), "{says}: {err}");
        assert!(err.to_string().starts_with("the stored consent record was discarded"));
        assert_eq!(deleted(&fx), [P, M], "unknown provenance: purge both");
        assert!(stored(&fx).is_some(), "a fresh record replaces the bad one");
        assert!(!e2.is_granted(P, T0 + 1));
    }
    // An edited choice that still parses disagrees with the ledger's record of it.
    let Some(Effect::RecordDiscarded(err)) = start("", Some(&edited), T0 + 1).1.first().cloned() else {
        panic!("an edited source is discarded")
    };
    assert!(err.message.contains("$.personalization.choice: granted api"), "{err}");
    assert!(err.message.contains("disagrees with the ledger's last decision about personalization"), "{err}");
}

// ---------------------------------------------------------------- tampered records

/// A real record, made by the engine under the default configuration at or after
/// `T0`. Loading happens at `LOAD`.
type Base = fn() -> String;
const LOAD: u64 = T0 + 60_000;

fn refused() -> String {
    let (mut e, _) = start("", None, T0);
    stored(&e.decide(&[(P, false), (M, false)], Method::RejectAll, T0, rnd(1))).unwrap()
}

fn granted() -> String {
    let (mut e, _) = start("", None, T0);
    stored(&e.grant(&[P, M], Method::AcceptAll, T0, rnd(1))).unwrap()
}

/// Granted, then measurement revoked, then a GPC opt-out seen (logged, personalization
/// denied by it).
fn history() -> String {
    let (mut e, _) = start("", None, T0);
    e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    e.revoke(&[M], T0 + 1000, rnd(2));
    stored(&e.apply_signal(Signal::Gpc(true), T0 + 2000, rnd(3))).unwrap()
}

/// Granted a day ahead of the load time: a record from a clock in the future.
fn granted_tomorrow() -> String {
    let (mut e, _) = start("", None, T0 + DAY);
    stored(&e.grant(&[P, M], Method::AcceptAll, T0 + DAY, rnd(1))).unwrap()
}

/// Parses `text`, applies `f`, writes it back.
fn edit(text: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v = json::parse(text).unwrap();
    f(&mut v);
    v.to_json(&NativeHost)
}

fn at<'v>(v: &'v mut Value, path: &[&str]) -> &'v mut Value {
    path.iter().fold(v, |v, k| {
        let Value::Object(m) = v else { panic!("{k}: not an object") };
        m.get_mut(k).unwrap_or_else(|| panic!("no {k}"))
    })
}

fn ledger_records(v: &mut Value) -> &mut Vec<Value> {
    let Value::Array(a) = at(v, &["ledger", "records"]) else { panic!() };
    a
}

/// Recomputes the ledger's chain (every `prev` and `head`) after an edit, as anyone
/// who can read the documentation can.
fn rehash(v: &mut Value) {
    let mut prev = field(v, &["ledger", "checkpoint"]).as_str().unwrap_or(GENESIS).to_string();
    for r in ledger_records(v).iter_mut() {
        set(r, "prev", prev.as_str().into());
        prev = value_hash(r);
    }
    *at(v, &["ledger", "head"]) = prev.into();
}

fn last_ledger_record(v: &mut Value) -> &mut Value {
    ledger_records(v).last_mut().unwrap()
}

/// One way of tampering with a stored record: its name, the real record it starts
/// from, the edit, and words the discard message must contain.
struct Tampering {
    name: &'static str,
    base: Base,
    edit: fn(String) -> String,
    says: &'static str,
}

/// The catalogue of tamperings: each must discard the whole record, so that nothing
/// is granted after loading it. Add a class by adding a row.
const TAMPERINGS: &[Tampering] = &[
    Tampering {
        name: "refusal edited to granted",
        base: refused,
        edit: |t| t.replacen(r#""state":"denied""#, r#""state":"granted""#, 1),
        says: "$.personalization.choice: granted reject_all",
    },
    Tampering {
        name: "refusal edited to granted, source and all",
        base: refused,
        edit: |t| t.replacen(r#""state":"denied","source":"reject_all""#, r#""state":"granted","source":"accept_all""#, 1),
        says: "disagrees with the ledger's last decision about personalization",
    },
    Tampering {
        name: "refusal edited to granted, its ledger record's state too, head recomputed",
        base: refused,
        edit: |t| {
            edit(&t, |v| {
                *at(v, &["personalization", "choice", "state"]) = "granted".into();
                *at(last_ledger_record(v), &["purposes", "personalization", "state"]) = "granted".into();
                rehash(v);
            })
        },
        says: "ledger record 0: purposes.personalization: state granted cannot come from source reject_all",
    },
    Tampering {
        name: "refusal edited to granted, its ledger record's decision and state too, head recomputed",
        base: refused,
        edit: |t| {
            edit(&t, |v| {
                *at(v, &["personalization", "choice", "state"]) = "granted".into();
                let p = at(last_ledger_record(v), &["purposes", "personalization"]);
                *at(p, &["decided"]) = "granted".into();
                *at(p, &["state"]) = "granted".into();
                rehash(v);
            })
        },
        says: "method reject_all cannot decide granted",
    },
    Tampering {
        name: "ledger record edited to a grant, head recomputed, state left a refusal",
        base: refused,
        edit: |t| {
            edit(&t, |v| {
                let r = last_ledger_record(v);
                set(r, "method", "custom".into());
                let p = at(r, &["purposes", "personalization"]);
                *at(p, &["decided"]) = "granted".into();
                *at(p, &["state"]) = "granted".into();
                *at(p, &["source"]) = "custom".into();
                *at(r, &["purposes", "measurement", "source"]) = "custom".into();
                rehash(v);
            })
        },
        says: "$.personalization.choice: denied reject_all at 2026-01-01T00:00:00.000Z disagrees",
    },
    Tampering {
        name: "granted with an empty ledger",
        base: granted,
        edit: |t| edit(&t, |v| *at(v, &["ledger"]) = json::parse(&start("", None, T0).0.export_ledger()).unwrap()),
        says: "$.personalization.choice: says granted, but the ledger holds no decision about personalization",
    },
    Tampering {
        name: "granted, its ledger record presented as pruned",
        base: granted,
        edit: |t| {
            edit(&t, |v| {
                let first = ledger_records(v).remove(0);
                let hash = value_hash(&first);
                *at(v, &["ledger", "dropped"]) = 1.0.into();
                *at(v, &["ledger", "checkpoint"]) = hash.as_str().into();
                *at(v, &["ledger", "head"]) = hash.as_str().into();
            })
        },
        says: "says granted, but the ledger holds no decision",
    },
    Tampering {
        name: "duplicate purpose key in the state (the last, a grant, would win)",
        base: refused,
        edit: |t| {
            let grant = r#""personalization":{"choice":{"state":"granted","source":"accept_all","at":1767225600000,"exp":1783036800000,"text":"","rev":"","gpc_override":false},"data":false},"#;
            t.replacen(r#""measurement":"#, &format!("{grant}\"measurement\":"), 1)
        },
        says: "$.personalization: a key appears twice",
    },
    Tampering {
        name: "duplicate purpose key in a ledger record's purposes",
        base: refused,
        edit: |t| {
            let grant = r#""personalization":{"decided":"granted","state":"granted","source":"accept_all","expires":"2026-07-03T00:00:00.000Z"},"#;
            t.replacen(r#""measurement":{"decided""#, &format!("{grant}\"measurement\":{{\"decided\""), 1)
        },
        says: "$.ledger.records[0].purposes.personalization: a key appears twice",
    },
    Tampering {
        name: "duplicate key inside a choice",
        base: refused,
        edit: |t| t.replacen(r#""state":"denied","#, r#""state":"denied","state":"granted","#, 1),
        says: "$.personalization.choice.state: a key appears twice",
    },
    Tampering {
        name: "expiry 2^53-1",
        base: granted,
        edit: |t| edit(&t, |v| *at(v, &["personalization", "choice", "exp"]) = 9_007_199_254_740_991.0.into()),
        says: "$.personalization.choice.exp: 9007199254740991 is not the expiry",
    },
    Tampering {
        name: "expiry 14 months after the decision",
        base: granted,
        edit: |t| edit(&t, |v| *at(v, &["measurement", "choice", "exp"]) = ((T0 + 426 * DAY) as f64).into()),
        says: "$.measurement.choice.exp",
    },
    Tampering {
        name: "expiry edited to a day later (within 13 months)",
        base: granted,
        edit: |t| edit(&t, |v| *at(v, &["personalization", "choice", "exp"]) = ((T0 + LIFE + DAY) as f64).into()),
        says: "$.personalization.choice.exp",
    },
    Tampering {
        name: "ledger expiry 2^53-1 too, head recomputed",
        base: granted,
        edit: |t| {
            edit(&t, |v| {
                *at(v, &["personalization", "choice", "exp"]) = 9_007_199_254_740_991.0.into();
                *at(last_ledger_record(v), &["purposes", "personalization", "expires"]) = "9999-12-31T23:59:59.999Z".into();
                rehash(v);
            })
        },
        says: "expires is not within 13 months after the record's time",
    },
    Tampering {
        name: "decision time in the future",
        base: granted_tomorrow,
        edit: |t| t,
        says: "in the future",
    },
    Tampering {
        name: "decision time edited",
        base: granted,
        edit: |t| edit(&t, |v| *at(v, &["personalization", "choice", "at"]) = ((T0 + 1000) as f64).into()),
        says: "disagrees with the ledger's last decision",
    },
    Tampering {
        name: "later refusal removed from the ledger",
        base: history,
        edit: |t| edit(&t, |v| drop(ledger_records(v).remove(1))),
        says: "ledger record 1: seq is 2, expected 1",
    },
    Tampering {
        name: "later refusal removed from the ledger, chain recomputed, state edited back to the grant",
        base: history,
        edit: |t| {
            edit(&t, |v| {
                let records = ledger_records(v);
                let grant = records[0].clone();
                records.remove(1);
                set(&mut records[1], "seq", 1.0.into());
                rehash(v);
                // The measurement choice as the grant made it.
                let exp = s(&grant, &["purposes", "measurement", "expires"]).to_string();
                let choice = at(v, &["measurement", "choice"]);
                set(choice, "state", "granted".into());
                set(choice, "source", "accept_all".into());
                set(choice, "at", (T0 as f64).into());
                set(choice, "exp", (parse_rfc3339(&exp).unwrap() as f64).into());
            })
        },
        says: "ledger record 1: purposes.measurement: denied from revocation, which is not the last decision logged before it",
    },
    Tampering {
        name: "ledger records reordered",
        base: history,
        edit: |t| edit(&t, |v| ledger_records(v).swap(0, 1)),
        says: "ledger record 0: seq is 1, expected 0",
    },
    Tampering {
        name: "GPC opt-out removed from the state",
        base: history,
        edit: |t| edit(&t, |v| *at(v, &["gpc"]) = Value::Null),
        says: "$.gpc: null, but the ledger's GPC opt-out (record 2) has not lapsed",
    },
    Tampering {
        name: "revocation removed from the state",
        base: history,
        edit: |t| edit(&t, |v| *at(v, &["measurement", "choice"]) = Value::Null),
        says: "$.measurement.choice: is null, but the ledger's last decision about measurement (record 1, revocation",
    },
    Tampering {
        name: "unknown method in the ledger",
        base: granted,
        edit: |t| t.replacen(r#""method":"accept_all""#, r#""method":"magic""#, 1),
        says: "$.records[0].method",
    },
    Tampering {
        name: "unknown purpose in the state",
        base: refused,
        edit: |t| t.replacen(r#""gpc":null"#, r#""gpc":null,"profiling":{"choice":null,"data":false}"#, 1),
        says: "$.profiling",
    },
    Tampering {
        name: "a choice whose source is a signal",
        base: granted,
        edit: |t| t.replacen(r#""source":"accept_all""#, r#""source":"tcf""#, 1),
        says: "$.personalization.choice.source",
    },
];

#[test]
fn every_tampering_in_the_catalogue_discards_the_record() {
    let mut failures = Vec::new();
    for t in TAMPERINGS {
        let tampered = (t.edit)((t.base)());
        let (e, fx) = start("", Some(&tampered), LOAD);
        let granted: Vec<_> = Purpose::ALL.into_iter().filter(|&p| e.is_granted(p, LOAD)).collect();
        match fx.first() {
            Some(Effect::RecordDiscarded(err)) if err.message.contains(t.says) => {
                assert!(granted.is_empty());
                assert_eq!((st(&e, P, LOAD), st(&e, M, LOAD)), (State::NotAsked, State::NotAsked), "{}", t.name);
                assert_eq!(deleted(&fx), [P, M], "{}: unknown provenance, both purged", t.name);
            }
            Some(Effect::RecordDiscarded(err)) => failures.push(format!("{}: discarded for another reason: {err}", t.name)),
            _ => failures.push(format!("{}: accepted, granting {granted:?}", t.name)),
        }
    }
    assert!(failures.is_empty(), "{} of {} tamperings:\n{}", failures.len(), TAMPERINGS.len(), failures.join("\n"));
}

#[test]
fn the_untampered_bases_load_as_they_were_stored() {
    for base in [refused as Base, granted, history] {
        let record = base();
        let (e, fx) = start("", Some(&record), LOAD);
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(e.record_json(), record);
    }
    // A day later the record from "tomorrow" is fine.
    assert!(start("", Some(&granted_tomorrow()), T0 + DAY).1.is_empty());
    // Within the allowed clock skew too.
    assert!(start("", Some(&granted_tomorrow()), T0 + DAY - CLOCK_SKEW_MS).1.is_empty());
    assert!(!start("", Some(&granted_tomorrow()), T0 + DAY - CLOCK_SKEW_MS - 1).1.is_empty());
}

/// Reloads `e`'s record under `cfg` at `now`: it must load without being discarded,
/// as the same record, granting nothing `e` does not.
fn assert_reloads(cfg: &str, e: &ConsentEngine, now: u64) {
    let record = e.record_json();
    let (e2, fx) = start(cfg, Some(&record), now);
    assert!(!fx.iter().any(|f| matches!(f, Effect::RecordDiscarded(_))), "{fx:?}\n{record}");
    assert_eq!(verify_ledger(&e.export_ledger()).map(|_| ()), Ok(()));
    if fx.is_empty() {
        assert_eq!(e2.record_json(), record);
    }
    // A live signal's grant is not remembered across page views: never more, maybe less.
    for p in Purpose::ALL {
        assert!(!e2.is_granted(p, now) || e.is_granted(p, now), "{p:?}");
    }
}

#[test]
fn every_record_the_engine_writes_reloads() {
    // Every step of a busy history, reloaded right after it.
    let cfg = r#","signals":{"gpp":true,"consent_mode":true,"klaro":true,"cookieconsent":true,"tcf":{"gdpr_applies":true,"vendor_id":755}}"#;
    let (mut e, _) = start(cfg, None, T0);
    type Call = Box<dyn Fn(&mut ConsentEngine, u64)>;
    let steps: Vec<(u64, Call)> = vec![
        (T0, Box::new(|e, t| drop(e.apply_signal(Signal::Gpc(true), t, rnd(1))))),
        (T0 + 1, Box::new(|e, t| drop(e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6, 7, 8, 9], &[], &[])), t, rnd(2))))),
        (T0 + 2, Box::new(|e, t| drop(e.grant(&[P], Method::Api, t, rnd(3))))),
        (T0 + 3, Box::new(|e, t| drop(e.apply_signal(gpp("ready", r#"{"usnat":[{"SaleOptOut":1}]}"#), t, rnd(4))))),
        (T0 + 4, Box::new(|e, t| {
            let cm = Signal::ConsentMode { personalization_storage: None, analytics_storage: Some(true) };
            drop(e.apply_signal(cm, t, rnd(5)))
        })),
        (T0 + 5, Box::new(|e, t| drop(e.decide(&[(M, true)], Method::Custom, t, rnd(6))))),
        (T0 + 6, Box::new(|e, t| drop(e.revoke(&[M], t, rnd(7))))),
        // "Accept all" that refuses something is logged as a custom choice.
        (T0 + 7, Box::new(|e, t| drop(e.decide(&[(P, true), (M, false)], Method::AcceptAll, t, rnd(11))))),
        (T0 + 2 + LIFE, Box::new(|e, t| drop(e.tick(t, rnd(8))))),
        (T0 + 3 * LIFE, Box::new(|e, t| drop(e.tick(t, rnd(9))))),
        // The clock went back: the ledger's time does not.
        (T0 + 3 * LIFE - 60_000, Box::new(|e, t| drop(e.grant(&[P, M], Method::AcceptAll, t, rnd(10))))),
    ];
    for (t, step) in &steps {
        step(&mut e, *t);
        assert_reloads(cfg, &e, *t);
    }
    assert_eq!(s(&last_record(&e), &["time"]), rfc3339(T0 + 3 * LIFE));
    let at_7 = records(&e).into_iter().find(|r| s(r, &["time"]) == rfc3339(T0 + 7)).unwrap();
    assert_eq!(s(&at_7, &["method"]), "custom");

    // A GPC opt-out lapses while an explicit grant that overrode it stands and another
    // signal refuses personalization: the expiry record logs personalization back to
    // not asked by GPC's lapse, decided by the other signal; the grant stands.
    let cfg = r#","signals":{"consent_mode":true}"#;
    let (mut e, _) = start(cfg, None, T0);
    e.apply_signal(Signal::Gpc(true), T0, rnd(1));
    e.grant(&[P], Method::Api, T0 + DAY, rnd(2));
    let cm = Signal::ConsentMode { personalization_storage: Some(false), analytics_storage: None };
    e.apply_signal(cm.clone(), T0 + 2 * DAY, rnd(3));
    // A later page view, where GPC is no longer sent.
    let (mut e, _) = start(cfg, Some(&e.record_json()), T0 + 3 * DAY);
    e.apply_signal(cm, T0 + 3 * DAY, rnd(4));
    e.tick(T0 + LIFE, rnd(5));
    assert_eq!(s(&last_record(&e), &["method"]), "expiry");
    assert_eq!(s(&last_record(&e), &["purposes", "personalization", "source"]), "consent_mode");
    assert_reloads(cfg, &e, T0 + LIFE);
    let (e2, _) = start(cfg, Some(&e.record_json()), T0 + LIFE);
    assert_eq!(e2.record_json(), e.record_json(), "the grant and the lapsed opt-out load as they were");

    // A notice change lapses choices on load; the result reloads under the new text.
    let (mut e, _) = start("", None, T0);
    e.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    let (e2, fx) = ConsentEngine::new(config_texts("P2", "M", ""), Some(&e.record_json()), T0 + 1, rnd(2));
    assert_eq!(asked(&fx), [P]);
    let (e3, fx) = ConsentEngine::new(config_texts("P2", "M", ""), Some(&e2.record_json()), T0 + 2, rnd(3));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(!e3.is_granted(P, T0 + 2) && e3.is_granted(M, T0 + 2));
}

#[test]
fn pruning_keeps_the_records_the_state_rests_on() {
    let cfg = r#","ledger_limit":1,"signals":{"consent_mode":true}"#;
    let (mut e, _) = start(cfg, None, T0);
    e.grant(&[P], Method::Api, T0, rnd(1));
    let flip = |on: bool| Signal::ConsentMode { personalization_storage: None, analytics_storage: Some(on) };
    for n in 1..=10u8 {
        e.apply_signal(flip(n % 2 == 0), T0 + n as u64, rnd(n));
    }
    // The grant's record is kept beyond the limit of 1: the state can be checked.
    assert_eq!(s(&records(&e)[0], &["method"]), "api");
    assert_eq!(records(&e).len(), 11);
    assert_reloads(cfg, &e, T0 + 20);
    assert!(e.is_granted(P, T0 + 20));

    // Past the allowance the grant's record goes, and the grant with it: the host is
    // asked again, personalization's data is deleted, and the record still loads.
    let mut last = Vec::new();
    for n in 11..=(ledger::PIN_ALLOWANCE as u8 + 1) {
        last = e.apply_signal(flip(n % 2 == 0), T0 + n as u64, rnd(n));
    }
    assert_eq!(records(&e).len(), 1 + ledger::PIN_ALLOWANCE);
    assert_ne!(s(&records(&e)[0], &["method"]), "api");
    assert_eq!(asked(&last), [P]);
    assert!(deleted(&last).contains(&P));
    assert!(!e.is_granted(P, T0 + 100));
    assert_reloads(cfg, &e, T0 + 100);
}

#[test]
fn verification_reports_records_that_contradict_themselves() {
    let e = busy_engine();
    let check = |text: String| verify_ledger(&text).map_err(|e| (e.index, e.kind, e.message));
    let rehashed = |f: &dyn Fn(&mut Vec<Value>)| {
        let mut v = json::parse(&e.export_ledger()).unwrap();
        let Value::Object(m) = &mut v else { unreachable!() };
        let Some(Value::Array(records)) = m.get_mut("records") else { unreachable!() };
        f(records);
        let mut prev = GENESIS.to_string();
        for r in records.iter_mut() {
            set(r, "prev", prev.as_str().into());
            prev = value_hash(r);
        }
        m.insert("head", prev.as_str().into());
        v.to_json(&NativeHost)
    };
    // The busy engine's record 2 is the API grant of personalization.
    let parts: Vec<&str> = e.export_ledger().leak().splitn(4, r#""purposes":{"#).collect();
    let dup = format!(r#"{}"purposes":{{{}"purposes":{{{}"purposes":{{"measurement":null,{}"#, parts[0], parts[1], parts[2], parts[3]);
    let Err((index, kind, message)) = check(dup) else { panic!() };
    assert_eq!((index, kind), (Some(2), LedgerErrorKind::Record), "{message}");
    assert!(message.contains("$.records[2].purposes.measurement: a key appears twice"), "{message}");

    let Err((index, kind, message)) = check(rehashed(&|r| {
        set(at(&mut r[2], &["purposes", "personalization"]), "expires", "2027-03-01T00:00:00.000Z".into());
    })) else {
        panic!()
    };
    assert_eq!((index, kind), (Some(2), LedgerErrorKind::Record));
    assert!(message.contains("expires is not within 13 months"), "{message}");

    let Err((index, kind, message)) = check(rehashed(&|r| set(&mut r[4], "time", rfc3339(T0).into()))) else {
        panic!()
    };
    assert_eq!((index, kind), (Some(4), LedgerErrorKind::Sequence));
    assert!(message.contains("time is before the previous record's"), "{message}");

    let Err((index, kind, message)) = check(rehashed(&|r| {
        set(at(&mut r[6], &["purposes", "measurement"]), "state", "granted".into());
    })) else {
        panic!()
    };
    assert_eq!((index, kind), (Some(6), LedgerErrorKind::Record));
    assert!(message.contains("purposes.measurement: state granted cannot come from source revocation"), "{message}");

    let Err((index, kind, _)) = check(rehashed(&|r| set(&mut r[0], "time", "2026-02-30T00:00:00.000Z".into())))
    else {
        panic!()
    };
    assert_eq!((index, kind), (Some(0), LedgerErrorKind::Record));
    // The untouched export still verifies, and so does one re-hashed unchanged.
    assert!(check(rehashed(&|_| {})).is_ok());
}

mod single_edits {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Key(String),
        Index(usize),
    }

    /// The path of every scalar (and every null) in `v`.
    fn leaves(v: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter() {
                    path.push(Step::Key(k.clone()));
                    leaves(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(Step::Index(i));
                    leaves(x, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }

    fn slot<'v>(v: &'v mut Value, path: &[Step]) -> &'v mut Value {
        path.iter().fold(v, |v, step| match (v, step) {
            (Value::Object(m), Step::Key(k)) => m.get_mut(k).unwrap(),
            (Value::Array(a), Step::Index(i)) => &mut a[*i],
            _ => unreachable!(),
        })
    }

    /// Values an attacker would try: states, methods, times near the real ones, the
    /// largest safe integer, and the original nudged.
    fn replacement(original: &Value, pick: usize) -> Value {
        let n = original.as_f64();
        let options: Vec<Value> = vec![
            Value::Null,
            true.into(),
            false.into(),
            "granted".into(),
            "denied".into(),
            "not_asked".into(),
            "accept_all".into(),
            "api".into(),
            "revocation".into(),
            "gpc".into(),
            "expiry".into(),
            "".into(),
            0.0.into(),
            (T0 as f64).into(),
            ((T0 + LIFE) as f64).into(),
            ((T0 + 400 * DAY) as f64).into(),
            9_007_199_254_740_991.0.into(),
            rfc3339(T0).into(),
            rfc3339(T0 + LIFE + DAY).into(),
            "9999-12-31T23:59:59.999Z".into(),
            n.map_or(Value::Null, |n| (n + 1.0).into()),
            n.map_or(Value::Null, |n| (n + DAY as f64).into()),
            n.map_or(Value::Null, |n| (n - DAY as f64).into()),
        ];
        options[pick % options.len()].clone()
    }

    const BUSY: &str = r#","signals":{"gpp":true,"consent_mode":true,"klaro":true,"cookieconsent":true,"tcf":{"gdpr_applies":true,"vendor_id":755}}"#;

    /// Real records, each with the configuration it is loaded under.
    fn bases() -> &'static [(&'static str, String)] {
        static BASES: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
        BASES.get_or_init(make_bases)
    }

    fn make_bases() -> Vec<(&'static str, String)> {
        let mut busy = busy_engine();
        busy.grant(&[M], Method::Api, T0 + 3 * DAY, rnd(20));
        let mut overridden = start(r#","signals":{"consent_mode":true}"#, None, T0).0;
        overridden.apply_signal(Signal::Gpc(true), T0, rnd(1));
        overridden.grant(&[P], Method::Api, T0 + 1000, rnd(2));
        let cm = Signal::ConsentMode { personalization_storage: None, analytics_storage: Some(false) };
        overridden.apply_signal(cm, T0 + 2000, rnd(3));
        vec![
            ("", refused()),
            ("", granted()),
            ("", history()),
            (BUSY, busy.record_json()),
            (r#","signals":{"consent_mode":true}"#, overridden.record_json()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// A single edited field of a real record, with or without the chain
        /// recomputed after it, never grants a purpose the original did not.
        #[test]
        fn never_grant_what_the_original_did_not(base in 0usize..5, leaf in any::<usize>(), pick in any::<usize>(), rehashed in any::<bool>()) {
            let (cfg, record) = &bases()[base];
            let original = start(cfg, Some(record), LOAD).0;
            let mut v = json::parse(record).unwrap();
            let mut paths = Vec::new();
            leaves(&v, &mut Vec::new(), &mut paths);
            let path = &paths[leaf % paths.len()];
            let target = slot(&mut v, path);
            *target = replacement(target, pick);
            if rehashed {
                rehash(&mut v);
            }
            let tampered = v.to_json(&NativeHost);
            let e = start(cfg, Some(&tampered), LOAD).0;
            for p in Purpose::ALL {
                prop_assert!(!e.is_granted(p, LOAD) || original.is_granted(p, LOAD), "{p:?} granted after {path:?}\n{tampered}");
            }
        }
    }
}

/// What anyone can still do, and the binding cannot prevent (there is no secret): write
/// a whole new, coherent ledger record with a grant and a state that matches it. It
/// is accepted, and the ledger export shows the forged record.
#[test]
fn a_wholly_forged_coherent_grant_is_accepted_and_shows_in_the_export() {
    let forged = edit(&refused(), |v| {
        for p in ["personalization", "measurement"] {
            let choice = at(v, &[p, "choice"]);
            set(choice, "state", "granted".into());
            set(choice, "source", "accept_all".into());
            let e = at(last_ledger_record(v), &["purposes", p]);
            set(e, "decided", "granted".into());
            set(e, "state", "granted".into());
            set(e, "source", "accept_all".into());
        }
        set(last_ledger_record(v), "method", "accept_all".into());
        rehash(v);
    });
    let (e, fx) = start("", Some(&forged), LOAD);
    assert!(!fx.iter().any(|f| matches!(f, Effect::RecordDiscarded(_))), "{fx:?}");
    assert!(e.is_granted(P, LOAD));
    assert_eq!(s(&last_record(&e), &["method"]), "accept_all");

    // Nor a rollback: the ledger cut back to an earlier record, head recomputed, and
    // the state as it was then (here: before GPC was seen) is an earlier record that
    // really existed. GPC, still sent, is seen again on the next page view; an
    // auditor who noted the head sees the cut.
    let rolled_back = edit(&history(), |v| {
        *at(v, &["gpc"]) = Value::Null;
        ledger_records(v).pop();
        rehash(v);
    });
    let (e, fx) = start("", Some(&rolled_back), LOAD);
    assert!(!fx.iter().any(|f| matches!(f, Effect::RecordDiscarded(_))), "{fx:?}");
    assert!(e.is_granted(P, LOAD));
}

// ---------------------------------------------------------------- the ledger

fn busy_engine() -> ConsentEngine {
    let cfg = r#","signals":{"gpp":true,"consent_mode":true,"klaro":true,"cookieconsent":true,"tcf":{"gdpr_applies":true,"vendor_id":755}}"#;
    let (mut e, _) = start(cfg, None, T0);
    e.apply_signal(Signal::Gpc(true), T0, rnd(1));
    e.apply_signal(Signal::Tcf(tcdata(&[1, 5, 6, 7, 8, 9], &[], &[])), T0 + 1, rnd(2));
    e.grant(&[P], Method::Api, T0 + 2, rnd(3));
    e.apply_signal(gpp("ready", r#"{"usnat":[{"SaleOptOut":1}]}"#), T0 + 3, rnd(4));
    e.apply_signal(
        Signal::ConsentMode { personalization_storage: None, analytics_storage: Some(true) },
        T0 + 4,
        rnd(5),
    );
    e.apply_signal(
        Signal::Adapter { adapter: Adapter::Klaro, personalization: Some(false), measurement: None },
        T0 + 5,
        rnd(6),
    );
    e.revoke(&[M], T0 + 6, rnd(7));
    e.tick(T0 + 2 + LIFE, rnd(8));
    e
}

fn tamper(e: &ConsentEngine, f: impl FnOnce(&mut Vec<Value>, &mut crate::json::Map)) -> String {
    let mut v = json::parse(&e.export_ledger()).unwrap();
    let Value::Object(m) = &mut v else { unreachable!() };
    let mut records = m.get("records").and_then(Value::as_array).unwrap().clone();
    f(&mut records, m);
    m.insert("records", Value::Array(records));
    v.to_json(&NativeHost)
}

fn set(record: &mut Value, key: &str, value: Value) {
    let Value::Object(m) = record else { unreachable!() };
    m.insert(key, value);
}

#[test]
fn a_valid_ledger_verifies() {
    let e = busy_engine();
    let n = records(&e).len();
    assert!(n >= 8, "{n}");
    assert_eq!(verify_ledger(&e.export_ledger()), Ok(n));
    // Formatting and member order do not matter: the canonical form is re-derived.
    let pretty = e.export_ledger().replace(",\"", ",\n  \"");
    assert_eq!(verify_ledger(&pretty), Ok(n));
    let reordered = tamper(&e, |records, _| {
        for r in records.iter_mut() {
            let Value::Object(m) = r else { unreachable!() };
            m.0.reverse();
        }
    });
    assert_eq!(verify_ledger(&reordered), Ok(n));
    // An empty ledger verifies too.
    assert_eq!(verify_ledger(&start("", None, T0).0.export_ledger()), Ok(0));
}

#[test]
fn ledger_edits_are_detected() {
    let e = busy_engine();
    let n = records(&e).len();
    let err = verify_ledger(&tamper(&e, |r, _| set(&mut r[2], "method", "custom".into()))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(3), LedgerErrorKind::Chain));
    assert!(err.message.contains("record 2"), "{err}");
    assert!(err.to_string().starts_with("ledger record 3: "));
    // The same edit with every hash recomputed: what it contradicts (record 2 says its
    // grant came from api, its method now says custom).
    let rehashed = edit(&format!(r#"{{"ledger":{}}}"#, tamper(&e, |r, _| set(&mut r[2], "method", "custom".into()))), rehash);
    let err = verify_ledger(&to_json(field(&json::parse(&rehashed).unwrap(), &["ledger"]))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(2), LedgerErrorKind::Record), "{err}");
    assert!(err.message.contains("granted from api, which is not the last decision logged before it"), "{err}");

    let err = verify_ledger(&tamper(&e, |r, _| set(&mut r[n - 1], "rules_revision", "x".into()))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(n - 1), LedgerErrorKind::Head));

    let err = verify_ledger(&tamper(&e, |r, _| set(&mut r[1], "sneaky", true.into()))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(1), LedgerErrorKind::Record));
    assert!(err.message.contains("$.records[1].sneaky"), "{err}");

    let err = verify_ledger(&tamper(&e, |r, _| set(&mut r[0], "time", "yesterday".into()))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(0), LedgerErrorKind::Record));

    let err = verify_ledger("{]").unwrap_err();
    assert_eq!((err.index, err.kind), (None, LedgerErrorKind::Syntax));
    let err = verify_ledger(&e.export_ledger().replacen("\"version\":1", "\"version\":2", 1)).unwrap_err();
    assert_eq!((err.index, err.kind), (None, LedgerErrorKind::Format));
}

#[test]
fn ledger_reordering_and_removal_are_detected() {
    let e = busy_engine();
    let n = records(&e).len();
    let err = verify_ledger(&tamper(&e, |r, _| r.swap(2, 3))).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(2), LedgerErrorKind::Sequence));

    let err = verify_ledger(&tamper(&e, |r, _| {
        r.remove(4);
    }))
    .unwrap_err();
    assert_eq!((err.index, err.kind), (Some(4), LedgerErrorKind::Sequence));
    assert!(err.message.contains("seq is 5, expected 4"), "{err}");

    // Truncated at the start: `dropped` says nothing was pruned.
    let err = verify_ledger(&tamper(&e, |r, _| {
        r.remove(0);
    }))
    .unwrap_err();
    assert_eq!((err.index, err.kind), (Some(0), LedgerErrorKind::Sequence));

    // Truncated at the end: `head` no longer matches.
    let err = verify_ledger(&tamper(&e, |r, _| {
        r.pop();
    }))
    .unwrap_err();
    assert_eq!((err.index, err.kind), (Some(n - 2), LedgerErrorKind::Head));

    // A record with its seq fixed up still breaks the chain.
    let err = verify_ledger(&tamper(&e, |r, _| {
        r.remove(4);
        for (i, rec) in r.iter_mut().enumerate().skip(4) {
            set(rec, "seq", (i as f64).into());
        }
    }))
    .unwrap_err();
    assert_eq!((err.index, err.kind), (Some(4), LedgerErrorKind::Chain));
}

#[test]
fn the_ledger_is_bounded_and_still_verifies() {
    let (mut e, _) = start(r#","ledger_limit":3"#, None, T0);
    for i in 0..6u8 {
        let t = T0 + i as u64;
        if i % 2 == 0 {
            e.grant(&[P], Method::Api, t, rnd(i));
        } else {
            e.revoke(&[P], t, rnd(i));
        }
    }
    let v = json::parse(&e.export_ledger()).unwrap();
    assert_eq!(field(&v, &["dropped"]), &Value::Number(3.0));
    let kept = records(&e);
    assert_eq!(kept.len(), 3);
    assert_eq!(field(&kept[0], &["seq"]), &Value::Number(3.0));
    assert_eq!(s(&v, &["checkpoint"]), s(&kept[0], &["prev"]));
    assert_ne!(s(&v, &["checkpoint"]), GENESIS);
    assert_eq!(verify_ledger(&e.export_ledger()), Ok(3));
    // The bounded ledger persists and reloads.
    let (e2, fx) = start(r#","ledger_limit":3"#, Some(&e.record_json()), T0 + 10);
    assert!(fx.is_empty());
    assert_eq!(e2.export_ledger(), e.export_ledger());

    // Removing the oldest kept record is detected...
    let cut = tamper(&e, |r, _| {
        r.remove(0);
    });
    assert_eq!(verify_ledger(&cut).unwrap_err().kind, LedgerErrorKind::Sequence);
    // ...also when `dropped` is fixed up (the checkpoint no longer matches)...
    let cut = tamper(&e, |r, m| {
        r.remove(0);
        m.insert("dropped", Value::Number(4.0));
    });
    let err = verify_ledger(&cut).unwrap_err();
    assert_eq!((err.index, err.kind), (Some(0), LedgerErrorKind::Chain));
    // ...but not when the checkpoint is fixed up too: indistinguishable from pruning
    // (documented in the ledger module).
    let cut = tamper(&e, |r, m| {
        let first = r.remove(0);
        m.insert("dropped", Value::Number(4.0));
        m.insert("checkpoint", Value::String(value_hash(&first)));
    });
    assert_eq!(verify_ledger(&cut), Ok(2));
}

/// The hash of a record as exported (already in canonical member order).
fn value_hash(record: &Value) -> String {
    sha256_hex(to_json(record).as_bytes())
}

#[test]
fn the_canonical_form_is_pinned() {
    let record = LedgerRecord {
        seq: 0,
        id: "00112233445566778899aabbccddeeff".into(),
        time: rfc3339(T0),
        method: Source::Api,
        purposes: [
            PurposeEntry {
                decided: Some(State::Granted),
                state: State::Granted,
                source: Source::Api,
                expires: Some(rfc3339(T0 + LIFE)),
            },
            PurposeEntry { decided: None, state: State::NotAsked, source: Source::Default, expires: None },
        ],
        gpc: None,
        tc_string: None,
        gpp_string: Some("DBABMA~CPXxRfA".into()),
        notice_version: "v1 \"é\"\n\u{1f}".into(),
        text_sha256: [sha256_hex(b"P"), sha256_hex(b"M")],
        rules_revision: "r1".into(),
        sdk_version: "0.1.0".into(),
        gpc_override: false,
        prev: GENESIS.into(),
    };
    // The same text Python's json.dumps(separators=(',', ':'), ensure_ascii=False) and
    // JavaScript's JSON.stringify produce; hash computed independently with hashlib.
    let canonical = concat!(
        r#"{"seq":0,"id":"00112233445566778899aabbccddeeff","time":"2026-01-01T00:00:00.000Z","method":"api","#,
        r#""purposes":{"personalization":{"decided":"granted","state":"granted","source":"api","expires":"2026-07-03T00:00:00.000Z"},"#,
        r#""measurement":{"decided":null,"state":"not_asked","source":"default","expires":null}},"#,
        r#""signals":{"gpc":null,"tc_string":null,"gpp_string":"DBABMA~CPXxRfA"},"#,
        r#""notice":{"version":"v1 \"é\"\n\u001f","personalization_sha256":"5c62e091b8c0565f1bafad0dad5934276143ae2ccef7a5381e8ada5b1a8d26d2","#,
        r#""measurement_sha256":"08f271887ce94707da822d5263bae19d5519cb3614e0daedc4c7ce5dab7473f1"},"#,
        r#""rules_revision":"r1","sdk_version":"0.1.0","gpc_override":false,"#,
        r#""prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#
    );
    assert_eq!(to_json(&record.to_value()), canonical);
    assert_eq!(record.hash(), "293b3e8c0a79213abf136bd6f28a7a713dfe11a0f92ce7b056ce7ad84f4dee38");
    assert_eq!(RECORD_FIELDS.len(), record.to_value().as_object().unwrap().len());
}

#[test]
fn ledger_records_hold_the_required_fields_and_no_interaction_data() {
    let e = busy_engine();
    let all = records(&e);
    let methods: Vec<_> = all.iter().map(|r| s(r, &["method"])).collect();
    assert_eq!(methods, ["gpc", "tcf", "api", "gpp", "consent_mode", "klaro", "revocation", "expiry", "gpc"]);
    let api = &all[2];
    assert_eq!(field(api, &["gpc_override"]), &Value::Bool(true));
    assert_eq!(field(api, &["signals", "gpc"]), &Value::Bool(true));
    assert_eq!(s(api, &["signals", "tc_string"]), "CQ-TCSTRING");
    assert_eq!(s(api, &["notice", "version"]), "v1");
    assert_eq!(s(api, &["notice", "personalization_sha256"]), sha256_hex(b"P"));
    assert_eq!(s(api, &["sdk_version"]), crate::VERSION);
    assert_eq!(s(api, &["time"]), "2026-01-01T00:00:00.002Z");
    assert_eq!(s(&all[0], &["prev"]), GENESIS);
    let keys: Vec<_> = api.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, RECORD_FIELDS);
    // The expiry of the API grant lapses it, and GPC (still sent) is seen again.
    assert_eq!(s(&all[7], &["purposes", "personalization", "decided"]), "not_asked");
}

// ---------------------------------------------------------------- the published schema

const SCHEMA: &str = include_str!("../../pkg/consent-ledger.schema.json");

/// A small JSON Schema walker: `$ref` (local), `type`, `const`, `enum`, `anyOf`,
/// `required`, `properties`, `additionalProperties: false`, `items`, `minimum`,
/// `pattern` (ECMAScript, through the native host). Enough for the ledger schema.
fn validate(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let mut fails: Vec<&str> = Vec::new();
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local $ref");
        let target = root.get("$defs").and_then(|d| d.get(name)).expect("$ref target");
        validate(root, target, v, path, errors);
    }
    if schema.get("const").is_some_and(|c| c != v) {
        fails.push("const");
    }
    if schema.get("enum").and_then(Value::as_array).is_some_and(|options| !options.contains(v)) {
        fails.push("enum");
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            t => vec![t.as_str().unwrap()],
        };
        let ok = types.iter().any(|t| match *t {
            "integer" => v.as_f64().is_some_and(|n| n.fract() == 0.0),
            "number" => v.as_f64().is_some(),
            t => v.type_name() == t,
        });
        if !ok {
            fails.push("type");
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let one_holds = any.iter().any(|s| {
            let mut e = Vec::new();
            validate(root, s, v, path, &mut e);
            e.is_empty()
        });
        if !one_holds {
            fails.push("anyOf");
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            fails.push("minimum");
        }
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str()) {
        if crate::host::Host::regex_test(&NativeHost, p, false, s) != Some(true) {
            fails.push("pattern");
        }
    }
    errors.extend(fails.iter().map(|what| format!("{path}: {what}")));
    validate_rest(root, schema, v, path, errors);
}

fn validate_rest(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(obj) = v.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{path}: required {:?}", r.as_str().unwrap()));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in obj.iter() {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => validate(root, sub, x, &format!("{path}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: additional property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{path}[{i}]"), errors);
        }
    }
}

fn schema_errors(export: &str) -> Vec<String> {
    let root = json::parse(SCHEMA).unwrap();
    let mut errors = Vec::new();
    validate(&root, &root, &json::parse(export).unwrap(), "$", &mut errors);
    errors
}

#[test]
fn exported_ledgers_validate_against_the_published_schema() {
    let root = json::parse(SCHEMA).unwrap();
    assert_eq!(s(&root, &["$schema"]), "https://json-schema.org/draft/2020-12/schema");
    // The schema cannot drift from the Rust types.
    let record = field(&root, &["$defs", "record"]);
    let required: Vec<_> = field(record, &["required"]).as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(required, RECORD_FIELDS);
    let props: Vec<_> = field(record, &["properties"]).as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(props, RECORD_FIELDS);
    let names =
        |v: &Value| v.as_array().unwrap().iter().filter_map(Value::as_str).map(String::from).collect::<Vec<_>>();
    let sources: Vec<_> = super::SOURCES.iter().map(|s| s.name().to_string()).collect();
    assert_eq!(names(field(&root, &["$defs", "source", "enum"])), sources);
    assert_eq!(names(field(record, &["properties", "method", "enum"])), sources[1..]);

    let e = busy_engine();
    assert_eq!(schema_errors(&e.export_ledger()), Vec::<String>::new());
    let (mut pruned, _) = start(r#","ledger_limit":1"#, None, T0);
    pruned.grant(&[P, M], Method::AcceptAll, T0, rnd(1));
    pruned.revoke(&[P, M], T0 + 1, rnd(2));
    assert_eq!(schema_errors(&pruned.export_ledger()), Vec::<String>::new());

    // The walker is not vacuous.
    let bad = tamper(&e, |r, _| {
        set(&mut r[0], "id", "XYZ".into());
        set(&mut r[1], "extra", 1.0.into());
        let Value::Object(m) = &mut r[2] else { unreachable!() };
        m.0.retain(|(k, _)| k != "prev");
    });
    let errors = schema_errors(&bad);
    assert_eq!(
        errors,
        ["$.records[0].id: pattern", "$.records[1]: additional property extra", "$.records[2]: required \"prev\""]
    );
}

// ---------------------------------------------------------------- time

#[test]
fn rfc3339_from_milliseconds() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(rfc3339(1_709_164_800_123), "2024-02-29T00:00:00.123Z");
    assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    assert_eq!(rfc3339(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    assert!(rfc3339_is_valid(&rfc3339(T0)));
    assert!(!rfc3339_is_valid("2026-01-01T00:00:00Z"));
}

#[test]
fn civil_from_days_matches_a_day_by_day_calendar() {
    let (mut y, mut m, mut d) = (1970u64, 1u64, 1u64);
    for days in 0..150_000u64 {
        assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let len = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        d += 1;
        if d > len {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
}
