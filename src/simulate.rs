//! Replaying a visitor's journey offline (`tailor simulate`, `tailor diff`): each step is
//! a page view (or a consent choice, or events) at a given time, and the replay decides
//! every slot as the page runtime would at that moment, with the profile the journey has
//! built so far. Native only: it parses URLs with the `url` crate, as the browser's `URL`
//! and `URLSearchParams` give them to the runtime.
//!
//! What the runtime does on a page view, the replay does in the same order: a consent
//! choice applies first (granting personalization starts a profile, refusing or
//! withdrawing it drops the profile); under personalization the page view is recorded
//! (`page_view` with the path), then every slot is decided with the profile's
//! attributes and the visitor's identity; each variant shown counts as an impression
//! (caps, lifetimes, sticky assignment; the replay assumes the visitor interacted with
//! the page); then the step's events are recorded, a millisecond apart, where the rules
//! declare them. Without personalization nothing is recorded and each page view gets
//! its own allocation identity, as in the browser.

use crate::context::{self, PageInputs};
use crate::decide::{self, Decision};
use crate::host::Host;
use crate::json::{self, Map, Value};
use crate::profile::Profile;
use crate::rules::document::{Problem, Rules};
use crate::rules::time::{format_date_time, parse_date, parse_duration};

/// A visitor's journey, read from JSON (see the README, "Replaying a journey").
#[derive(Debug, Clone, PartialEq)]
pub struct Journey {
    /// The visitor's allocation identity once personalization is granted.
    pub visitor: String,
    /// When the journey starts (ms), if it says; `tailor simulate --at` overrides it.
    pub start: Option<f64>,
    /// The visitor's offset from UTC in minutes, for the hour and weekday conditions.
    pub utc_offset_minutes: i32,
    /// The device every step uses unless it says otherwise.
    pub device: Device,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// What the browser tells the runtime about the device.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Device {
    /// `navigator.userAgent`.
    pub user_agent: Option<String>,
    /// `navigator.language`.
    pub language: Option<String>,
    /// `innerWidth` in CSS pixels.
    pub viewport_width: Option<u32>,
}

/// When a step happens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// At this time (ms since the epoch).
    At(f64),
    /// This long (ms) after the previous step (or the journey's start).
    After(f64),
}

/// One step of a journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// When it happens.
    pub when: When,
    /// A consent choice made at this step: personalization and measurement, each
    /// granted (`true`), refused (`false`) or left as it was (`None`).
    pub consent: Option<(Option<bool>, Option<bool>)>,
    /// The page viewed, if the step views one.
    pub url: Option<String>,
    /// `document.referrer`.
    pub referrer: String,
    /// The device, where it differs from the journey's.
    pub device: Device,
    /// Events tracked on the page after it is shown: name and properties.
    pub events: Vec<(String, Value)>,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The step's position, from 1.
    pub index: usize,
    /// When it happened (ms).
    pub time: f64,
    /// The page viewed, if any.
    pub url: Option<String>,
    /// Whether personalization and measurement were granted during the step.
    pub personalization: bool,
    /// See `personalization`.
    pub measurement: bool,
    /// Every slot's decision, with its summary and explanation (empty without a page).
    pub decisions: Vec<Decision>,
    /// What else happened, in plain words: events not recorded, and why.
    pub notes: Vec<String>,
}

