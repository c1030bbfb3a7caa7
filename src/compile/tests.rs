//! The differential test: the first-decision module (compiled rules, `tailor_first`)
//! against the full engine ([`crate::decide`]), on random documents, profiles and
//! contexts. Wherever the first module decides a slot, the decision must be the full
//! engine's; a slot it leaves to the full engine is counted, and the test also
//! requires that it decides most slots, so it cannot pass by deciding nothing.

use proptest::prelude::*;
use tailor_first::vm::{Inputs, Outcome, Page, Program};

use super::*;
use crate::context::{attributes, PageInputs};
use crate::decide::decide_view;
use crate::host::NativeHost;
use crate::json::{self, Map, Value};
use crate::profile::{Profile, BYTE_BUDGET};
use crate::rules::parse_rules_with;

const NOW: f64 = 1_780_315_200_000.0; // 2026-06-01T12:00:00Z
const HOUR: f64 = 3_600_000.0;
const DAY: f64 = 24.0 * HOUR;

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k, v);
    }
    Value::Object(m)
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

const PATHS: &[&str] = &[
    "page.url",
    "page.host",
    "page.path",
    "query.q",
    "query.utm_source",
    "utm.source",
    "utm.medium",
    "referrer.host",
    "referrer.url",
    "channel",
    "device.type",
    "language",
    "language_primary",
    "time.hour",
    "time.weekday",
    "time.weekday_name",
    "visits",
    "pageviews",
    "cohort",
    "first_seen_days",
    "missing",
    "page.url.length",
    "query.q.x",
    "visits.x",
    "utm.other",
];
const WORDS: &[&str] = &[
    "",
    "shoes",
    "Shoes",
    "10",
    "9",
    "2",
    "0",
    "null",
    "email",
    "direct",
    "mobile",
    "desktop",
    "fr",
    "fr-FR",
    "1e1",
    " 5",
    "é",
    "2026-W22",
    "monday",
    "/shop/shoes",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(s),
        3 => prop_oneof![(-3i32..30).prop_map(|n| Value::Number(n as f64)), Just(Value::Number(0.5)), Just(Value::Number(-0.0))],
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

/// A value test: a literal or an operator object.
fn value_test() -> impl Strategy<Value = Value> {
    let ops = prop_oneof![
        (
            proptest::sample::select(
                &["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$exists", "$type", "$size"][..]
            ),
            scalar()
        )
            .prop_map(|(k, v)| (k, v)),
        (
            proptest::sample::select(&["$in", "$nin", "$ini", "$nini", "$all"][..]),
            proptest::collection::vec(scalar(), 0..4)
        )
            .prop_map(|(k, v)| (k, Value::Array(v))),
        scalar().prop_map(|v| ("$not", v)),
        Just(("$type", s("string"))),
        Just(("$type", s("number"))),
        Just(("$regex", s("^sh"))),
        Just(("$vgt", s("1.2"))),
        Just(("$elemMatch", obj(vec![("$eq", s("x"))]))),
    ];
    prop_oneof![
        3 => scalar(),
        1 => Just(Value::Array(vec![s("shoes")])),
        1 => Just(obj(vec![])),
        6 => proptest::collection::vec(ops, 1..3).prop_map(|list| {
            let mut m = Map::new();
            for (k, v) in list {
                m.insert(k, v);
            }
            Value::Object(m)
        }),
    ]
}

/// A condition that may refer to the named audiences `a0` … `a{audiences - 1}`.
fn condition(audiences: usize) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => (proptest::sample::select(PATHS), value_test()).prop_map(|(p, v)| obj(vec![(p, v)])),
        1 => (0..audiences.max(1)).prop_map(move |i| if audiences == 0 { obj(vec![("channel", s("email"))]) } else { obj(vec![("$audience", s(&format!("a{i}")))]) }),
        1 => Just(obj(vec![("$event", obj(vec![("name", s("view_item"))]))])),
        1 => Just(obj(vec![("page", obj(vec![("$exists", Value::Bool(true))]))])),
        1 => Just(obj(vec![("query.constructor", s("x"))])),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (
                proptest::sample::select(&["$and", "$or", "$nor"][..]),
                proptest::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(k, list)| obj(vec![(k, Value::Array(list))])),
            inner.clone().prop_map(|c| obj(vec![("$not", c)])),
            (inner.clone(), inner).prop_map(|(a, b)| {
                // Two keys in one object: an implicit AND.
                let mut m = a.as_object().cloned().unwrap_or_default();
                for (k, v) in b.as_object().cloned().unwrap_or_default().0 {
                    if !m.contains_key(&k) {
                        m.insert(k, v);
                    }
                }
                Value::Object(m)
            }),
        ]
    })
}

