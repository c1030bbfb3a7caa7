//! A synthetic workload for benchmarks: a rules document with many experiences and a
//! realistic mix of contextual and behavioural conditions, and a 1,000-event profile.
//! Deterministic (no randomness), so native and browser runs measure the same work.

use crate::context::PageInputs;
use crate::json::{Map, Value};
use crate::profile::Profile;
use crate::rules::parse_rules;
use crate::rules::time::{DAY_MS, MINUTE_MS};

/// The `now_ms` the synthetic profile was built for (2026-06-01T12:00:00Z).
pub const SYNTHETIC_NOW_MS: f64 = 1_780_315_200_000.0;

const CATEGORIES: [&str; 6] = ["shoes", "hats", "bags", "coats", "socks", "belts"];

/// The contextual attributes to decide with (a mobile visitor from an email campaign
/// on `/shop/shoes`), in the shape of [`crate::context::attributes`].
pub fn synthetic_context() -> Value {
    crate::json::parse(
        r#"{"page": {"url": "https://shop.example/shop/shoes?utm_campaign=spring", "host": "shop.example", "path": "/shop/shoes"},
            "query": {"utm_campaign": "spring"}, "utm": {"campaign": "spring", "medium": "email"},
            "referrer": {"url": "", "host": ""}, "channel": "email", "device": {"type": "mobile"},
            "language": "fr-FR", "language_primary": "fr", "time": {"hour": 14, "weekday": 1, "weekday_name": "monday"}}"#,
    )
    .unwrap_or(Value::Null)
}

/// The URL of the page the synthetic visitor is on.
pub const SYNTHETIC_URL: &str = "https://shop.example/shop/shoes?utm_campaign=spring&utm_medium=email";

/// The same visitor as plain page inputs (what the browser glue reads: an iPhone in
/// French on `/shop/shoes` from an email campaign, at 12:00 on a Monday), so a
/// browser page can reproduce it exactly: `context::attributes(&synthetic_page())`
/// differs from [`synthetic_context`] only in details no synthetic rule reads (the
/// hour, 12 instead of 14, both inside every time window; `query.utm_medium`).
/// `make bench` decides with these inputs natively and in the browser.
pub fn synthetic_page() -> PageInputs {
    PageInputs {
        url: SYNTHETIC_URL.into(),
        host: "shop.example".into(),
        path: "/shop/shoes".into(),
        query: vec![("utm_campaign".into(), "spring".into()), ("utm_medium".into(), "email".into())],
        referrer: String::new(),
        user_agent: SYNTHETIC_USER_AGENT.into(),
        language: "fr-FR".into(),
        hour: 12,
        weekday: 1,
        viewport_width: 390,
    }
}

