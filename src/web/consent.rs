//! The consent engine for JavaScript: decode → call [`ConsentEngine`] → encode the
//! effects as JSON for `js/consent.js` to carry out (persist, delete, notify).

use wasm_bindgen::prelude::*;

use super::{problems_json, BrowserHost};
use crate::consent::{self, Adapter, ConsentConfig, ConsentEngine, Effect, GppData, Method, Purpose, Signal, TcfData};
use crate::json::{self, Map, Value};

/// One visitor's consent, for one page.
#[wasm_bindgen]
pub struct Consent {
    engine: ConsentEngine,
    startup: String,
}

fn random32(random: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, r) in out.iter_mut().zip(random) {
        *o = *r;
    }
    out
}

fn purposes(list: &str) -> Result<Vec<Purpose>, String> {
    let v = json::parse_with_host(list, &BrowserHost).map_err(|e| e.to_string())?;
    let names = v.as_array().ok_or("purposes must be an array such as [\"personalization\"]")?;
    names
        .iter()
        .map(|n| {
            n.as_str().and_then(Purpose::from_name).ok_or_else(|| {
                let mut m = String::from("unknown purpose ");
                m.push_str(&n.to_json(&BrowserHost));
                m.push_str(": expected \"personalization\" or \"measurement\"");
                m
            })
        })
        .collect()
}

fn names(purposes: &[Purpose]) -> Value {
    Value::Array(purposes.iter().map(|p| p.name().into()).collect())
}

fn effects_json(effects: Vec<Effect>) -> String {
    let list = effects
        .into_iter()
        .map(|e| {
            let mut m = Map::new();
            match e {
                Effect::RecordDiscarded(err) => {
                    m.insert("type", "record_discarded".into());
                    m.insert("message", err.to_string().into());
                }
                Effect::Delete { purpose, keys } => {
                    m.insert("type", "delete".into());
                    m.insert("purpose", purpose.name().into());
                    m.insert("prefix", purpose.key_prefix().into());
                    m.insert("keys", Value::Array(keys.iter().map(|k| (*k).into()).collect()));
                }
                Effect::Persist { key, value } => {
                    m.insert("type", "persist".into());
                    m.insert("key", key.into());
                    m.insert("value", value.into());
                }
                Effect::Changed { purposes } => {
                    m.insert("type", "changed".into());
                    m.insert("purposes", names(&purposes));
                }
                Effect::AskAgain { purposes } => {
                    m.insert("type", "ask_again".into());
                    m.insert("purposes", names(&purposes));
                }
            }
            Value::Object(m)
        })
        .collect();
    Value::Array(list).to_json(&BrowserHost)
}

fn method(name: &str) -> Result<Method, String> {
    Ok(match name {
        "api" => Method::Api,
        "accept_all" => Method::AcceptAll,
        "reject_all" => Method::RejectAll,
        "custom" => Method::Custom,
        _ => return Err("unknown method: expected api, accept_all, reject_all or custom".into()),
    })
}