#[derive(Debug, Clone)]
struct Case {
    doc: Value,
    page: PageInputs,
    /// (experience index, variant index, hours ago) impressions, and page views (hours ago).
    impressions: Vec<(usize, usize, f64)>,
    views: Vec<f64>,
    consented: bool,
    stray_assignment: bool,
    unit: String,
    view_start_ago: f64,
}

fn experience(i: usize, audiences: usize) -> impl Strategy<Value = Value> {
    (
        0..3usize,
        prop_oneof![
            2 => Just(None),
            1 => (0..audiences.max(1)).prop_map(move |i| (audiences > 0).then(|| s(&format!("a{i}")))),
            2 => condition(audiences).prop_map(Some),
        ],
        (0..3i32, 1..4usize, prop_oneof![Just(None), (0.0f64..1.0).prop_map(Some)], prop_oneof![Just(1.0), Just(0.5), Just(0.0)]),
        (prop_oneof![Just(None), (-48i32..48).prop_map(Some)], prop_oneof![Just(None), (-48i32..48).prop_map(Some)]),
        (prop_oneof![Just(None), (1u32..4, 1u32..48).prop_map(Some)], prop_oneof![Just(None), (1u32..72).prop_map(Some)]),
        (prop_oneof![Just(None), Just(Some("seed")), Just(Some("é"))], 1u32..3),
    )
        .prop_map(move |(slot, audience, (priority, nv, holdout, coverage), (start, end), (cap, lifetime), (seed, hv))| {
            let mut e = Map::new();
            e.insert("id", s(&format!("e{i}")));
            e.insert("slot", s(&format!("s{slot}")));
            if let Some(a) = audience {
                e.insert("audience", a);
            }
            e.insert("priority", (priority as f64).into());
            let variants = (0..nv).map(|v| obj(vec![("id", s(&format!("v{v}"))), ("content", obj(vec![("text", s("x"))]))])).collect();
            e.insert("variants", Value::Array(variants));
            if let Some(h) = holdout {
                e.insert("holdout", (h * 0.5).into());
            }
            e.insert("coverage", coverage.into());
            let date = |h: i32| s(&crate::rules::time::format_date_time(NOW + h as f64 * HOUR));
            if start.is_some() || end.is_some() {
                let mut sch = Map::new();
                if let Some(h) = start {
                    sch.insert("start", date(h));
                }
                if let Some(h) = end {
                    sch.insert("end", date(h.max(start.unwrap_or(-100) + 1)));
                }
                e.insert("schedule", Value::Object(sch));
            }
            if let Some((n, per)) = cap {
                e.insert("cap", obj(vec![("impressions", (n as f64).into()), ("per", s(&format!("{per}h")))]));
            }
            if let Some(l) = lifetime {
                e.insert("lifetime", s(&format!("{l}h")));
            }
            if let Some(x) = seed {
                e.insert("seed", s(x));
            }
            e.insert("hashVersion", (hv as f64).into());
            Value::Object(e)
        })
}