/// The synthetic visitor's user agent (a phone: `device.type` is "mobile").
pub const SYNTHETIC_USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/// Builds `(rules_json, profile_serialized)`: `n_experiences` experiences over 10 slots
/// with about 2.5 top-level conditions each (so 100 experiences carry about 250; the
/// lowest-priority experience of most slots matches, the others mostly do not),
/// 12 named audiences, and a profile of 1,000 raw events over the 30 days before
/// [`SYNTHETIC_NOW_MS`] plus rollups of the 60 days before that. Decide with
/// [`synthetic_context`], the profile parsed with [`Profile::parse`], and
/// `SYNTHETIC_NOW_MS`.
pub fn synthetic_benchmark(n_experiences: usize) -> (String, String) {
    let mut audiences = String::new();
    for i in 0..12 {
        let cat = CATEGORIES[i % CATEGORIES.len()];
        let cond = match i % 4 {
            0 => format!(r#"{{"$and": [{{"visits": {{"$gte": {}}}}}, {{"$event": {{"name": "view_item", "where": {{"category": "{cat}"}}, "within": "14d", "count": {{"$gte": {}}}}}}}]}}"#, 2 + i % 3, 3 + i),
            1 => format!(r#"{{"$since": {{"name": "purchase", "$gte": "{}d"}}, "device.type": {{"$in": ["mobile", "tablet"]}}}}"#, 10 + i),
            2 => format!(r#"{{"$scenario": {{"steps": [{{"name": "view_item", "where": {{"category": "{cat}"}}}}, {{"name": "add_to_cart"}}], "within": "1d", "notFollowedBy": {{"name": "purchase"}}}}}}"#),
            _ => format!(r#"{{"$or": [{{"utm.campaign": "c{i}"}}, {{"page.path": {{"$regex": "^/shop/{cat}"}}}}], "pageviews": {{"$gt": {}}}}}"#, 20 * i),
        };
        if i > 0 {
            audiences.push(',');
        }
        audiences.push_str(&format!(r#""aud{i}": {cond}"#));
    }
    let mut experiences = String::new();
    for i in 0..n_experiences {
        let cat = CATEGORIES[i % CATEGORIES.len()];
        let audience = match i % 4 {
            0 => format!(r#""aud{}""#, i % 12),
            1 if i % 8 == 1 => r#"{"language_primary": "fr", "channel": "email", "$since": {"name": "purchase", "within": "7d"}}"#.to_string(),
            1 => format!(r#"{{"page.path": {{"$regex": "^/shop/{cat}"}}, "channel": {{"$ne": "paid_search"}}, "$audience": "aud{}"}}"#, (i + 5) % 12),
            2 => format!(r#"{{"$event": {{"name": "add_to_cart", "where": {{"category": {{"$in": ["{cat}", "hats"]}}}}, "within": "30d", "count": {{"$gte": {}}}}}, "language_primary": "fr", "time.hour": {{"$gte": 8, "$lt": 20}}}}"#, 2 + i % 5),
            _ => format!(r#"{{"$and": [{{"cohort": {{"$gte": "2026-W01"}}}}, {{"first_seen_days": {{"$gt": {}}}}}, {{"$since": {{"name": "view_item", "within": "{}h"}}}}]}}"#, i % 40, 1 + i % 48),
        };
        if i > 0 {
            experiences.push(',');
        }
        experiences.push_str(&format!(
            r#"{{"id": "exp{i}", "slot": "slot{}", "priority": {}, "audience": {audience},
                "schedule": {{"start": "2026-01-01", "end": "2026-12-31"}}, "cap": {{"impressions": 5, "per": "1d"}},
                "holdout": 0.05, "variants": [{{"id": "control", "weight": 0.5}}, {{"id": "treatment", "weight": 0.5, "content": {{"text": "Offer {i}"}}}}]}}"#,
            i % 10,
            // The experiences that match everyone come last in their slot, so the
            // others are all evaluated first.
            if i % 8 == 1 { -1 } else { (i % 7) as i32 }
        ));
    }
    let rules = format!(
        r#"{{"version": 1, "revision": "bench",
            "events": {{"view_item": {{"keep": ["category"]}}, "add_to_cart": {{"keep": ["category"]}}, "purchase": {{}}, "page_view": {{}}}},
            "caps": {{"impressions": 50, "per": "1d"}},
            "audiences": {{{audiences}}},
            "experiences": [{experiences}]}}"#
    );
    let profile = match parse_rules(&rules) {
        Ok(r) => {
            let mut p = Profile::new();
            let start = SYNTHETIC_NOW_MS - 90.0 * DAY_MS;
            // 60 days folded into rollups, then 1,000 raw events over the last 30.
            let total = 1_500;
            for k in 0..total {
                let t = if k < 500 { start + k as f64 * (60.0 * DAY_MS / 500.0) } else { SYNTHETIC_NOW_MS - 30.0 * DAY_MS + (k - 500) as f64 * (30.0 * DAY_MS / 1000.0) };
                let cat = CATEGORIES[(k * 7 + k / 13) % CATEGORIES.len()];
                let mut props = Map::new();
                props.insert("category", cat.into());
                let props = Value::Object(props);
                match k % 10 {
                    0..=3 => p.record_page_view(&r, &Value::Null, t),
                    4..=7 => {
                        p.record_event(&r, "view_item", &props, t);
                    }
                    8 => {
                        p.record_event(&r, "add_to_cart", &props, t);
                    }
                    _ => {
                        p.record_event(&r, "purchase", &Value::Null, t + MINUTE_MS);
                    }
                }
            }
            p.serialize()
        }
        Err(_) => String::new(),
    };
    (rules, profile)
}
