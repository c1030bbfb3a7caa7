//! Writes the generated part of the fuzz seed corpus (`fuzz/corpus/`): stored profiles
//! and consent records as the engine itself writes them, and multi-part inputs for the
//! decide and consent targets. The rules documents in the corpus are copies of the
//! repository's own. Run from the repository root after a format change:
//!
//!     cargo run --example fuzz_seeds
//!
//! Inputs of several parts separate them with a NUL byte (see `fuzz/src/lib.rs`).

use std::fs;
use std::path::Path;

use tailor::consent::{ConsentConfig, ConsentEngine, GppData, Method, Purpose, Signal, TcfData};
use tailor::decide::synthetic::{synthetic_benchmark, SYNTHETIC_NOW_MS};
use tailor::json::{self, Map, Value};
use tailor::profile::Profile;
use tailor::rules::parse_rules;

const DAY_MS: f64 = 86_400_000.0;

const TCDATA: &str = r#"{"gdprApplies": true, "cmpStatus": "loaded", "eventStatus": "useractioncomplete", "tcString": "CPzFZAAPzFZAAAGABCENAbEsAP_AAH_AAAqIHWtf_X_fb39j-_59_9t0eY1f9_7_v-0zjhfdt-8N2f_X_L8X42M7vF36pq4KuR4Eu3LBIQdlHOHcTUmw6okVrzPsbk2cr7NKJ7PEmnMbO2dYGH9_n93TuZKY7__8___z__-v_v____f_r-3_3__p9X---_e_V399xLv9_3g",
  "purpose": {"consents": {"1": true, "2": false, "3": true, "4": true, "5": true, "6": true, "7": true, "8": false, "9": true, "10": true}, "legitimateInterests": {"2": true, "7": true}},
  "vendor": {"consents": {"42": true, "755": true}, "legitimateInterests": {"42": false}},
  "publisher": {"consents": {"1": true}, "restrictions": {"5": {"42": 0}}}}"#;
const GPP_PING: &str = r#"{"signalStatus": "ready", "gppString": "DBABL~BVQqAAAAAgA.QA", "applicableSections": [7],
  "parsedSections": {"usnat": [{"SaleOptOut": 1, "SharingOptOut": 2, "TargetedAdvertisingOptOut": 1, "Gpc": false}]}}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("corpus folder");
    fs::write(dir.join(name), bytes).expect("seed written");
}