fn case() -> impl Strategy<Value = Case> {
    (0..4usize)
        .prop_flat_map(|na| {
            // Audience i refers only to audiences before it: no cycles.
            let audiences: Vec<_> = (0..na).map(condition).collect();
            let exps = (1..7usize)
                .prop_flat_map(move |n| (0..n).map(|i| experience(i, na)).collect::<Vec<_>>());
            (
                audiences,
                exps,
                prop_oneof![Just(None), (1u32..4, 1u32..48).prop_map(Some)],
            )
        })
        .prop_flat_map(|(auds, exps, global)| {
            let ne = exps.len();
            let mut doc = Map::new();
            doc.insert("version", 1.0.into());
            let mut a = Map::new();
            for (i, c) in auds.into_iter().enumerate() {
                a.insert(format!("a{i}"), c);
            }
            doc.insert("audiences", Value::Object(a));
            doc.insert(
                "events",
                obj(vec![("page_view", obj(vec![])), ("view_item", obj(vec![]))]),
            );
            if let Some((n, per)) = global {
                doc.insert(
                    "caps",
                    obj(vec![
                        ("impressions", (n as f64).into()),
                        ("per", s(&format!("{per}h"))),
                    ]),
                );
            }
            doc.insert("experiences", Value::Array(exps));
            let doc = Value::Object(doc);
            (
                Just(doc),
                page(),
                proptest::collection::vec((0..ne, 0..4usize, 0.0f64..100.0), 0..6),
                proptest::collection::vec(0.0f64..2000.0, 0..4),
                any::<bool>(),
                any::<bool>(),
                prop_oneof![
                    Just(String::new()),
                    "[a-f0-9]{8}",
                    Just("visitör".to_string())
                ],
                prop_oneof![Just(0.0), 0.0f64..0.5],
            )
        })
        .prop_map(
            |(doc, page, impressions, views, consented, stray_assignment, unit, view_start_ago)| {
                Case {
                    doc,
                    page,
                    impressions,
                    views,
                    consented,
                    stray_assignment,
                    unit,
                    view_start_ago,
                }
            },
        )
}

fn page() -> impl Strategy<Value = PageInputs> {
    (
        proptest::collection::vec(
            (
                proptest::sample::select(
                    &["q", "utm_source", "utm_medium", "gclid", "utm_campaign"][..],
                ),
                proptest::sample::select(WORDS),
            ),
            0..4,
        ),
        proptest::sample::select(
            &[
                "",
                "https://www.google.fr/search",
                "https://shop.example/",
                "https://t.co/x",
                "https://News.example.com/a",
            ][..],
        ),
        proptest::sample::select(
            &[
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile",
                "Mozilla/5.0 (X11; Linux x86_64)",
                "Android 14 Tablet",
            ][..],
        ),
        proptest::sample::select(&["fr-FR", "en", "", "DE-at"][..]),
        0u8..24,
        0u8..7,
        prop_oneof![Just(0u32), Just(390), Just(1280)],
    )
        .prop_map(
            |(query, referrer, ua, language, hour, weekday, viewport_width)| {
                let q: Vec<(String, String)> = query
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
                PageInputs {
                    url: format!("https://shop.example/shop/shoes?{}", qs.join("&")),
                    host: "shop.example".into(),
                    path: "/shop/shoes".into(),
                    query: q,
                    referrer: referrer.into(),
                    user_agent: ua.into(),
                    language: language.into(),
                    hour,
                    weekday,
                    viewport_width,
                }
            },
        )
}

#[derive(Default)]
struct Tally {
    slots: usize,
    decided: usize,
    shown: usize,
    sticky: usize,
    holdout: usize,
}