#[wasm_bindgen]
impl Consent {
    /// Starts from the configuration and the stored record (UTF-8); throws the JSON array of
    /// configuration problems. The start-up effects are in [`Consent::startup_effects`].
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, stored: Option<Box<[u8]>>, now_ms: f64, random: &[u8]) -> Result<Consent, String> {
        let config = json::parse_with_host(config_json, &BrowserHost)
            .map_err(|e| problems_json(&[crate::rules::Problem { path: "$".into(), expected: "a JSON document".into(), found: e.to_string() }]))
            .and_then(|v| ConsentConfig::from_json(&v).map_err(|p| problems_json(&p)))?;
        // `stored` is TextEncoder output (see `utf8`); bytes that are not UTF-8 are read as
        // an empty record, which cannot be parsed and is discarded like any corrupted one.
        let stored = stored.as_deref().map(|b| super::utf8(b).unwrap_or_default());
        let (engine, effects) = ConsentEngine::new(config, stored, now_ms as u64, random32(random));
        Ok(Consent { engine, startup: effects_json(effects) })
    }

    /// The effects of starting (JSON array), to carry out once.
    #[wasm_bindgen(js_name = startupEffects)]
    pub fn startup_effects(&mut self) -> String {
        core::mem::take(&mut self.startup)
    }

    /// Explicit choices: `choices_json` is `{"personalization": true, …}`.
    pub fn decide(&mut self, choices_json: &str, method_name: &str, now_ms: f64, random: &[u8]) -> Result<String, String> {
        let v = json::parse_with_host(choices_json, &BrowserHost).map_err(|e| e.to_string())?;
        let obj = v.as_object().ok_or("choices must be an object such as {\"personalization\": true}")?;
        let mut choices = Vec::new();
        for (k, v) in obj.iter() {
            let p = Purpose::from_name(k).ok_or("unknown purpose: expected personalization or measurement")?;
            choices.push((p, v.as_bool().ok_or("each choice must be true or false")?));
        }
        Ok(effects_json(self.engine.decide(&choices, method(method_name)?, now_ms as u64, random32(random))))
    }

    /// Grants purposes (a JSON array of names).
    pub fn grant(&mut self, purposes_json: &str, method_name: &str, now_ms: f64, random: &[u8]) -> Result<String, String> {
        let list = purposes(purposes_json)?;
        Ok(effects_json(self.engine.grant(&list, method(method_name)?, now_ms as u64, random32(random))))
    }

    /// Revokes purposes (a JSON array of names).
    pub fn revoke(&mut self, purposes_json: &str, now_ms: f64, random: &[u8]) -> Result<String, String> {
        let list = purposes(purposes_json)?;
        Ok(effects_json(self.engine.revoke(&list, now_ms as u64, random32(random))))
    }

    /// A signal read from the page: `kind` is gpc, tcf, gpp, consent_mode,
    /// cookieconsent or klaro; `data_json` its data (see `js/consent.js`).
    pub fn signal(&mut self, kind: &str, data_json: &str, now_ms: f64, random: &[u8]) -> Result<String, String> {
        let v = json::parse_with_host(data_json, &BrowserHost).map_err(|e| e.to_string())?;
        let flag = |k: &str| v.get(k).and_then(Value::as_bool);
        let signal = match kind {
            "gpc" => Signal::Gpc(v.as_bool().unwrap_or(false)),
            "tcf" => Signal::Tcf(TcfData::from_tcdata(&v)),
            "gpp" => Signal::Gpp(GppData::from_ping(&v)),
            "consent_mode" => Signal::ConsentMode { personalization_storage: flag("personalization_storage"), analytics_storage: flag("analytics_storage") },
            "cookieconsent" | "klaro" => Signal::Adapter {
                adapter: if kind == "klaro" { Adapter::Klaro } else { Adapter::CookieConsent },
                personalization: flag("personalization"),
                measurement: flag("measurement"),
            },
            _ => return Err("unknown signal".into()),
        };
        Ok(effects_json(self.engine.apply_signal(signal, now_ms as u64, random32(random))))
    }

    /// Expiry check; call periodically and at start-up.
    pub fn tick(&mut self, now_ms: f64, random: &[u8]) -> String {
        effects_json(self.engine.tick(now_ms as u64, random32(random)))
    }

    /// Whether `purpose` is granted now.
    #[wasm_bindgen(js_name = isGranted)]
    pub fn is_granted(&self, purpose: &str, now_ms: f64) -> bool {
        Purpose::from_name(purpose).is_some_and(|p| self.engine.is_granted(p, now_ms as u64))
    }

    /// Each purpose's state, source and expiry, and the GPC flag (JSON).
    pub fn state(&self, now_ms: f64) -> String {
        self.engine.state(now_ms as u64).to_json(&BrowserHost)
    }

    /// The ledger export (JSON, valid against consent-ledger.schema.json).
    #[wasm_bindgen(js_name = exportLedger)]
    pub fn export_ledger(&self) -> String {
        self.engine.export_ledger()
    }
}

/// Verifies an exported ledger: `{"ok":true,"records":N}` or
/// `{"ok":false,"index":i|null,"kind":…,"message":…}`.
#[wasm_bindgen(js_name = verifyLedgerJson)]
pub fn verify_ledger_json(text: &str) -> String {
    let mut m = Map::new();
    match consent::verify_ledger(text) {
        Ok(n) => {
            m.insert("ok", true.into());
            m.insert("records", (n as f64).into());
        }
        Err(e) => {
            m.insert("ok", false.into());
            m.insert("index", e.index.map_or(Value::Null, |i| (i as f64).into()));
            m.insert("kind", e.kind.name().into());
            m.insert("message", e.message.as_str().into());
        }
    }
    Value::Object(m).to_json(&BrowserHost)
}
