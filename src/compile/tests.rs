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
use crate::profile::{Profile, BYTE_BUDGET, RING_CAPACITY};
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
/// Durations around the edges that matter: a rollup's midnight (now is noon), the
/// ages at which rollups coarsen (35 and 119 days).
const DURATIONS: &[&str] = &["1h", "12h", "1d", "36h", "2d", "7d", "30d", "40d", "6w", "90d", "130d", "20w", "400d"];

/// The document's `events`: `page_view` not declared (`pv` 0), keeping nothing (1),
/// its path and category (2) or its path (3); the others as [`KEEP`] says, with a
/// retention or not.
fn declared_events(pv: usize, retention: &[Option<&str>]) -> Value {
    let mut events = Map::new();
    for (i, name) in EVENTS.iter().enumerate().take(4) {
        let keep = match (i, pv) {
            (0, 0) => continue,
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
    Value::Object(events)
}

fn page_view_keep() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 1 => Just(1), 1 => Just(2), 3 => Just(3)]
}

fn retentions() -> impl Strategy<Value = Vec<Option<&'static str>>> {
    proptest::collection::vec(
        prop_oneof![2 => Just(None), 1 => proptest::sample::select(&["1d", "3d", "30d", "50d"][..]).prop_map(Some)],
        4,
    )
}

/// What a case records besides page views and impressions: events, the ring they
/// were kept in, when the profile was written, whether this page view is counted,
/// and now.
#[allow(clippy::type_complexity)]
fn history(max_events: usize) -> impl Strategy<Value = (Vec<(usize, f64, Value)>, usize, Option<f64>, bool, f64)> {
    (
        proptest::collection::vec((0..5usize, ago(), event_props()), 0..max_events),
        prop_oneof![Just(1000usize), 1usize..8],
        prop_oneof![2 => Just(None), 1 => proptest::sample::select(&[0.0, 3.0, 20.0, 60.0, 150.0][..]).prop_map(Some)],
        prop_oneof![4 => Just(true), 1 => Just(false)],
        prop_oneof![4 => Just(NOW), 1 => Just(NOW + 0.5), 1 => Just(NOW + 0.25)],
    )
}

/// A document of behavioural audiences only, each experience alone in its slot with
/// one variant for everyone, so that every slot tells whether its condition held;
/// and always a profile.
fn behaviour_case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(
            prop_oneof![4 => behavioural(), 1 => behavioural().prop_map(|c| obj(vec![("$not", c)]))],
            1..8,
        ),
        page_view_keep(),
        retentions(),
        page(),
        proptest::collection::vec(0.0f64..2000.0, 0..4),
        history(30),
        prop_oneof![2 => Just(None), 1 => (0..5usize, 0.05f64..40.0, event_props()).prop_map(Some)],
    )
        .prop_map(|(conditions, pv, retention, page, views, (events, ring, written, count_page_view, now), fill)| {
            let experiences = conditions
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    obj(vec![
                        ("id", s(&format!("e{i}"))),
                        ("slot", s(&format!("s{i}"))),
                        ("audience", c),
                        ("variants", Value::Array(vec![obj(vec![("id", s("v0"))])])),
                    ])
                })
                .collect();
            let doc = obj(vec![
                ("version", 1.0.into()),
                ("events", declared_events(pv, &retention)),
                ("experiences", Value::Array(experiences)),
            ]);
            Case {
                doc,
                events,
                ring,
                written,
                count_page_view,
                now,
                page,
                impressions: Vec::new(),
                views,
                consented: true,
                stray_assignment: false,
                unit: String::new(),
                view_start_ago: 0.0,
                fill,
            }
        })
}

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

/// A `$scenario` step on one of the declared events, filtered or not.
fn step() -> impl Strategy<Value = Value> {
    (0..4usize).prop_flat_map(|n| {
        prop_oneof![2 => Just(None), 1 => where_filter(KEEP[n]).prop_map(Some)].prop_map(move |w| {
            let mut m = Map::new();
            m.insert("name", s(EVENTS[n]));
            if let Some(w) = w {
                m.insert("where", w);
            }
            Value::Object(m)
        })
    })
}