/// Runs one case through both stages; returns (slots, decided here, shown here).
fn check(c: &Case, tally: &mut Tally) -> Result<(), TestCaseError> {
    let host = &NativeHost;
    let text = c.doc.to_json(host);
    let rules = match parse_rules_with(&text, host) {
        Ok(r) => r,
        Err(p) => {
            if std::env::var("DIFF_DEBUG").is_ok() {
                eprintln!("invalid: {:?}", p.first());
            }
            return Ok(()); // the generator can write invalid documents
        }
    };
    // The stored profile, as the runtime would have written it.
    let stored = if c.consented {
        let mut p = Profile::new();
        let mut times: Vec<f64> = c.views.iter().map(|h| NOW - h * HOUR).collect();
        times.sort_by(f64::total_cmp);
        for t in times {
            p.record_page_view(&rules, &Value::Object(Map::new()), t);
        }
        for &(e, v, ago) in &c.impressions {
            if let Some(exp) = rules.experiences.get(e) {
                let vid = exp.variants.get(v).map_or("gone", |x| x.id.as_str());
                p.record_impression(&exp.id, vid, NOW - ago * HOUR);
            }
        }
        if c.stray_assignment {
            p.record_impression("elsewhere", "v0", NOW - 3.0 * DAY);
        }
        Some(p.serialize())
    } else {
        None
    };
    let view_start = NOW - c.view_start_ago * HOUR;
    // The full engine: load, count the page view, decide.
    let profile = stored.as_ref().map(|t| {
        let mut p = Profile::load_with(t, &rules, NOW, BYTE_BUDGET, host)
            .unwrap_or_else(|_| Profile::new());
        p.record_page_view(&rules, &Value::Object(Map::new()), NOW);
        p
    });
    let full = decide_view(
        &rules,
        &attributes(&c.page),
        profile.as_ref(),
        &c.unit,
        NOW,
        view_start,
        host,
    );
    // The first module.
    let compiled = compile(&rules, host);
    let program = Program::read(&compiled.code)
        .map_err(|_| TestCaseError::fail("the compiled rules do not read back"))?;
    let page = Page {
        url: &c.page.url,
        host: &c.page.host,
        path: &c.page.path,
        query: c
            .page
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        referrer: &c.page.referrer,
        user_agent: &c.page.user_agent,
        language: &c.page.language,
        hour: c.page.hour,
        weekday: c.page.weekday,
        viewport_width: c.page.viewport_width,
    };
    let inputs = Inputs {
        page,
        profile: stored.as_deref().map(tailor_first::profile::read),
        count_page_view: true,
        unit: &c.unit,
        now: NOW,
        view_start,
    };
    let first = program
        .decide(&inputs)
        .map_err(|_| TestCaseError::fail("the first module refused its own compiled rules"))?;
    prop_assert_eq!(first.len(), full.len());
    prop_assert_eq!(
        &compiled.slots,
        &full.iter().map(|d| d.slot.clone()).collect::<Vec<_>>()
    );
    for (o, d) in first.iter().zip(&full) {
        tally.slots += 1;
        let id = |e: u32| rules.experiences[e as usize].id.clone();
        match *o {
            Outcome::Wait => continue,
            Outcome::Default => prop_assert!(
                d.experience.is_none(),
                "first: default; full: {:?} ({})\n{}",
                d.experience,
                d.summary,
                text
            ),
            Outcome::Holdout { experience } => {
                prop_assert_eq!(d.experience.clone(), Some(id(experience)), "{}", text);
                prop_assert!(d.holdout);
                tally.holdout += 1;
            }
            Outcome::Shown {
                experience,
                variant,
                sticky,
            } => {
                let e = &rules.experiences[experience as usize];
                prop_assert_eq!(
                    d.experience.clone(),
                    Some(id(experience)),
                    "{}\n{}",
                    d.summary,
                    text
                );
                prop_assert_eq!(
                    d.variant.clone(),
                    Some(e.variants[variant as usize].id.clone()),
                    "{}",
                    text
                );
                prop_assert_eq!(d.sticky, sticky);
                tally.shown += 1;
                tally.sticky += sticky as usize;
            }
        }
        tally.decided += 1;
    }
    Ok(())
}

