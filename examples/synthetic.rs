//! Writes the fixtures `make bench` uses, as one JSON document on stdout, so the
//! browser pages and the native timing run measure exactly the same work:
//!
//! ```sh
//! cargo run --release --example synthetic > target/bench/fixtures.json
//! ```
//!
//! - `rules`, `profile`: the 100-experience document and the 1,000-event profile of
//!   `tailor::decide::synthetic` (text, as the page would store and fetch them);
//! - `page`: the visitor's page inputs in the shape of the JS `pageInputs()` options
//!   (`url`, `userAgent`, `language`, `hour`, `weekday`, `viewportWidth`);
//! - `now`, `unit`: the decision time (ms) and the allocation identity;
//! - `expected`: what Tailor decides for every slot (native, the reference);
//! - `growthbook`: the same experiences for GrowthBook 1.8 (see below): `attributes`,
//!   `features` (one per experience), `slotFeatures` (one per slot), `auto`
//!   (visual-editor experiments), `behavioural` and `mapping` (what was translated).
//!
//! # The GrowthBook equivalent
//!
//! Each experience becomes one feature `exp<i>` whose single rule is an experiment
//! rule with the experience's key (so the same hashing seed), its weights, coverage
//! and hash version, `hashAttribute: "id"`, and its holdout as a GrowthBook filter
//! (`{seed: "<id>:holdout", hashVersion: 2, ranges: [[holdout, 1]]}`: exactly the
//! visitors Tailor does not hold out). Its condition is the audience with every
//! Tailor-only operator replaced by a precomputed attribute, measured by Tailor's own
//! `Behaviour` on the same profile:
//!
//! | Tailor | GrowthBook attribute | GrowthBook condition |
//! |---|---|---|
//! | `{"$event": {name, where?, within?, count?}}` | `ev<k>_<name>`: the count | `{"ev<k>_<name>": count}` (default `{"$gte": 1}`) |
//! | `{"$since": {name, where?, within?, $gt…}}` | `since<k>_<name>`: ms since the last one (1e300 if never) | `{"since<k>_<name>": {"$lte": within, "$gt": …}}` in ms |
//! | `{"$scenario": {…}}` | `scn<k>`: whether it matched | `{"scn<k>": true}` |
//! | `{"$audience": "name"}` / a named audience | (none) | the named audience's condition, translated, inline (`$and`) |
//! | profile attributes | `visits`, `pageviews`, `cohort`, `first_seen_days` | unchanged |
//! | context attributes | `page`, `utm`, `channel`, `device`, `language_primary`, `time`, … | unchanged |
//!
//! `slotFeatures` is the stricter comparison: one feature per slot whose rules are
//! that slot's experiences in Tailor's order (priority, then document order), so
//! GrowthBook stops at the first rule that matches, as Tailor stops at the first
//! candidate that qualifies (one difference: a visitor in a holdout makes GrowthBook
//! move on to the next rule, where Tailor keeps the slot on its default content).
//!
//! Not carried over (GrowthBook's SDK has no equivalent): schedules (every synthetic
//! experience is running), frequency caps (the profile has no impressions, so none is
//! reached) and one-winner-per-slot. `auto` holds the same experiments as visual-editor
//! experiments for GrowthBook's script tag (`auto.min.js`): variation 1 sets the
//! slot's HTML to the variant's text; they are listed lowest priority first, so the
//! experiment GrowthBook applies last to a slot is the one Tailor picks.

use tailor::context;
use tailor::decide::behaviour::Behaviour;
use tailor::decide::decide_all;
use tailor::decide::synthetic::{synthetic_benchmark, synthetic_page, SYNTHETIC_NOW_MS, SYNTHETIC_URL, SYNTHETIC_USER_AGENT};
use tailor::host::NativeHost;
use tailor::json::{Map, Value};
use tailor::profile::Profile;
use tailor::rules::document::{AudienceRef, Rules};
use tailor::rules::parse_rules_with;
use tailor::rules::time::parse_duration;

const UNIT: &str = "visitor";

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// Translates Tailor conditions to GrowthBook ones, collecting precomputed attributes.
struct Translator<'a> {
    rules: &'a Rules,
    beh: Behaviour<'a>,
    now: f64,
    /// (operator + spec as JSON) → attribute name, so equal questions share one.
    names: Vec<(String, String)>,
    attributes: Map,
}