/// `$scenario`: one to three steps, within a duration or not, not followed by a step
/// or not.
fn scenario() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(step(), 1..4),
        proptest::option::of(proptest::sample::select(DURATIONS)),
        proptest::option::of(step()),
    )
        .prop_map(|(steps, within, exclusion)| {
            let mut m = Map::new();
            m.insert("steps", Value::Array(steps));
            if let Some(d) = within {
                m.insert("within", s(d));
            }
            if let Some(x) = exclusion {
                m.insert("notFollowedBy", x);
            }
            obj(vec![("$scenario", Value::Object(m))])
        })
}

/// `$event`, `$since` or `$scenario` on the declared events.
fn behavioural() -> impl Strategy<Value = Value> {
    prop_oneof![3 => event_or_since(), 1 => scenario()]
}

/// `$event` or `$since` on one of the declared events.
fn event_or_since() -> impl Strategy<Value = Value> {
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
        3 => (proptest::sample::select(DURATIONS), -1i32..=1)
            .prop_map(|(d, ms)| parse_duration(d).unwrap_or(0.0) + ms as f64),
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
    /// Older events of one name (index in [`EVENTS`]) up to days before now, recorded
    /// until the ring holds its 1,000: recording this page view then folds the oldest.
    fill: Option<(usize, f64, Value)>,
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
                page_view_keep(),
                retentions(),
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
            doc.insert("events", declared_events(pv, &retention));
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
                history(12),
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
                    fill: None,
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
    /// Slots of cases whose ring was full, and of those, decided.
    full_ring: usize,
    full_ring_decided: usize,
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
        if let Some((n, days, props)) = &c.fill {
            p.set_ring_capacity(RING_CAPACITY);
            for i in 0..RING_CAPACITY.saturating_sub(p.events().len()) {
                p.record_event(&history, EVENTS[*n], props, NOW - days * DAY - i as f64 * 60_000.0);
            }
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
        url: c.page.url.as_bytes(),
        host: c.page.host.as_bytes(),
        path: c.page.path.as_bytes(),
        query: c
            .page
            .query
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect(),
        referrer: c.page.referrer.as_bytes(),
        user_agent: c.page.user_agent.as_bytes(),
        language: c.page.language.as_bytes(),
        hour: c.page.hour,
        weekday: c.page.weekday,
        viewport_width: c.page.viewport_width,
    };
    let inputs = Inputs {
        page,
        profile: stored.as_deref().map(tailor_first::profile::read),
        count_page_view: c.count_page_view,
        unit: c.unit.as_bytes(),
        now,
        view_start,
    };
    // A program the first module cannot follow panics, failing the case.
    let first = program.decide(&inputs);
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
                    || k == "$scenario"
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
        if c.fill.is_some() && c.count_page_view {
            tally.full_ring += 1;
            tally.full_ring_decided += (*o != Outcome::Wait) as usize;
        }
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

/// Runs `cases` cases of `strategy` through [`check`]; returns what they compared.
fn differential(strategy: impl Strategy<Value = Case>, cases: u32) -> Tally {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases, ..Default::default() });
    if let Err(e) = runner.run(&strategy, |c| TALLY.with(|t| check(&c, &mut t.borrow_mut()))) {
        panic!("{e}");
    }
    TALLY.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