#[test]
fn first_decisions_equal_the_full_engines() {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 3000,
        ..Default::default()
    });
    let result = runner.run(&case(), |c| TALLY.with(|t| check(&c, &mut t.borrow_mut())));
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = TALLY.with(|t| std::mem::take(&mut *t.borrow_mut()));
    eprintln!("differential: {} slots, {} decided by the first module: {} variants ({} sticky), {} holdouts", t.slots, t.decided, t.shown, t.sticky, t.holdout);
    // Not vacuous: most slots are decided, and every kind of outcome occurs.
    assert!(
        t.decided * 2 > t.slots,
        "the first module decided only {} of {} slots",
        t.decided,
        t.slots
    );
    assert!(
        t.shown * 12 > t.slots && t.sticky > 20 && t.holdout > 20,
        "too few variants, sticky assignments or holdouts were compared"
    );
}

thread_local! {
    static TALLY: std::cell::RefCell<Tally> = std::cell::RefCell::new(Tally::default());
}

#[test]
fn the_format_round_trips_and_rejects_damage() {
    let rules = parse_rules_with(r#"{"version": 1, "experiences": [{"id": "e", "slot": "hero", "audience": {"channel": "email"}, "variants": [{"id": "a"}, {"id": "b"}]}]}"#, &NativeHost).unwrap();
    let c = compile(&rules, &NativeHost);
    assert!(Program::read(&c.code).is_ok());
    assert!(c.deferred.is_empty());
    for cut in 0..c.code.len() {
        assert!(
            Program::read(&c.code[..cut]).is_err(),
            "a program cut at {cut} bytes was accepted"
        );
    }
    let _ = json::parse("{}");
}

#[test]
fn deferred_experiences_are_listed_with_the_reason() {
    let rules = parse_rules_with(
        r#"{"version": 1, "events": {"view_item": {}}, "audiences": {"fans": {"$event": {"name": "view_item", "count": {"$gte": 2}}}, "deep": {"$or": [{"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"channel": "email"}}}}}}}}}}}}}}}}}}}}}}}]}},
            "experiences": [
              {"id": "beh", "slot": "hero", "audience": "fans", "variants": [{"id": "a"}]},
              {"id": "re", "slot": "hero", "audience": {"page.path": {"$regex": "^/shop"}}, "variants": [{"id": "a"}]},
              {"id": "ver", "slot": "promo", "audience": {"query.v": {"$vgt": "1.2"}}, "variants": [{"id": "a"}]},
              {"id": "deep", "slot": "promo", "audience": "deep", "variants": [{"id": "a"}]},
              {"id": "ok", "slot": "promo", "audience": {"channel": "email"}, "variants": [{"id": "a"}]}]}"#,
        &NativeHost,
    )
    .unwrap();
    let c = compile(&rules, &NativeHost);
    let reasons: Vec<(&str, &str)> = c
        .deferred
        .iter()
        .map(|(e, r)| (e.as_str(), r.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons[0].0 == "beh" && reasons[0].1.contains("$event"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == "re" && reasons[1].1.contains("$regex"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == "ver" && reasons[2].1.contains("$vgt"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].0 == "deep" && reasons[3].1.contains("nested too deeply"),
        "{reasons:?}"
    );
}

#[test]
fn the_engine_reads_a_compiled_file_as_its_rules() {
    let text = r#"{"version": 1, "experiences": [{"id": "e", "slot": "hero", "audience": {"channel": "email"}, "variants": [{"id": "a", "content": {"text": "Hi"}}]}]}"#;
    let (compiled, _) = compile_document(text, &NativeHost).unwrap();
    assert!(compiled.starts_with(r#"{"tailor":"compiled-rules""#), "{compiled}");
    let direct = parse_rules_with(text, &NativeHost).unwrap();
    let enveloped = parse_rules_with(&compiled, &NativeHost).unwrap();
    assert_eq!(format!("{direct:?}"), format!("{enveloped:?}"));
    // Compiling the compiled file again gives the same file.
    assert_eq!(compile_document(&compiled, &NativeHost).unwrap().0, compiled);
}