fn join(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

/// A profile of `n` events over the `days` before now, on the synthetic rules.
fn profile(rules: &tailor::rules::Rules, n: usize, days: f64) -> Profile {
    let mut p = Profile::new();
    for k in 0..n {
        let t = SYNTHETIC_NOW_MS - days * DAY_MS + k as f64 * (days * DAY_MS / n as f64);
        let mut props = Map::new();
        props.insert("category", ["shoes", "hats", "bags"][k % 3].into());
        props.insert("price", Value::Number(9.5 + k as f64));
        let props = Value::Object(props);
        match k % 5 {
            0 | 1 => p.record_page_view(rules, &props, t),
            2 | 3 => {
                p.record_event(rules, "view_item", &props, t);
            }
            _ => {
                p.record_event(rules, "purchase", &Value::Null, t);
            }
        }
        if k % 7 == 0 {
            p.record_impression(&format!("exp{}", k % 3), "treatment", t);
        }
    }
    p
}

fn main() {
    let root = Path::new("fuzz/corpus");
    let (rules_json, _) = synthetic_benchmark(6);
    let rules = parse_rules(&rules_json).expect("synthetic rules");
    write(&root.join("rules"), "synthetic-6.json", rules_json.as_bytes());

    // Profiles: whole stored texts (flag 0), the body alone behind a header the target
    // makes valid (flag 1), and the same with the small byte budget (flag 3).
    let small = profile(&rules, 12, 3.0).serialize();
    let large = profile(&rules, 120, 120.0).serialize();
    let body = |s: &str| s.splitn(3, ':').nth(2).expect("tp1:sum:body").to_string();
    for (name, flags, text) in [
        ("small-stored", 0u8, small.clone()),
        ("small-body", 1, body(&small)),
        ("large-body", 1, body(&large)),
        ("large-body-budget", 3, body(&large)),
        ("empty-body", 1, body(&Profile::new().serialize())),
    ] {
        let mut bytes = vec![flags];
        bytes.extend_from_slice(text.as_bytes());
        write(&root.join("profile"), name, &bytes);
    }

    // Rounds: the repository's rules, a page, a profile body, a unit.
    let page = r#"{"url": "https://shop.example/shop/shoes?utm_campaign=spring&utm_medium=email&gclid=x", "host": "shop.example", "path": "/shop/shoes",
      "query": [["utm_campaign", "spring"], ["utm_medium", "email"], ["gclid", "x"]], "referrer": "https://www.google.com/",
      "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "language": "fr-FR", "hour": 12, "weekday": 1, "viewportWidth": 390}"#;
    let page: String = json::parse(page).expect("page").to_json(&tailor::host::PlainHost);
    write(&root.join("decide"), "synthetic", &join(&[&rules_json, &page, &body(&large), "visitor"]));
    for (name, file) in [
        ("shop", "tests/e2e/pages/runtime/shop-rules.json"),
        ("content", "tests/e2e/pages/runtime/content-rules.json"),
        ("experiment", "tests/e2e/pages/runtime/experiment-rules.json"),
        ("year", "tests/e2e/pages/runtime/year-rules.json"),
        ("www", "www/rules.json"),
    ] {
        let doc = fs::read_to_string(file).expect("rules file");
        write(&root.join("decide"), name, &join(&[&doc, &page, &body(&small), "u-1"]));
    }

    // Consent records at each step of a visitor's life, each with the configuration it
    // was written under, and the signals that led to the next.
    let config_text = r#"{"notice_version": "v1", "purposes": {"personalization": {"text": "P"}, "measurement": {"text": "M"}},
      "signals": {"tcf": {"gdpr_applies": true, "vendor_id": 42}, "gpp": true, "consent_mode": true}, "lifetime_days": 30, "ledger_limit": 5}"#;
    let config = ConsentConfig::parse(config_text).unwrap_or_else(|e| panic!("{e:?}"));
    let now = SYNTHETIC_NOW_MS as u64;
    let (mut engine, _) = ConsentEngine::new(config, None, now, [1; 32]);
    let mut records = vec![("first-visit", engine.record_json())];
    engine.grant(&Purpose::ALL, Method::AcceptAll, now + 1_000, [2; 32]);
    records.push(("accept-all", engine.record_json()));
    let tcf = TcfData::from_tcdata(&json::parse(TCDATA).expect("tcdata"));
    engine.apply_signal(Signal::Tcf(tcf), now + 2_000, [3; 32]);
    engine.apply_signal(Signal::Gpp(GppData::from_ping(&json::parse(GPP_PING).expect("gpp"))), now + 3_000, [4; 32]);
    engine.apply_signal(Signal::Gpc(true), now + 4_000, [5; 32]);
    records.push(("signals", engine.record_json()));
    engine.decide(&[(Purpose::Personalization, true), (Purpose::Measurement, false)], Method::Custom, now + 5_000, [6; 32]);
    engine.revoke(&[Purpose::Measurement], now + 6_000, [7; 32]);
    engine.tick(now + 40 * DAY_MS as u64, [8; 32]);
    records.push(("expired", engine.record_json()));
    for (name, record) in &records {
        write(&root.join("consent"), name, &join(&[config_text, record, TCDATA, GPP_PING]));
        write(&root.join("consent"), &format!("{name}-record-only"), record.as_bytes());
    }
    write(&root.join("consent"), "ledger-export", engine.export_ledger().as_bytes());
    println!("seeds written under {}", root.display());
}