#[test]
fn first_decisions_equal_the_full_engines() {
    let t = differential(case(), 3000);
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

#[test]
fn behavioural_first_decisions_equal_the_full_engines() {
    let t = differential(behaviour_case(), 2000);
    eprintln!(
        "behavioural differential: {} slots, {} decided by the first module ({} behavioural), {} shown; full rings folding an event: {} slots, {} decided",
        t.slots, t.decided, t.behavioural, t.shown, t.full_ring, t.full_ring_decided
    );
    assert!(
        t.behavioural * 10 > t.slots * 7 && t.shown * 5 > t.decided && (t.decided - t.shown) * 5 > t.decided,
        "too few behavioural conditions were decided both ways"
    );
    assert!(t.full_ring_decided * 2 > t.full_ring, "too few slots decided over a full ring");
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
              {"id": "seq", "slot": "hero", "audience": {"$scenario": {"steps": [{"name": "view_item"}], "notFollowedBy": {"name": "view_item", "where": {"category": {"$regex": "^s"}}}}}, "variants": [{"id": "a"}]},
              {"id": "long", "slot": "hero", "audience": {"$scenario": {"steps": [{"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}, {"name": "view_item"}]}}, "variants": [{"id": "a"}]},
              {"id": "seq-ok", "slot": "hero", "audience": {"$scenario": {"steps": [{"name": "view_item"}, {"name": "view_item", "where": {"category": "shoes"}}], "within": "1d"}}, "variants": [{"id": "a"}]},
              {"id": "path", "slot": "hero", "audience": {"$event": {"name": "view_item", "where": {"item.id": "x"}}}, "variants": [{"id": "a"}]},
              {"id": "where-re", "slot": "hero", "audience": {"$since": {"name": "view_item", "where": {"category": {"$regex": "^sh"}}, "within": "1d"}}, "variants": [{"id": "a"}]},
              {"id": "count-re", "slot": "hero", "audience": {"$event": {"name": "view_item", "count": {"$vgt": "1.2"}}}, "variants": [{"id": "a"}]},
              {"id": "re", "slot": "hero", "audience": {"page.path": {"$regex": "^/shop"}}, "variants": [{"id": "a"}]},
              {"id": "ver", "slot": "promo", "audience": {"query.v": {"$vgt": "1.2"}}, "variants": [{"id": "a"}]},
              {"id": "deep", "slot": "promo", "audience": "deep", "variants": [{"id": "a"}]},
              {"id": "ok", "slot": "promo", "audience": {"channel": "email"}, "variants": [{"id": "a"}]},
              {"id": "excl", "slot": "promo", "namespace": ["checkout", 0, 0.5], "variants": [{"id": "a"}]}]}"#,
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
        ("seq", "$scenario with the where filter {\"category\":{\"$regex\":\"^s\"}}: $regex"),
        ("long", "$scenario with more than 8 steps"),
        ("path", "the property path \"item.id\""),
        ("where-re", "$since with the where filter {\"category\":{\"$regex\":\"^sh\"}}: $regex"),
        ("count-re", "$event with the count {\"$vgt\":\"1.2\"}: $vgt"),
        ("re", "$regex"),
        ("ver", "$vgt"),
        ("deep", "nested too deeply"),
        ("excl", "namespace (mutual exclusion is evaluated by the full engine)"),
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

/// Decides `doc` both ways with `profile` (`None`: no profile) at `now`, counting this
/// page view or not; requires equal decisions wherever the first module decides, and
/// returns per slot whether the first module showed a variant (`None`: it waited).
fn both(doc: &str, profile: Option<&Profile>, now: f64, count_page_view: bool) -> Vec<Option<bool>> {
    both_stored(doc, profile.map(Profile::serialize), now, count_page_view)
}

/// [`both`] with the stored text (a text the full engine discards starts afresh).
fn both_stored(doc: &str, stored: Option<String>, now: f64, count_page_view: bool) -> Vec<Option<bool>> {
    let host = &NativeHost;
    let rules = parse_rules_with(doc, host).unwrap();
    let full_profile = stored.as_ref().map(|t| {
        let mut p = Profile::load_with(t, &rules, now, BYTE_BUDGET, host).unwrap_or_default();
        if count_page_view {
            p.record_page_view(&rules, &obj(vec![("path", s("/shop"))]), now);
        }
        p
    });
    let full = decide_view(&rules, &Value::Object(Map::new()), full_profile.as_ref(), "", now, now, host);
    let compiled = compile(&rules, host);
    assert!(compiled.deferred.is_empty(), "{:?}", compiled.deferred);
    let inputs = Inputs {
        page: Page { path: b"/shop", ..Page::default() },
        profile: stored.as_deref().map(tailor_first::profile::read),
        count_page_view,
        unit: b"",
        now,
        view_start: now,
    };
    let first = Program::read(&compiled.code).unwrap().decide(&inputs);
    first
        .iter()
        .zip(&full)
        .map(|(o, d)| match o {
            Outcome::Wait => None,
            Outcome::Shown { .. } => {
                assert!(d.experience.is_some(), "{}: first shown, full: {}", d.slot, d.summary);
                Some(true)
            }
            _ => {
                assert!(d.experience.is_none(), "{}: first default, full: {}", d.slot, d.summary);
                Some(false)
            }
        })
        .collect()
}

/// A document whose experience `e{i}` shows in slot `s{i}` when `conditions[i]` holds.
fn doc_of(events: &str, conditions: &[&str]) -> String {
    let exps: Vec<String> = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| format!(r#"{{"id": "e{i}", "slot": "s{i}", "audience": {c}, "variants": [{{"id": "v"}}]}}"#))
        .collect();
    format!(r#"{{"version": 1, "events": {events}, "experiences": [{}]}}"#, exps.join(","))
}

const VIEW_ITEM: &str = r#"{"view_item": {"keep": ["category", "promo"]}, "page_view": {"keep": ["path"]}}"#;

fn recorded(events: &[(&str, f64, &str)]) -> Profile {
    let rules = parse_rules_with(&doc_of(VIEW_ITEM, &[]), &NativeHost).unwrap();
    let mut p = Profile::new();
    for (name, t, props) in events {
        p.record_event(&rules, name, &json::parse(props).unwrap(), *t);
    }
    p
}

#[test]
fn behavioural_windows_are_inclusive_and_ignore_the_future() {
    let p = recorded(&[
        ("view_item", NOW - DAY - 1.0, r#"{"category": "shoes"}"#),
        ("view_item", NOW - DAY, r#"{"category": "shoes", "promo": true}"#),
        ("view_item", NOW, r#"{"category": "hats"}"#),
        ("view_item", NOW + HOUR, r#"{"category": "shoes"}"#),
    ]);
    let doc = doc_of(
        VIEW_ITEM,
        &[
            r#"{"$event": {"name": "view_item", "within": "1d", "count": 2}}"#,
            r#"{"$event": {"name": "view_item", "within": "1d", "where": {"category": "shoes"}, "count": 1}}"#,
            r#"{"$event": {"name": "view_item", "where": {"promo": true}}}"#,
            r#"{"$event": {"name": "view_item", "count": {"$gt": 3}}}"#,
            r#"{"$since": {"name": "view_item", "where": {"category": {"$in": ["shoes"]}}, "within": "1d"}}"#,
            r#"{"$since": {"name": "view_item", "where": {"category": {"$nin": ["hats"]}}, "$gte": "1d", "$lt": "25h"}}"#,
            r#"{"$since": {"name": "view_item", "$lte": "1s"}}"#,
        ],
    );
    let got = both(&doc, Some(&p), NOW, false);
    let want = [true, true, true, false, true, true, true].map(Some);
    assert_eq!(got, want);
}

#[test]
fn behavioural_operators_on_events_never_seen_and_without_a_profile() {
    let doc = doc_of(
        VIEW_ITEM,
        &[
            r#"{"$since": {"name": "view_item", "$gt": "400d"}}"#,
            r#"{"$since": {"name": "view_item", "within": "400d"}}"#,
            r#"{"$event": {"name": "view_item", "count": 0}}"#,
            r#"{"$event": {"name": "view_item", "count": {"$lt": 1}}}"#,
            r#"{"$not": {"$event": {"name": "view_item"}}}"#,
        ],
    );
    let empty = Profile::new();
    assert_eq!(both(&doc, Some(&empty), NOW, true), [true, false, true, true, true].map(Some));
    // Without a profile every behavioural operator is false ($not of one is true).
    assert_eq!(both(&doc, None, NOW, true), [false, false, false, false, true].map(Some));
}

#[test]
fn rollups_count_whole_when_any_part_is_in_the_window() {
    // Two events on the day before yesterday (10:00 and 21:00), folded into that
    // day's rollup; "40h" reaches back to 20:00 that day.
    let mut p = recorded(&[
        ("view_item", NOW - 2.0 * DAY - 2.0 * HOUR, r#"{"category": "shoes"}"#),
        ("view_item", NOW - 2.0 * DAY + 9.0 * HOUR, r#"{"category": "hats"}"#),
        ("page_view", NOW - HOUR, r#"{"path": "/"}"#),
    ]);
    p.set_ring_capacity(1);
    assert_eq!(p.rollups().len(), 1);
    let doc = doc_of(
        VIEW_ITEM,
        &[
            r#"{"$event": {"name": "view_item", "within": "40h", "count": 2}}"#,
            r#"{"$event": {"name": "view_item", "within": "40h", "where": {"category": "shoes"}, "count": 1}}"#,
            r#"{"$event": {"name": "view_item", "within": "36h", "count": 0}}"#,
            // Known only from its rollup: dated at the rollup's last millisecond.
            r#"{"$since": {"name": "view_item", "$gt": "36h", "$lte": "60h"}}"#,
            r#"{"$since": {"name": "view_item", "$gt": "36h", "$lte": "37h"}}"#,
        ],
    );
    assert_eq!(both(&doc, Some(&p), NOW, true), [true, true, true, true, true].map(Some));
}

#[test]
fn a_rollup_of_today_is_dated_now() {
    let mut p = recorded(&[("view_item", NOW - HOUR, "{}"), ("page_view", NOW - HOUR, "{}")]);
    p.set_ring_capacity(1);
    let doc = doc_of(VIEW_ITEM, &[r#"{"$since": {"name": "view_item", "$lte": "1s"}}"#, r#"{"$event": {"name": "view_item", "within": "1s"}}"#]);
    assert_eq!(both(&doc, Some(&p), NOW, false), [true, true].map(Some));
}

#[test]
fn what_the_first_module_cannot_tell_waits() {
    // Ten property combinations in one week's daily rollups: merged when that week
    // coarsens on loading, the rollup keeps only eight of them.
    let rules = parse_rules_with(&doc_of(VIEW_ITEM, &[]), &NativeHost).unwrap();
    let mut p = Profile::new();
    p.set_ring_capacity(1);
    let week = (NOW / (7.0 * DAY)).floor() * 7.0 * DAY - 49.0 * DAY; // rollup weeks start on multiples of 7 days
    for i in 0..10 {
        let props = obj(vec![("category", s(&format!("c{i}")))]);
        p.record_event(&rules, "view_item", &props, week + (i % 7) as f64 * DAY + i as f64);
    }
    p.record_event(&rules, "page_view", &Value::Object(Map::new()), NOW - HOUR);
    let doc = doc_of(
        VIEW_ITEM,
        &[r#"{"$event": {"name": "view_item", "where": {"category": "c9"}}}"#, r#"{"$event": {"name": "view_item", "count": 10}}"#],
    );
    let got = both(&doc, Some(&p), NOW, true);
    assert_eq!(got, [None, Some(true)], "a filtered count over merged combinations waits");

    // A full ring: recording this page view folds the oldest event into its day's
    // rollup, unless loading drops an event first. Told where both agree: the count
    // is the same either way (the rollup counts whole in the window), and so is the
    // last time of the newest event.
    let mut p = Profile::new();
    p.record_event(&rules, "view_item", &obj(vec![("category", s("rare"))]), NOW - 3.0 * DAY - 5.0 * HOUR);
    for i in 0..999 {
        p.record_event(&rules, "view_item", &obj(vec![("category", s("shoes"))]), NOW - DAY + i as f64);
    }
    let doc = doc_of(
        VIEW_ITEM,
        &[
            r#"{"$event": {"name": "view_item", "within": "4d", "count": 1000}}"#,
            r#"{"$since": {"name": "view_item", "where": {"category": "shoes"}, "within": "1d"}}"#,
            r#"{"$event": {"name": "view_item", "within": "1d", "count": 999}}"#,
            // The oldest event's own time, or its rollup's last millisecond: not told.
            r#"{"$since": {"name": "view_item", "where": {"category": "rare"}, "$gte": "3d"}}"#,
            r#"{"$scenario": {"steps": [{"name": "view_item", "where": {"category": "rare"}}, {"name": "view_item", "where": {"category": "shoes"}}]}}"#,
        ],
    );
    assert_eq!(both(&doc, Some(&p), NOW, true), [Some(true), Some(true), Some(true), None, None]);
    assert_eq!(both(&doc, Some(&p), NOW, false), [true, true, true, true, true].map(Some));
}

#[test]
fn a_fresh_profile_holds_this_page_view_alone() {
    let doc = doc_of(
        VIEW_ITEM,
        &[
            r#"{"$event": {"name": "page_view", "where": {"path": "/shop"}, "count": 1}}"#,
            r#"{"$since": {"name": "page_view", "within": "1s"}}"#,
            r#"{"$event": {"name": "view_item", "count": 0}}"#,
        ],
    );
    for stored in ["", "tp1:00000000:{}", "not a profile"] {
        assert_eq!(both_stored(&doc, Some(stored.into()), NOW, true), [true, true, true].map(Some), "{stored}");
        assert_eq!(both_stored(&doc, Some(stored.into()), NOW, false), [false, false, true].map(Some), "{stored}");
    }
}

#[test]
fn scenarios_follow_recording_order() {
    let p = recorded(&[
        ("view_item", NOW - 2.0 * DAY, r#"{"category": "shoes"}"#),
        ("page_view", NOW - DAY - HOUR, r#"{"path": "/cart"}"#),
        ("view_item", NOW - DAY, r#"{"category": "hats"}"#),
        ("view_item", NOW + HOUR, r#"{"category": "shoes"}"#),
    ]);
    let doc = doc_of(
        VIEW_ITEM,
        &[
            // From the first step to the last, inclusive.
            r#"{"$scenario": {"steps": [{"name": "view_item", "where": {"category": "shoes"}}, {"name": "view_item"}], "within": "1d"}}"#,
            r#"{"$scenario": {"steps": [{"name": "view_item", "where": {"category": "shoes"}}, {"name": "view_item", "where": {"category": "hats"}}], "within": "23h"}}"#,
            // An event before the step it should follow does not match it.
            r#"{"$scenario": {"steps": [{"name": "view_item", "where": {"category": "hats"}}, {"name": "page_view", "where": {"path": "/cart"}}]}}"#,
            // This page view's own event comes last; after now nothing counts.
            r#"{"$scenario": {"steps": [{"name": "view_item", "where": {"category": "hats"}}, {"name": "page_view", "where": {"path": "/shop"}}]}}"#,
            r#"{"$scenario": {"steps": [{"name": "view_item"}], "notFollowedBy": {"name": "page_view"}}}"#,
            r#"{"$scenario": {"steps": [{"name": "page_view"}], "notFollowedBy": {"name": "view_item"}}}"#,
        ],
    );
    assert_eq!(both(&doc, Some(&p), NOW, true), [true, false, false, true, false, true].map(Some));
    assert_eq!(both(&doc, Some(&p), NOW, false), [true, false, false, false, true, false].map(Some));
    assert_eq!(both(&doc, None, NOW, true), [false; 6].map(Some));
}
