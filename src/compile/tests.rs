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

/// Event names the generated documents declare, and what each keeps (`page_view`'s
/// list varies per case: see [`Case::page_view`]). The profiles also hold `legacy`,
/// which the documents no longer declare.
const EVENTS: [&str; 5] = ["page_view", "view_item", "add_to_cart", "purchase", "legacy"];
const KEEP: [&[&str]; 5] = [
    &["path"],
    &["category", "price", "promo"],
    &["category", "qty"],
    &["total"],
    &["category"],
];
const DURATIONS: &[&str] = &["1h", "12h", "1d", "2d", "7d", "30d", "90d", "400d"];

/// A kept property's value: mostly what filters test, sometimes what the first module
/// cannot follow (a fraction, a nested value, an escaped string).
fn prop_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => proptest::sample::select(&["shoes", "hats", "10", "", "é", "/shop/shoes", "/"][..]).prop_map(s),
        4 => (-2i32..12).prop_map(|n| Value::Number(n as f64)),
        3 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => prop_oneof![
            Just(Value::Number(9.5)),
            Just(Value::Array(vec![s("shoes")])),
            Just(obj(vec![("toString", 1.0.into())])),
            Just(s("a\"b")),
        ],
    ]
}

/// Properties as a page would send them (what is kept depends on the event).
fn event_props() -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (proptest::sample::select(&["category", "price", "promo", "qty", "total", "path", "other"][..]), prop_value()),
        0..4,
    )
    .prop_map(|kv| {
        let mut m = Map::new();
        for (k, v) in kv {
            m.insert(k, v);
        }
        Value::Object(m)
    })
}

/// A literal a `where` filter compares with.
fn filter_literal() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(&["shoes", "hats", "10", "é", "/shop/shoes", "true"][..]).prop_map(s),
        3 => prop_oneof![(-1i32..12).prop_map(|n| Value::Number(n as f64)), Just(Value::Number(9.5))],
        3 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

/// A `where` filter over `keep`: the fast-path shapes mostly, any value test sometimes.
fn where_filter(keep: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let test = prop_oneof![
        4 => filter_literal(),
        3 => (proptest::sample::select(&["$in", "$nin"][..]), proptest::collection::vec(filter_literal(), 0..4))
            .prop_map(|(k, list)| obj(vec![(k, Value::Array(list))])),
        2 => value_test(),
    ];
    let clause = proptest::collection::vec((proptest::sample::select(keep), test), 1..3).prop_map(|kv| {
        let mut m = Map::new();
        for (k, v) in kv {
            m.insert(k, v);
        }
        Value::Object(m)
    });
    prop_oneof![
        6 => clause.clone(),
        1 => (clause.clone(), clause.clone()).prop_map(|(a, b)| obj(vec![("$or", Value::Array(vec![a, b]))])),
        1 => clause.prop_map(|c| obj(vec![("$not", c)])),
        1 => Just(obj(vec![])),
    ]
}

/// `$event` or `$since` on one of the declared events.
fn behavioural() -> impl Strategy<Value = Value> {
    (0..4usize, any::<bool>())
        .prop_flat_map(|(n, since)| {
            let count = prop_oneof![
                3 => Just(None),
                2 => (0i32..4).prop_map(|n| Some(Value::Number(n as f64))),
                4 => proptest::collection::vec(
                    (proptest::sample::select(&["$gte", "$gt", "$lt", "$lte", "$eq", "$ne"][..]), 0i32..5),
                    1..3
                )
                .prop_map(|ops| {
                    let mut m = Map::new();
                    for (k, n) in ops {
                        m.insert(k, Value::Number(n as f64));
                    }
                    Some(Value::Object(m))
                }),
                1 => Just(Some(obj(vec![("$in", Value::Array(vec![0.0.into(), 2.0.into()]))]))),
                1 => Just(Some(obj(vec![("$gt", s("1"))]))),
                1 => Just(Some(obj(vec![("$vgt", s("1"))]))),
            ];
            (
                Just(n),
                Just(since),
                prop_oneof![2 => Just(None), 1 => where_filter(KEEP[n]).prop_map(Some)],
                proptest::option::of(proptest::sample::select(DURATIONS)),
                count,
                proptest::collection::vec(
                    (proptest::sample::select(&["within", "$gt", "$gte", "$lt", "$lte"][..]), proptest::sample::select(DURATIONS)),
                    1..3,
                ),
            )
        })
        .prop_map(|(n, since, filter, within, count, bounds)| {
            let mut m = Map::new();
            m.insert("name", s(EVENTS[n]));
            if let Some(w) = filter {
                m.insert("where", w);
            }
            if since {
                for (k, d) in bounds {
                    m.insert(k, s(d));
                }
                return obj(vec![("$since", Value::Object(m))]);
            }
            if let Some(d) = within {
                m.insert("within", s(d));
            }
            if let Some(c) = count {
                m.insert("count", c);
            }
            obj(vec![("$event", Value::Object(m))])
        })
}