impl Translator<'_> {
    fn attribute(&mut self, op: &str, spec: &Value, value: impl FnOnce(&Self) -> Value) -> String {
        let key = format!("{op}{}", spec.to_json(&NativeHost));
        if let Some((_, n)) = self.names.iter().find(|(k, _)| *k == key) {
            return n.clone();
        }
        let event = spec.get("name").and_then(Value::as_str).map(|n| format!("_{n}")).unwrap_or_default();
        let name = format!("{op}{}{event}", self.names.len());
        let v = value(self);
        self.attributes.insert(name.clone(), v);
        self.names.push((key, name.clone()));
        name
    }

    fn condition(&mut self, c: &Value) -> Value {
        let Value::Object(m) = c else { return c.clone() };
        let mut out = Map::new();
        let mut and: Vec<Value> = Vec::new();
        for (k, v) in m.iter() {
            match k.as_str() {
                "$and" | "$or" | "$nor" => {
                    let list = v.as_array().map(|a| a.iter().map(|x| self.condition(x)).collect()).unwrap_or_default();
                    if k == "$and" {
                        and.extend(list);
                    } else {
                        out.insert(k.clone(), Value::Array(list));
                    }
                }
                "$not" => out.insert(k.clone(), self.condition(v)),
                "$event" => {
                    let spec = v.as_object().cloned().unwrap_or_default();
                    let name = self.attribute("ev", v, |t| t.beh.event_count(&spec).into());
                    let count = v.get("count").cloned().unwrap_or_else(|| obj(vec![("$gte", 1.0.into())]));
                    out.insert(name, count);
                }
                "$since" => {
                    let spec = v.as_object().cloned().unwrap_or_default();
                    let now = self.now;
                    let name = self.attribute("since", v, |t| t.beh.last_time(&spec).map_or(1e300, |l| now - l).into());
                    let mut bounds = Map::new();
                    for (op, d) in spec.iter() {
                        let Some(ms) = d.as_str().and_then(parse_duration) else { continue };
                        let op = if op == "within" { "$lte" } else { op.as_str() };
                        if ["$lt", "$lte", "$gt", "$gte"].contains(&op) {
                            bounds.insert(op, ms.into());
                        }
                    }
                    out.insert(name, Value::Object(bounds));
                }
                "$scenario" => {
                    let spec = v.as_object().cloned().unwrap_or_default();
                    let name = self.attribute("scn", v, |t| t.beh.scenario_match(&spec).passed().into());
                    out.insert(name, true.into());
                }
                "$audience" => {
                    let a = v.as_str().and_then(|n| self.rules.audience(n)).map(|a| a.condition());
                    // An unknown audience never matches in Tailor.
                    and.push(a.map_or_else(|| obj(vec![("$or", Value::Array(Vec::new())), ("$nor", Value::Array(Vec::new()))]), |c| self.condition(&c)));
                }
                _ => out.insert(k.clone(), v.clone()),
            }
        }
        if !and.is_empty() {
            out.insert("$and", Value::Array(and));
        }
        Value::Object(out)
    }
}