/// Reads a journey from JSON text: every problem at once, each with its path.
pub fn parse_journey(text: &str) -> Result<Journey, Vec<Problem>> {
    let problem = |path: &str, expected: &str, found: String| Problem { path: path.into(), expected: expected.into(), found };
    let doc = json::parse(text).map_err(|e| vec![problem("$", "a JSON document", e.to_string())])?;
    let Some(top) = doc.as_object() else {
        return Err(vec![problem("$", "an object with \"steps\"", doc.describe())]);
    };
    let mut problems = Vec::new();
    const TOP: [&str; 5] = ["visitor", "start", "utcOffset", "device", "steps"];
    for (k, _) in top.iter() {
        if !TOP.contains(&k.as_str()) {
            problems.push(problem(&format!("$.{k}"), "one of the fields visitor, start, utcOffset, device, steps", format!("unknown field \"{k}\"")));
        }
    }
    let visitor = match top.get("visitor") {
        None => "simulated-visitor".to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(v) => {
            problems.push(problem("$.visitor", "a non-empty string", v.describe()));
            String::new()
        }
    };
    let start = match top.get("start") {
        None => None,
        Some(v) => {
            let t = v.as_str().and_then(parse_date);
            if t.is_none() {
                problems.push(problem("$.start", "a date or date-time with an offset, e.g. \"2026-03-02T09:00:00Z\"", v.describe()));
            }
            t
        }
    };
    let utc_offset_minutes = match top.get("utcOffset") {
        None => 0,
        Some(v) => match v.as_str().and_then(parse_offset) {
            Some(m) => m,
            None => {
                problems.push(problem("$.utcOffset", "an offset such as \"+01:00\" or \"-05:30\"", v.describe()));
                0
            }
        },
    };
    let device = top.get("device").map_or_else(Device::default, |v| parse_device(v, "$.device", &mut problems));
    let mut steps = Vec::new();
    match top.get("steps").and_then(Value::as_array) {
        None => problems.push(problem("$.steps", "an array of steps", top.get("steps").map_or("nothing".into(), Value::describe))),
        Some(list) if list.is_empty() => problems.push(problem("$.steps", "at least one step", "an empty array".into())),
        Some(list) => {
            let mut latest: Option<f64> = None;
            for (i, v) in list.iter().enumerate() {
                if let Some(step) = parse_step(v, &format!("$.steps[{i}]"), &mut problems) {
                    if let When::At(t) = step.when {
                        if latest.is_some_and(|l| t < l) {
                            problems.push(problem(&format!("$.steps[{i}].at"), "a time after the steps before it (a journey moves forward)", v.get("at").map_or(String::new(), Value::describe)));
                        }
                        latest = Some(latest.map_or(t, |l| l.max(t)));
                    }
                    steps.push(step);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Journey { visitor, start, utc_offset_minutes, device, steps })
    } else {
        Err(problems)
    }
}

fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

fn parse_device(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Device {
    let mut d = Device::default();
    let Some(m) = v.as_object() else {
        problems.push(Problem { path: path.into(), expected: "an object with userAgent, language, viewportWidth".into(), found: v.describe() });
        return d;
    };
    for (k, x) in m.iter() {
        let p = format!("{path}.{k}");
        match (k.as_str(), x) {
            ("userAgent", Value::String(s)) => d.user_agent = Some(s.clone()),
            ("language", Value::String(s)) => d.language = Some(s.clone()),
            ("viewportWidth", Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => d.viewport_width = Some(*n as u32),
            ("userAgent" | "language", x) => problems.push(Problem { path: p, expected: "a string".into(), found: x.describe() }),
            ("viewportWidth", x) => problems.push(Problem { path: p, expected: "a whole number of CSS pixels".into(), found: x.describe() }),
            (k, _) => problems.push(Problem { path: p, expected: "one of the fields userAgent, language, viewportWidth".into(), found: format!("unknown field \"{k}\"") }),
        }
    }
    d
}

fn parse_step(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<Step> {
    let before = problems.len();
    let Some(m) = v.as_object() else {
        problems.push(Problem { path: path.into(), expected: "a step object".into(), found: v.describe() });
        return None;
    };
    let mut step = Step { when: When::After(0.0), consent: None, url: None, referrer: String::new(), device: Device::default(), events: Vec::new() };
    let mut timed = false;
    for (k, x) in m.iter() {
        let p = format!("{path}.{k}");
        match k.as_str() {
            "at" => match x.as_str().and_then(parse_date) {
                Some(t) if !timed => {
                    step.when = When::At(t);
                    timed = true;
                }
                Some(_) => problems.push(Problem { path: p, expected: "either \"at\" or \"after\", not both".into(), found: "both".into() }),
                None => problems.push(Problem { path: p, expected: "a valid date-time with an offset, e.g. \"2026-03-02T09:00:00Z\"".into(), found: x.describe() }),
            },
            "after" => match x.as_str().and_then(parse_duration) {
                Some(d) if !timed => {
                    step.when = When::After(d);
                    timed = true;
                }
                Some(_) => problems.push(Problem { path: p, expected: "either \"at\" or \"after\", not both".into(), found: "both".into() }),
                None => problems.push(Problem { path: p, expected: "a duration such as \"30m\", \"2h\" or \"3d\"".into(), found: x.describe() }),
            },
            "url" => match x.as_str().map(url::Url::parse) {
                Some(Ok(u)) if u.scheme() == "http" || u.scheme() == "https" => step.url = Some(u.to_string()),
                _ => problems.push(Problem { path: p, expected: "an absolute http(s) URL".into(), found: x.describe() }),
            },
            "referrer" => match x {
                Value::String(s) => step.referrer = s.clone(),
                x => problems.push(Problem { path: p, expected: "a URL (or \"\")".into(), found: x.describe() }),
            },
            "device" => step.device = parse_device(x, &p, problems),
            "consent" => {
                let Some(c) = x.as_object() else {
                    problems.push(Problem { path: p, expected: "an object such as {\"personalization\": true, \"measurement\": false}".into(), found: x.describe() });
                    continue;
                };
                let (mut pers, mut meas) = (None, None);
                for (purpose, granted) in c.iter() {
                    let q = format!("{p}.{purpose}");
                    match (purpose.as_str(), granted) {
                        ("personalization", Value::Bool(b)) => pers = Some(*b),
                        ("measurement", Value::Bool(b)) => meas = Some(*b),
                        ("personalization" | "measurement", g) => problems.push(Problem { path: q, expected: "true (granted) or false (refused)".into(), found: g.describe() }),
                        (other, _) => problems.push(Problem { path: q, expected: "the purpose personalization or measurement".into(), found: format!("unknown purpose \"{other}\"") }),
                    }
                }
                step.consent = Some((pers, meas));
            }
            "events" => match x.as_array() {
                None => problems.push(Problem { path: p, expected: "an array of events such as {\"name\": \"view_item\", \"props\": {}}".into(), found: x.describe() }),
                Some(list) => {
                    for (i, e) in list.iter().enumerate() {
                        let q = format!("{p}[{i}]");
                        match (e.get("name").and_then(Value::as_str), e.get("props")) {
                            (Some(name), None) if !name.is_empty() => step.events.push((name.to_string(), Value::Object(Map::new()))),
                            (Some(name), Some(props @ Value::Object(_))) if !name.is_empty() => step.events.push((name.to_string(), props.clone())),
                            (Some(_), Some(props)) if !name_empty(e) => problems.push(Problem { path: format!("{q}.props"), expected: "an object".into(), found: props.describe() }),
                            _ => problems.push(Problem { path: q, expected: "an event {\"name\": …, \"props\": {…}} with a non-empty name".into(), found: e.describe() }),
                        }
                    }
                }
            },
            other => problems.push(Problem {
                path: p,
                expected: "one of the fields at, after, url, referrer, device, consent, events".into(),
                found: format!("unknown field \"{other}\""),
            }),
        }
    }
    (problems.len() == before).then_some(step)
}

fn name_empty(e: &Value) -> bool {
    e.get("name").and_then(Value::as_str).map_or(true, str::is_empty)
}

/// The page inputs the runtime reads, from a URL as the browser parses it.
fn page_inputs(url: &str, referrer: &str, device: &Device, local_ms: f64) -> PageInputs {
    let parsed = url::Url::parse(url).ok();
    let days = (local_ms / 86_400_000.0).floor();
    let hour = ((local_ms - days * 86_400_000.0) / 3_600_000.0).floor() as u8;
    // 1970-01-01 was a Thursday (4).
    let weekday = ((days as i64 + 4).rem_euclid(7)) as u8;
    PageInputs {
        url: parsed.as_ref().map_or_else(String::new, |u| u.to_string()),
        host: parsed.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default(),
        path: parsed.as_ref().map_or_else(String::new, |u| u.path().to_string()),
        query: parsed.as_ref().map_or_else(Vec::new, |u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()),
        referrer: referrer.to_string(),
        user_agent: device.user_agent.clone().unwrap_or_default(),
        language: device.language.clone().unwrap_or_default(),
        hour,
        weekday,
        viewport_width: device.viewport_width.unwrap_or(0),
    }
}

/// Replays `journey` under `rules`, starting at `start_ms` unless the journey's first
/// step says when; returns what each step did.
pub fn replay(rules: &Rules, journey: &Journey, start_ms: f64, host: &dyn Host) -> Vec<StepReport> {
    let mut now = journey.start.unwrap_or(start_ms);
    let (mut personalization, mut measurement) = (false, false);
    let mut profile: Option<Profile> = None;
    let mut reports = Vec::new();
    for (i, step) in journey.steps.iter().enumerate() {
        now = match step.when {
            When::At(t) => t,
            When::After(d) => now + d,
        };
        if let Some((p, m)) = step.consent {
            personalization = p.unwrap_or(personalization);
            measurement = m.unwrap_or(measurement);
        }
        if personalization {
            profile.get_or_insert_with(Profile::new);
        } else {
            profile = None; // refused or withdrawn: everything it held is gone
        }
        let mut notes = Vec::new();
        let mut decisions = Vec::new();
        if let Some(url) = &step.url {
            let device = Device {
                user_agent: step.device.user_agent.clone().or_else(|| journey.device.user_agent.clone()),
                language: step.device.language.clone().or_else(|| journey.device.language.clone()),
                viewport_width: step.device.viewport_width.or(journey.device.viewport_width),
            };
            let page = page_inputs(url, &step.referrer, &device, now + f64::from(journey.utc_offset_minutes) * 60_000.0);
            if let Some(p) = profile.as_mut() {
                let mut props = Map::new();
                props.insert("path", page.path.as_str().into());
                p.record_page_view(rules, &Value::Object(props), now);
            }
            let unit = if personalization { journey.visitor.clone() } else { format!("{}/page-view-{}", journey.visitor, i + 1) };
            let round = decide::decide_round_view(rules, &context::attributes(&page), profile.as_ref(), &unit, now, now, host);
            decisions = round.explained(rules);
            if let Some(p) = profile.as_mut() {
                for d in &decisions {
                    if let (Some(e), Some(v), false) = (&d.experience, &d.variant, d.holdout) {
                        decide::record_impression(p, e, v, now);
                    }
                }
            }
        }
        for (k, (name, props)) in step.events.iter().enumerate() {
            let at = now + (k + 1) as f64;
            match profile.as_mut() {
                None => notes.push(format!("event \"{name}\" not recorded: personalization is not granted, and nothing is kept without it")),
                Some(p) => {
                    if !p.record_event_owned(rules, name, props.clone(), at) {
                        notes.push(format!("event \"{name}\" not recorded: the rules declare no event \"{name}\" (add it under \"events\")"));
                    }
                }
            }
        }
        reports.push(StepReport { index: i + 1, time: now, url: step.url.clone(), personalization, measurement, decisions, notes });
    }
    reports
}

/// A step's report as JSON: `step`, `time`, `url`, `consent`, `decisions` (as
/// `explain()` gives them: the decision's fields, `summary` and `explanation`), `notes`.
pub fn report_value(r: &StepReport) -> Value {
    let mut m = Map::new();
    m.insert("step", (r.index as f64).into());
    m.insert("time", format_date_time(r.time).into());
    m.insert("url", r.url.as_deref().map_or(Value::Null, Value::from));
    let mut consent = Map::new();
    consent.insert("personalization", r.personalization.into());
    consent.insert("measurement", r.measurement.into());
    m.insert("consent", Value::Object(consent));
    m.insert("decisions", Value::Array(r.decisions.iter().map(Decision::to_value).collect()));
    m.insert("notes", Value::Array(r.notes.iter().map(|n| n.as_str().into()).collect()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NativeHost;
    use crate::rules::document::parse_rules_with;

    const RULES: &str = r#"{
      "version": 1,
      "events": { "view_item": { "keep": ["category"] } },
      "audiences": {
        "shoe-fan": { "$event": { "name": "view_item", "where": { "category": "shoes" }, "within": "14d", "count": { "$gte": 2 } } },
        "spring": { "utm.campaign": "spring" }
      },
      "experiences": [
        { "id": "fan-hero", "slot": "hero", "audience": "shoe-fan", "priority": 10,
          "variants": [ { "id": "fan", "weight": 1, "content": { "text": "Back for more shoes?" } } ] },
        { "id": "spring-hero", "slot": "hero", "audience": "spring",
          "variants": [ { "id": "sale", "weight": 1, "content": { "text": "Spring sale" } } ] }
      ]
    }"#;

    fn run(journey: &str) -> Vec<StepReport> {
        let rules = parse_rules_with(RULES, &NativeHost).unwrap();
        replay(&rules, &parse_journey(journey).unwrap(), 1_772_000_000_000.0, &NativeHost)
    }

    fn shown(r: &StepReport) -> Option<&str> {
        r.decisions.iter().find(|d| d.slot == "hero").and_then(|d| d.variant.as_deref())
    }

    #[test]
    fn behaviour_builds_up_only_under_consent() {
        let steps = r#"{ "start": "2026-03-02T09:00:00Z", "steps": [
          { "url": "https://shop.example/?utm_campaign=spring" },
          { "after": "1m", "url": "https://shop.example/shoes", "events": [ { "name": "view_item", "props": { "category": "shoes" } } ] },
          { "after": "1m", "consent": { "personalization": true } },
          { "after": "1m", "url": "https://shop.example/shoes/1", "events": [ { "name": "view_item", "props": { "category": "shoes" } }, { "name": "view_item", "props": { "category": "shoes" } } ] },
          { "after": "1h", "url": "https://shop.example/" },
          { "after": "1m", "consent": { "personalization": false }, "url": "https://shop.example/" }
        ] }"#;
        let r = run(steps);
        assert_eq!(shown(&r[0]), Some("sale"), "the campaign's audience, from the URL");
        assert_eq!(shown(&r[1]), None);
        assert!(r[1].notes[0].contains("personalization is not granted"), "{:?}", r[1].notes);
        assert!(r[2].decisions.is_empty(), "a consent step without a page decides nothing");
        assert_eq!(shown(&r[3]), None, "the events of this page count from the next page on");
        assert_eq!(shown(&r[4]), Some("fan"), "two shoe views under consent");
        assert!(r[4].decisions[0].summary.contains("fan-hero"), "{}", r[4].decisions[0].summary);
        assert_eq!(shown(&r[5]), None, "withdrawal drops the profile");
        assert_eq!(r[4].time - r[3].time, 3_600_000.0);
    }

    #[test]
    fn undeclared_events_are_named_and_local_time_is_the_visitors() {
        let r = run(r#"{ "start": "2026-03-02T23:30:00Z", "utcOffset": "+01:00", "steps": [
          { "consent": { "personalization": true }, "url": "https://shop.example/", "events": [ { "name": "wishlist" } ] } ] }"#);
        assert!(r[0].notes[0].contains("the rules declare no event \"wishlist\""), "{:?}", r[0].notes);
        let page = page_inputs("https://shop.example/a?x=1+2&y=%C3%A9", "", &Device::default(), parse_date("2026-03-03T00:30:00Z").unwrap());
        assert_eq!((page.hour, page.weekday), (0, 2), "00:30 on Tuesday 3 March");
        assert_eq!(page.query, vec![("x".into(), "1 2".into()), ("y".into(), "é".into())]);
        assert_eq!((page.host.as_str(), page.path.as_str()), ("shop.example", "/a"));
    }

    #[test]
    fn a_journey_moves_forward_and_has_steps() {
        let paths = |text: &str| parse_journey(text).unwrap_err().into_iter().map(|p| p.path).collect::<Vec<_>>();
        assert_eq!(paths(r#"{"steps": []}"#), ["$.steps"]);
        assert_eq!(paths(r#"{"steps": [{"at": "2026-03-02T10:00:00Z"}, {"at": "2026-03-02T09:00:00Z"}]}"#), ["$.steps[1].at"]);
    }

    #[test]
    fn a_mistaken_journey_lists_every_problem_with_its_path() {
        let problems = parse_journey(r#"{ "visiter": "x", "utcOffset": "CET", "steps": [
          { "at": "yesterday", "url": "shop.example", "consent": { "personalisation": true }, "events": [ { "props": {} } ] } ] }"#)
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["$.visiter", "$.utcOffset", "$.steps[0].at", "$.steps[0].url", "$.steps[0].consent.personalisation", "$.steps[0].events[0]"]);
    }
}