/// Milliseconds before now (negative: after now): window edges exactly and a
/// millisecond either side, the last hours and days, months back.
fn ago() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => (proptest::sample::select(&[0.0, HOUR, 12.0 * HOUR, DAY, 2.0 * DAY, 7.0 * DAY, 30.0 * DAY, 90.0 * DAY][..]), -1i32..=1)
            .prop_map(|(t, d)| t + d as f64),
        3 => (0.0f64..72.0).prop_map(|h| h * HOUR),
        3 => (0.0f64..200.0).prop_map(|d| d * DAY),
        1 => (0.0f64..3.0).prop_map(|h| -h * HOUR),
    ]
}

/// A condition that may refer to the named audiences `a0` … `a{audiences - 1}`.
fn condition(audiences: usize) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => (proptest::sample::select(PATHS), value_test()).prop_map(|(p, v)| obj(vec![(p, v)])),
        1 => (0..audiences.max(1)).prop_map(move |i| if audiences == 0 { obj(vec![("channel", s("email"))]) } else { obj(vec![("$audience", s(&format!("a{i}")))]) }),
        4 => behavioural(),
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
    /// Recorded events: (index in [`EVENTS`], ms before now, properties sent).
    events: Vec<(usize, f64, Value)>,
    /// Raw events the recording profile kept (fewer: more rollups).
    ring: usize,
    /// Days before now the profile was written (pruned, so rollups coarsen), if it was.
    written: Option<f64>,
    /// Whether this page view is counted before deciding.
    count_page_view: bool,
    /// Now, a fraction of a millisecond past [`NOW`] (the page view's own event is
    /// stored at `now` rounded).
    now: f64,
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
                prop_oneof![1 => Just(0usize), 1 => Just(1), 1 => Just(2), 3 => Just(3)],
                proptest::collection::vec(
                    prop_oneof![3 => Just(None), 1 => proptest::sample::select(&["1d", "3d", "30d"][..]).prop_map(Some)],
                    4,
                ),
            )
        })
        .prop_flat_map(|(auds, exps, global, pv, retention)| {
            let ne = exps.len();
            let mut doc = Map::new();
            doc.insert("version", 1.0.into());
            let mut a = Map::new();
            for (i, c) in auds.into_iter().enumerate() {
                a.insert(format!("a{i}"), c);
            }
            doc.insert("audiences", Value::Object(a));
            let mut events = Map::new();
            for (i, name) in EVENTS.iter().enumerate().take(4) {
                let keep = match (i, pv) {
                    (0, 0) => continue, // page views are not recorded as events
                    (0, 1) => vec![],
                    (0, 2) => vec![s("path"), s("category")],
                    _ => KEEP[i].iter().map(|k| s(k)).collect(),
                };
                let mut e = Map::new();
                e.insert("keep", Value::Array(keep));
                if let Some(d) = retention[i] {
                    e.insert("retention", s(d));
                }
                events.insert(*name, Value::Object(e));
            }
            doc.insert("events", Value::Object(events));
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
                (
                    proptest::collection::vec((0..5usize, ago(), event_props()), 0..12),
                    prop_oneof![Just(1000usize), 1usize..6],
                    prop_oneof![2 => Just(None), 1 => proptest::sample::select(&[0.0, 3.0, 20.0, 60.0, 150.0][..]).prop_map(Some)],
                    prop_oneof![4 => Just(true), 1 => Just(false)],
                    prop_oneof![4 => Just(NOW), 1 => Just(NOW + 0.5), 1 => Just(NOW + 0.25)],
                ),
            )
        })
        .prop_map(
            |(doc, page, impressions, views, consented, stray_assignment, unit, view_start_ago, (events, ring, written, count_page_view, now))| {
                Case {
                    doc,
                    events,
                    ring,
                    written,
                    count_page_view,
                    now,
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
    /// Decided slots where an experience tried had `$event` or `$since` in its audience.
    behavioural: usize,
    /// Of those, decided with a profile.
    behavioural_profile: usize,
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
    let now = c.now;
    // The stored profile, as the runtime would have written it, under rules that
    // still declared `legacy`.
    let stored = if c.consented {
        let mut history = c.doc.clone();
        if let Value::Object(m) = &mut history {
            if let Some(Value::Object(events)) = m.get_mut("events") {
                events.insert("legacy", obj(vec![("keep", Value::Array(vec![s("category")]))]));
            }
        }
        let history = parse_rules_with(&history.to_json(host), host).map_err(|_| TestCaseError::fail("history rules"))?;
        let mut p = Profile::new();
        p.set_ring_capacity(c.ring);
        let mut times: Vec<f64> = c.views.iter().map(|h| NOW - h * HOUR).collect();
        times.sort_by(f64::total_cmp);
        for t in times {
            p.record_page_view(&history, &obj(vec![("path", s("/"))]), t);
        }
        for (n, ago, props) in &c.events {
            p.record_event(&history, EVENTS[*n], props, NOW - ago);
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
        if let Some(days) = c.written {
            p.prune(&history, NOW - days * DAY, BYTE_BUDGET);
        }
        Some(p.serialize())
    } else {
        None
    };
    let view_start = now - c.view_start_ago * HOUR;
    // The full engine: load, count the page view as the runtime records it, decide.
    let profile = stored.as_ref().map(|t| {
        let mut p = Profile::load_with(t, &rules, now, BYTE_BUDGET, host)
            .unwrap_or_else(|_| Profile::new());
        if c.count_page_view {
            p.record_page_view(&rules, &obj(vec![("path", s(&c.page.path))]), now);
        }
        p
    });
    let full = decide_view(
        &rules,
        &attributes(&c.page),
        profile.as_ref(),
        &c.unit,
        now,
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
        count_page_view: c.count_page_view,
        unit: &c.unit,
        now,
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
    // Whether an audience uses $event or $since, through named audiences too.
    fn uses_behaviour(v: &Value, doc: &Value, depth: u32) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, x)| {
                k == "$event"
                    || k == "$since"
                    || (k == "$audience" && depth < 8 && x.as_str().and_then(|n| doc.get("audiences")?.get(n)).is_some_and(|a| uses_behaviour(a, doc, depth + 1)))
                    || uses_behaviour(x, doc, depth)
            }),
            Value::Array(a) => a.iter().any(|x| uses_behaviour(x, doc, depth)),
            Value::String(n) if depth == 0 => doc.get("audiences").and_then(|a| a.get(n)).is_some_and(|a| uses_behaviour(a, doc, 1)),
            _ => false,
        }
    }
    let behavioural: Vec<bool> = rules
        .experiences
        .iter()
        .enumerate()
        .map(|(i, _)| c.doc.get("experiences").and_then(Value::as_array).and_then(|e| e.get(i)).and_then(|e| e.get("audience")).is_some_and(|a| uses_behaviour(a, &c.doc, 0)))
        .collect();
    let slot_lists = crate::decide::slots(&rules.experiences);
    for ((o, d), (_, list)) in first.iter().zip(&full).zip(&slot_lists) {
        tally.slots += 1;
        let mut list = list.clone();
        crate::rules::sort_positions(&mut list, &|a, b| rules.experiences[b].priority.total_cmp(&rules.experiences[a].priority));
        let upto = match *o {
            Outcome::Shown { experience, .. } | Outcome::Holdout { experience } => list.iter().position(|&e| e == experience as usize).map_or(list.len(), |p| p + 1),
            _ => list.len(),
        };
        if *o != Outcome::Wait && list[..upto].iter().any(|&e| behavioural[e]) {
            tally.behavioural += 1;
            tally.behavioural_profile += c.consented as usize;
        }
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
    eprintln!(
        "differential: {} slots, {} decided by the first module: {} variants ({} sticky), {} holdouts; {} behavioural ({} with a profile)",
        t.slots, t.decided, t.shown, t.sticky, t.holdout, t.behavioural, t.behavioural_profile
    );
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
        r#"{"version": 1, "events": {"view_item": {"keep": ["item", "category"]}}, "audiences": {"fans": {"$event": {"name": "view_item", "where": {"category": {"$in": ["shoes", true]}}, "count": {"$gte": 2}}}, "deep": {"$or": [{"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"channel": "email"}}}}}}}}}}}}}}}}}}}}}}}]}},
            "experiences": [
              {"id": "fans", "slot": "hero", "audience": "fans", "variants": [{"id": "a"}]},
              {"id": "lapsed", "slot": "hero", "audience": {"$since": {"name": "view_item", "where": {"category": "shoes"}, "$gte": "30d"}}, "variants": [{"id": "a"}]},
              {"id": "seq", "slot": "hero", "audience": {"$scenario": {"steps": [{"name": "view_item"}]}}, "variants": [{"id": "a"}]},
              {"id": "path", "slot": "hero", "audience": {"$event": {"name": "view_item", "where": {"item.id": "x"}}}, "variants": [{"id": "a"}]},
              {"id": "where-re", "slot": "hero", "audience": {"$since": {"name": "view_item", "where": {"category": {"$regex": "^sh"}}, "within": "1d"}}, "variants": [{"id": "a"}]},
              {"id": "count-re", "slot": "hero", "audience": {"$event": {"name": "view_item", "count": {"$vgt": "1.2"}}}, "variants": [{"id": "a"}]},
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
    let expected = [
        ("seq", "$scenario"),
        ("path", "the property path \"item.id\""),
        ("where-re", "$since with the where filter {\"category\":{\"$regex\":\"^sh\"}}: $regex"),
        ("count-re", "$event with the count {\"$vgt\":\"1.2\"}: $vgt"),
        ("re", "$regex"),
        ("ver", "$vgt"),
        ("deep", "nested too deeply"),
    ];
    assert_eq!(reasons.len(), expected.len(), "{reasons:?}");
    for ((e, r), (want_e, want_r)) in reasons.iter().zip(expected) {
        assert!(*e == want_e && r.contains(want_r), "{e}: {r}, expected {want_e}: …{want_r}…");
    }
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