fn main() {
    let host = NativeHost;
    let (rules_json, profile_text) = synthetic_benchmark(100);
    let rules = parse_rules_with(&rules_json, &host).unwrap_or_else(|p| panic!("synthetic rules invalid: {p:?}"));
    let profile = Profile::parse_with(&profile_text, &host).expect("synthetic profile");
    let now = SYNTHETIC_NOW_MS;
    let page_inputs = synthetic_page();
    let ctx = context::attributes(&page_inputs);

    // Tailor's decisions, the reference both browser runs are checked against. The
    // profile is pruned first, as Engine.loadProfile does.
    let mut loaded = profile.clone();
    loaded.prune(&rules, now, tailor::profile::BYTE_BUDGET);
    let decisions = decide_all(&rules, &ctx, Some(&loaded), UNIT, now, &host);
    let expected: Vec<Value> = decisions
        .iter()
        .map(|d| {
            let text = d.content.as_ref().and_then(|c| c.text.clone());
            let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
            obj(vec![
                ("slot", d.slot.as_str().into()),
                ("experience", opt(&d.experience)),
                ("variant", opt(&d.variant)),
                ("holdout", d.holdout.into()),
                ("text", text.map_or(Value::Null, Value::from)),
            ])
        })
        .collect();

    // GrowthBook: attributes, one feature per experience, and the visual experiments.
    let mut tx = Translator { rules: &rules, beh: Behaviour::new(Some(&loaded), now, &host, Some(&rules.saved_groups)), now, names: Vec::new(), attributes: Map::new() };
    let mut features = Map::new();
    // Per slot: (slot, priority, document index, rule) to build one feature per slot.
    let mut slot_rules: Vec<(String, f64, usize, Value)> = Vec::new();
    let mut auto: Vec<(f64, usize, Value)> = Vec::new();
    let mut mapping = Vec::new();
    for (idx, e) in rules.experiences.iter().enumerate() {
        let tailor_condition = match &e.audience {
            None => obj(vec![]),
            Some(AudienceRef::Inline(a)) => a.condition(),
            Some(AudienceRef::Named(n)) => obj(vec![("$audience", n.as_str().into())]),
        };
        let condition = tx.condition(&tailor_condition);
        mapping.push(obj(vec![("experience", e.id.as_str().into()), ("tailor", tailor_condition), ("growthbook", condition.clone())]));
        let weights: Option<Vec<Value>> = e.variants.iter().map(|v| v.weight.map(Value::from)).collect();
        let seed = e.seed.clone().unwrap_or_else(|| e.id.clone());
        let mut rule = vec![
            ("key", e.id.as_str().into()),
            ("seed", seed.as_str().into()),
            ("condition", condition.clone()),
            ("variations", Value::Array(e.variants.iter().map(|v| v.id.as_str().into()).collect())),
            ("coverage", e.coverage.into()),
            ("hashAttribute", "id".into()),
            ("hashVersion", (e.hash_version as f64).into()),
        ];
        if let Some(w) = &weights {
            rule.push(("weights", Value::Array(w.clone())));
        }
        if e.holdout > 0.0 {
            let filter = obj(vec![
                ("seed", format!("{seed}:holdout").into()),
                ("hashVersion", 2.0.into()),
                ("ranges", Value::Array(vec![Value::Array(vec![e.holdout.into(), 1.0.into()])])),
            ]);
            rule.push(("filters", Value::Array(vec![filter])));
        }
        let rule = obj(rule);
        let mut slot_rule = rule.as_object().cloned().unwrap_or_default();
        slot_rule.insert("variations", Value::Array(e.variants.iter().map(|v| format!("{}:{}", e.id, v.id).into()).collect()));
        slot_rules.push((e.slot.clone(), e.priority, idx, Value::Object(slot_rule)));
        features.insert(e.id.clone(), obj(vec![("defaultValue", Value::Null), ("rules", Value::Array(vec![rule.clone()]))]));

        // The visual-editor form for auto.min.js.
        let selector = format!("[data-tailor-slot=\"{}\"]", e.slot);
        let variations = e
            .variants
            .iter()
            .map(|v| {
                let muts = match v.content.as_ref().and_then(|c| c.text.as_deref()) {
                    Some(text) => vec![obj(vec![("selector", selector.as_str().into()), ("action", "set".into()), ("attribute", "html".into()), ("value", text.into())])],
                    None => Vec::new(),
                };
                obj(vec![("domMutations", Value::Array(muts))])
            })
            .collect();
        let mut exp = rule.as_object().cloned().unwrap_or_default();
        exp.insert("changeId", e.id.as_str().into());
        exp.insert("variations", Value::Array(variations));
        auto.push((e.priority, idx, Value::Object(exp)));
    }
    // One feature per slot, its rules in Tailor's order (priority, then document
    // order): GrowthBook's first matching rule is Tailor's first qualifying candidate.
    slot_rules.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    let mut slot_features = Map::new();
    for (slot, _, _, rule) in &slot_rules {
        if slot_features.get(slot).is_none() {
            slot_features.insert(slot.clone(), obj(vec![("defaultValue", Value::Null), ("rules", Value::Array(Vec::new()))]));
        }
        if let Some(Value::Object(f)) = slot_features.0.iter_mut().find(|(k, _)| k == slot).map(|(_, v)| v) {
            if let Some(Value::Array(list)) = f.0.iter_mut().find(|(k, _)| k == "rules").map(|(_, v)| v) {
                list.push(rule.clone());
            }
        }
    }
    // Lowest priority first; ties in reverse document order (Tailor prefers the first).
    auto.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));

    let mut gb_attrs = ctx.as_object().cloned().unwrap_or_default();
    for (k, v) in loaded.attributes(now) {
        gb_attrs.insert(k, v);
    }
    for (k, v) in tx.attributes.iter() {
        gb_attrs.insert(k.clone(), v.clone());
    }
    gb_attrs.insert("id", UNIT.into());
    let behavioural: Vec<Value> = tx.names.iter().map(|(k, n)| obj(vec![("attribute", n.as_str().into()), ("measures", k.as_str().into())])).collect();

    let page = obj(vec![
        ("url", SYNTHETIC_URL.into()),
        ("referrer", "".into()),
        ("userAgent", SYNTHETIC_USER_AGENT.into()),
        ("language", page_inputs.language.as_str().into()),
        ("hour", (page_inputs.hour as f64).into()),
        ("weekday", (page_inputs.weekday as f64).into()),
        ("viewportWidth", (page_inputs.viewport_width as f64).into()),
    ]);
    let conditions: usize = rules
        .experiences
        .iter()
        .map(|e| match &e.audience {
            Some(AudienceRef::Inline(a)) => a.clauses.len(),
            Some(AudienceRef::Named(n)) => rules.audience(n).map_or(0, |a| a.clauses.len()),
            None => 0,
        })
        .sum();
    let out = obj(vec![
        ("now", now.into()),
        ("unit", UNIT.into()),
        ("experiences", (rules.experiences.len() as f64).into()),
        ("conditions", (conditions as f64).into()),
        ("events", (profile.events().len() as f64).into()),
        ("rollups", (profile.rollups().len() as f64).into()),
        ("rules", rules_json.as_str().into()),
        ("profile", profile_text.as_str().into()),
        ("page", page),
        ("context", ctx.clone()),
        ("expected", Value::Array(expected)),
        (
            "growthbook",
            obj(vec![
                ("attributes", Value::Object(gb_attrs)),
                ("features", Value::Object(features)),
                ("slotFeatures", Value::Object(slot_features)),
                ("auto", Value::Array(auto.into_iter().map(|(_, _, v)| v).collect())),
                ("behavioural", Value::Array(behavioural)),
                ("mapping", Value::Array(mapping)),
            ]),
        ),
    ]);
    println!("{}", out.to_json(&host));
}
