//! The consent record decoder (`tailor:consent`, read by the consent engine as a page
//! starts) and the ledger verifier (`verifyLedger`, given any exported text). Parts
//! separated by NUL bytes: [configuration,] stored record[, TCData, GPP ping data]; a
//! configuration that does not validate falls back to a fixed one. A record the engine
//! keeps must write back as a record it keeps again, unchanged, with a ledger that
//! verifies, before and after the visitor's choices and the CMPs' signals.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor::consent::{verify_ledger, ConsentConfig, ConsentEngine, Effect, GppData, Method, Purpose, Signal, TcfData};
use tailor::json;

const NOW: u64 = tailor_fuzz::NOW_MS as u64;
const RANDOM: [u8; 32] = [7; 32];

/// The engine's record must load back as itself, and its ledger must verify.
fn check(engine: &ConsentEngine, config: &ConsentConfig, now: u64, after: &str) {
    let record = engine.record_json();
    let (again, effects) = ConsentEngine::new(config.clone(), Some(&record), now, RANDOM);
    if let Some(Effect::RecordDiscarded(e)) = effects.iter().find(|e| matches!(e, Effect::RecordDiscarded(_))) {
        panic!("{after}: the record written as {record:?} is discarded on reading: {e:?}");
    }
    assert_eq!(again.record_json(), record, "{after}: reading the record back changed it");
    let ledger = engine.export_ledger();
    if let Err(e) = verify_ledger(&ledger) {
        panic!("{after}: the exported ledger {ledger:?} does not verify: {e:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(parts) = tailor_fuzz::parts(data) else { return };
    let (config, stored, signals) = match parts.len() {
        1 => (None, parts[0], &[][..]),
        _ => (ConsentConfig::parse(parts[0]).ok(), parts[1], &parts[2..]),
    };
    let config = config.unwrap_or_else(|| ConsentConfig::parse(tailor_fuzz::CONSENT_CONFIG).expect("the fuzz configuration is valid"));

    let _ = verify_ledger(stored);
    let (mut engine, _) = ConsentEngine::new(config.clone(), Some(stored), NOW, RANDOM);
    let _ = engine.state(NOW);
    check(&engine, &config, NOW, "stored");

    for (i, text) in signals.iter().take(2).enumerate() {
        let Ok(v) = json::parse(text) else { continue };
        let signal = if i == 0 { Signal::Tcf(TcfData::from_tcdata(&v)) } else { Signal::Gpp(GppData::from_ping(&v)) };
        engine.apply_signal(signal, NOW + 1, RANDOM);
        check(&engine, &config, NOW + 1, "after a signal");
    }
    engine.grant(&Purpose::ALL, Method::AcceptAll, NOW + 2, RANDOM);
    check(&engine, &config, NOW + 2, "after a grant");
    engine.revoke(&[Purpose::ALL[0]], NOW + 3, RANDOM);
    check(&engine, &config, NOW + 3, "after a revocation");
    let later = NOW + config.lifetime_ms() + 4;
    engine.tick(later, RANDOM);
    check(&engine, &config, later, "after expiry");
});
