//! Measurement on the device: which experiences and variants the visitor was exposed
//! to, and the goals reached after an exposure (on-device attribution). Kept only
//! under the `measurement` purpose, apart from the profile: measurement alone never
//! builds a profile, and personalization alone never counts goals.
//!
//! A goal is an event named in the rules' `goals` (counted for every exposure) or in an
//! experience's `goal` (counted for that experience only). A conversion is attributed
//! to each exposure seen before it within [`ATTRIBUTION_WINDOW_MS`]. Nothing here is
//! sent anywhere: the host reads the counts through the API if it wishes.
//!
//! Each visit is also kept as a touchpoint ([`attribution`]), and a goal credits the
//! touchpoints of the rules' lookback window by six models; the credit is kept per goal,
//! model and channel.

pub mod attribution;

use crate::json::{self, Map, Value};
use crate::rules::document::Rules;
use attribution::{label, shares, Model, Touchpoint, MAX_SHOWN, MAX_TOUCHPOINTS, VISIT_GAP_MS};

/// How long after an exposure a goal still counts for it: 30 days.
pub const ATTRIBUTION_WINDOW_MS: f64 = 30.0 * 86_400_000.0;
/// At most this many exposures are kept (the oldest go first).
pub const MAX_EXPOSURES: usize = 200;
/// At most this many (goal, experience, variant) counters are kept.
pub const MAX_CONVERSIONS: usize = 500;
/// At most this many (goal, model, channel) credits are kept.
pub const MAX_CREDITS: usize = 300;
const FORMAT: &str = "tm2";
/// The format before touchpoints: read, and upgraded when written again.
const FORMAT_1: &str = "tm1";

/// One experience variant the visitor saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// Experience id.
    pub experience: String,
    /// Variant id.
    pub variant: String,
    /// Last time it was shown, ms since the epoch.
    pub last: f64,
}

/// Goals reached after exposure to a variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The goal event.
    pub goal: String,
    /// Experience id.
    pub experience: String,
    /// Variant id.
    pub variant: String,
    /// How many times.
    pub count: u32,
}

/// The credit goals gave a channel under one attribution model.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    /// The goal event.
    pub goal: String,
    /// The model.
    pub model: Model,
    /// The touchpoints' channel.
    pub channel: String,
    /// The credit: each conversion gives 1 in all, shared by its touchpoints.
    pub credit: f64,
}

/// Exposures, conversions, touchpoints and credits of one visitor, on their device.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Goals {
    exposures: Vec<Exposure>,
    conversions: Vec<Conversion>,
    touchpoints: Vec<Touchpoint>,
    credits: Vec<Credit>,
}

impl Goals {
    /// Nothing seen yet.
    pub fn new() -> Goals {
        Goals::default()
    }

    /// The exposures kept, oldest first.
    pub fn exposures(&self) -> &[Exposure] {
        &self.exposures
    }

    /// The conversion counters.
    pub fn conversions(&self) -> &[Conversion] {
        &self.conversions
    }

    /// The touchpoints kept, oldest first.
    pub fn touchpoints(&self) -> &[Touchpoint] {
        &self.touchpoints
    }

    /// The credits per goal, model and channel.
    pub fn credits(&self) -> &[Credit] {
        &self.credits
    }

    /// Records a page view from `channel` (with the campaign's `source`, `medium` and
    /// `campaign`): the current visit goes on, or a new touchpoint starts (after
    /// [`VISIT_GAP_MS`] without a page view, or on arriving from another source).
    pub fn touch(&mut self, channel: &str, source: &str, medium: &str, campaign: &str, now_ms: f64) {
        let (source, medium, campaign) = (label(source), label(medium), label(campaign));
        if let Some(t) = self.touchpoints.last_mut() {
            let same_visit = now_ms >= t.last && now_ms - t.last < VISIT_GAP_MS;
            let same_source = channel == "direct" || (t.channel == channel && t.source == source && t.medium == medium && t.campaign == campaign);
            if same_visit && same_source {
                t.last = now_ms;
                return;
            }
        }
        self.touchpoints.push(Touchpoint { at: now_ms, last: now_ms, channel: channel.into(), source, medium, campaign, shown: Vec::new() });
        if self.touchpoints.len() > MAX_TOUCHPOINTS {
            self.touchpoints.remove(0);
        }
    }

    /// [`Self::touch`] for the page described by `inputs`: its channel, and the campaign's
    /// `utm_source` (else the referrer's host), `utm_medium` and `utm_campaign`.
    pub fn touch_page(&mut self, inputs: &crate::context::PageInputs, now_ms: f64) {
        let attrs = crate::context::attributes(inputs);
        let text = |a: &str, b: &str| attrs.get(a).and_then(|v| v.get(b)).and_then(Value::as_str).unwrap_or_default().to_string();
        let channel = attrs.get("channel").and_then(Value::as_str).unwrap_or("direct").to_string();
        let source = Some(text("utm", "source")).filter(|s| !s.is_empty()).unwrap_or_else(|| text("referrer", "host"));
        self.touch(&channel, &source, &text("utm", "medium"), &text("utm", "campaign"), now_ms);
    }

    /// Records that `variant` of `experience` was shown at `now_ms`.
    pub fn expose(&mut self, experience: &str, variant: &str, now_ms: f64) {
        if let Some(t) = self.touchpoints.last_mut().filter(|t| now_ms >= t.at && now_ms - t.last < VISIT_GAP_MS) {
            let pair = (experience.to_string(), variant.to_string());
            if !t.shown.contains(&pair) && t.shown.len() < MAX_SHOWN {
                t.shown.push(pair);
            }
        }
        self.exposures.retain(|x| !(x.experience == experience && x.variant == variant));
        self.exposures.push(Exposure { experience: experience.into(), variant: variant.into(), last: now_ms });
        if self.exposures.len() > MAX_EXPOSURES {
            self.exposures.remove(0);
        }
    }

    /// Counts event `name` as a goal for every exposure it applies to; returns how many
    /// conversions were attributed (0 when the event is no goal or nothing was seen).
    pub fn convert(&mut self, rules: &Rules, name: &str, now_ms: f64) -> usize {
        let global = rules.goals.iter().any(|g| g == name);
        if global || rules.experiences.iter().any(|e| e.goal.as_deref() == Some(name)) {
            self.credit(rules, name, now_ms);
        }
        let mut attributed = 0;
        for x in &self.exposures {
            if now_ms < x.last || now_ms - x.last > ATTRIBUTION_WINDOW_MS {
                continue;
            }
            let own = rules.experiences.iter().any(|e| e.id == x.experience && e.goal.as_deref() == Some(name));
            if !(global || own) {
                continue;
            }
            attributed += 1;
            let full = self.conversions.len() >= MAX_CONVERSIONS;
            match self.conversions.iter_mut().find(|c| c.goal == name && c.experience == x.experience && c.variant == x.variant) {
                Some(c) => c.count = c.count.saturating_add(1),
                None if !full => self.conversions.push(Conversion {
                    goal: name.into(),
                    experience: x.experience.clone(),
                    variant: x.variant.clone(),
                    count: 1,
                }),
                None => {}
            }
        }
        attributed
    }

    /// Shares one conversion of goal `name` among the touchpoints of the lookback window,
    /// by every model, and adds each share to its channel's credit.
    fn credit(&mut self, rules: &Rules, name: &str, now_ms: f64) {
        let lookback = rules.attribution.lookback_ms;
        let window: Vec<&Touchpoint> = self.touchpoints.iter().filter(|t| t.at <= now_ms && now_ms - t.at <= lookback).collect();
        let mut earned: Vec<(Model, String, f64)> = Vec::new();
        for model in Model::ALL {
            for (t, share) in window.iter().zip(shares(model, &window, now_ms, rules.attribution.half_life_ms)) {
                if share > 0.0 {
                    earned.push((model, t.channel.clone(), share));
                }
            }
        }
        // Kept to a millionth, so that the stored record reads back as written.
        let micro = |x: f64| (x * 1e6).round() / 1e6;
        for (model, channel, share) in earned {
            let full = self.credits.len() >= MAX_CREDITS;
            match self.credits.iter_mut().find(|c| c.goal == name && c.model == model && c.channel == channel) {
                Some(c) => c.credit = micro(c.credit + share),
                None if !full => self.credits.push(Credit { goal: name.into(), model, channel, credit: micro(share) }),
                None => {}
            }
        }
    }

    /// Drops what the rules no longer name, exposures past the attribution window and
    /// touchpoints past the lookback window.
    pub fn prune(&mut self, rules: &Rules, now_ms: f64) {
        let known = |id: &str| rules.experiences.iter().any(|e| e.id == id);
        self.exposures.retain(|x| known(&x.experience) && now_ms - x.last <= ATTRIBUTION_WINDOW_MS);
        self.conversions.retain(|c| known(&c.experience));
        self.touchpoints.retain(|t| now_ms - t.last <= rules.attribution.lookback_ms);
        let goal = |g: &str| rules.goals.iter().any(|x| x == g) || rules.experiences.iter().any(|e| e.goal.as_deref() == Some(g));
        self.credits.retain(|c| goal(&c.goal));
    }

    /// What `tailor.goals()` shows: `{conversions: [{goal, experience, variant, count}],
    /// credit: [{goal, model, channel, credit}], touchpoints: [{at, channel, source,
    /// medium, campaign, shown: [[experience, variant]]}]}` (times as ISO dates, credits
    /// rounded to 3 decimals).
    pub fn report(&self) -> Value {
        let mut m = Map::new();
        m.insert("conversions", self.conversion_report());
        let credit = self.credits.iter().map(|c| {
            let mut r = Map::new();
            r.insert("goal", c.goal.as_str().into());
            r.insert("model", c.model.name().into());
            r.insert("channel", c.channel.as_str().into());
            r.insert("credit", ((c.credit * 1000.0).round() / 1000.0).into());
            Value::Object(r)
        });
        m.insert("credit", Value::Array(credit.collect()));
        let touchpoints = self.touchpoints.iter().map(|t| {
            let mut r = Map::new();
            r.insert("at", crate::rules::time::format_date_time(t.at).into());
            r.insert("channel", t.channel.as_str().into());
            r.insert("source", t.source.as_str().into());
            r.insert("medium", t.medium.as_str().into());
            r.insert("campaign", t.campaign.as_str().into());
            r.insert("shown", Value::Array(t.shown.iter().map(|(e, v)| Value::Array(vec![e.as_str().into(), v.as_str().into()])).collect()));
            Value::Object(r)
        });
        m.insert("touchpoints", Value::Array(touchpoints.collect()));
        Value::Object(m)
    }

    fn conversion_report(&self) -> Value {
        Value::Array(
            self.conversions
                .iter()
                .map(|c| {
                    let mut m = Map::new();
                    m.insert("goal", c.goal.as_str().into());
                    m.insert("experience", c.experience.as_str().into());
                    m.insert("variant", c.variant.as_str().into());
                    m.insert("count", (c.count as f64).into());
                    Value::Object(m)
                })
                .collect(),
        )
    }

    /// The storage format: `{"f":"tm1","x":[[experience, variant, last]…],"c":[[goal, experience, variant, count]…]}`.
    pub fn serialize(&self) -> String {
        let s = |t: &str| Value::from(t);
        let mut m = Map::new();
        m.insert("f", FORMAT.into());
        m.insert("x", Value::Array(self.exposures.iter().map(|x| Value::Array(vec![s(&x.experience), s(&x.variant), x.last.into()])).collect()));
        m.insert(
            "c",
            Value::Array(self.conversions.iter().map(|c| Value::Array(vec![s(&c.goal), s(&c.experience), s(&c.variant), (c.count as f64).into()])).collect()),
        );
        let shown = |t: &Touchpoint| Value::Array(t.shown.iter().map(|(e, v)| Value::Array(vec![s(e), s(v)])).collect());
        m.insert(
            "t",
            Value::Array(self.touchpoints.iter().map(|t| Value::Array(vec![t.at.into(), t.last.into(), s(&t.channel), s(&t.source), s(&t.medium), s(&t.campaign), shown(t)])).collect()),
        );
        m.insert("a", Value::Array(self.credits.iter().map(|c| Value::Array(vec![s(&c.goal), s(c.model.name()), s(&c.channel), c.credit.into()])).collect()));
        Value::Object(m).to_json(&crate::host::PlainHost)
    }

    /// Reads [`Self::serialize`]'s format; anything else is an error (the caller starts afresh).
    pub fn parse(text: &str) -> Result<Goals, String> {
        let v = json::parse(text).map_err(|e| e.to_string())?;
        let format = v.get("f").and_then(Value::as_str);
        if format != Some(FORMAT) && format != Some(FORMAT_1) {
            return Err("not a Tailor goals record".into());
        }
        let rows = |k: &str| v.get(k).and_then(Value::as_array).ok_or_else(|| String::from("missing ") + k);
        let text = |r: &[Value], i: usize| r.get(i).and_then(Value::as_str).map(str::to_string).ok_or_else(|| String::from("bad row"));
        let num = |r: &[Value], i: usize| r.get(i).and_then(Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0).ok_or_else(|| String::from("bad row"));
        let mut g = Goals::new();
        for r in rows("x")? {
            let r = r.as_array().ok_or("bad row")?;
            g.exposures.push(Exposure { experience: text(r, 0)?, variant: text(r, 1)?, last: num(r, 2)? });
        }
        for r in rows("c")? {
            let r = r.as_array().ok_or("bad row")?;
            g.conversions.push(Conversion { goal: text(r, 0)?, experience: text(r, 1)?, variant: text(r, 2)?, count: num(r, 3)?.min(u32::MAX as f64) as u32 });
        }
        if format == Some(FORMAT) {
            for r in rows("t")? {
                let r = r.as_array().ok_or("bad row")?;
                let mut shown = Vec::new();
                for p in r.get(6).and_then(Value::as_array).ok_or("bad row")? {
                    let p = p.as_array().ok_or("bad row")?;
                    shown.push((text(p, 0)?, text(p, 1)?));
                }
                shown.truncate(MAX_SHOWN);
                g.touchpoints.push(Touchpoint { at: num(r, 0)?, last: num(r, 1)?, channel: text(r, 2)?, source: label(&text(r, 3)?), medium: label(&text(r, 4)?), campaign: label(&text(r, 5)?), shown });
            }
            for r in rows("a")? {
                let r = r.as_array().ok_or("bad row")?;
                let model = Model::from_name(&text(r, 1)?).ok_or("bad row")?;
                g.credits.push(Credit { goal: text(r, 0)?, model, channel: text(r, 2)?, credit: num(r, 3)? });
            }
        }
        g.exposures.truncate(MAX_EXPOSURES);
        g.conversions.truncate(MAX_CONVERSIONS);
        let extra = g.touchpoints.len().saturating_sub(MAX_TOUCHPOINTS);
        g.touchpoints.drain(..extra);
        g.credits.truncate(MAX_CREDITS);
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rules;

    const DAY: f64 = 86_400_000.0;

    fn rules() -> Rules {
        parse_rules(
            r#"{"version": 1, "events": {"purchase": {}, "signup": {}, "view": {}}, "goals": ["signup"],
                "experiences": [
                  {"id": "a", "slot": "s", "goal": "purchase", "variants": [{"id": "x"}]},
                  {"id": "b", "slot": "t", "variants": [{"id": "y"}]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn goals_count_for_the_exposures_they_apply_to() {
        let r = rules();
        let mut g = Goals::new();
        assert_eq!(g.convert(&r, "purchase", 0.0), 0, "nothing seen: nothing attributed");
        g.expose("a", "x", 10.0);
        g.expose("b", "y", 20.0);
        assert_eq!(g.convert(&r, "purchase", 30.0), 1, "an experience goal counts for its experience only");
        assert_eq!(g.convert(&r, "signup", 40.0), 2, "a global goal counts for every exposure");
        assert_eq!(g.convert(&r, "view", 50.0), 0, "not a goal");
        assert_eq!(g.convert(&r, "purchase", 60.0), 1);
        let counts: Vec<_> = g.conversions().iter().map(|c| (c.goal.as_str(), c.experience.as_str(), c.count)).collect();
        assert_eq!(counts, [("purchase", "a", 2), ("signup", "a", 1), ("signup", "b", 1)]);
    }

    #[test]
    fn attribution_window_and_pruning() {
        let r = rules();
        let mut g = Goals::new();
        g.expose("a", "x", 0.0);
        assert_eq!(g.convert(&r, "purchase", 30.0 * DAY), 1, "the window's last instant counts");
        assert_eq!(g.convert(&r, "purchase", 30.0 * DAY + 1.0), 0);
        g.expose("gone", "z", 0.0);
        g.prune(&r, 31.0 * DAY);
        assert!(g.exposures().is_empty(), "expired and unknown exposures are dropped");
        assert_eq!(g.conversions().len(), 1, "counters of known experiences stay");
    }

    #[test]
    fn round_trips_and_rejects_foreign_data() {
        let r = rules();
        let mut g = Goals::new();
        g.expose("a", "x", 5.0);
        g.convert(&r, "signup", 6.0);
        assert_eq!(Goals::parse(&g.serialize()).unwrap(), g);
        assert!(Goals::parse("{\"f\":\"other\"}").is_err());
        assert!(Goals::parse("not json").is_err());
        assert!(Goals::parse("{\"f\":\"tm1\",\"x\":[[1,2,3]],\"c\":[]}").is_err());
    }

    #[test]
    fn bounded() {
        let mut g = Goals::new();
        for i in 0..(MAX_EXPOSURES + 10) {
            g.expose(&format!("e{i}"), "v", i as f64);
        }
        assert_eq!(g.exposures().len(), MAX_EXPOSURES);
        assert_eq!(g.exposures()[0].experience, "e10");
    }
}

#[cfg(test)]
mod attribution_tests {
    use super::*;
    use crate::rules::parse_rules;

    const MIN: f64 = 60_000.0;
    const DAY: f64 = 86_400_000.0;

    fn rules(extra: &str) -> Rules {
        parse_rules(&format!(
            r#"{{"version": 1, "events": {{"purchase": {{}}, "view": {{}}}}, "goals": ["purchase"]{extra},
                "experiences": [{{"id": "a", "slot": "s", "variants": [{{"id": "x"}}]}}]}}"#
        ))
        .unwrap()
    }

    fn credit(g: &Goals, model: &str) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = g.credits().iter().filter(|c| c.model.name() == model).map(|c| (c.channel.clone(), (c.credit * 1000.0).round() / 1000.0)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn visits_are_touchpoints_and_a_goal_credits_them_by_every_model() {
        let r = rules("");
        let mut g = Goals::new();
        g.touch("email", "newsletter", "email", "spring", 0.0);
        g.expose("a", "x", MIN);
        g.touch("direct", "", "", "", 10.0 * MIN); // the same visit
        g.touch("social", "instagram", "social", "", DAY); // a new visit, from elsewhere
        g.touch("direct", "", "", "", DAY + 40.0 * MIN); // 40 minutes later: a new visit
        assert_eq!(g.touchpoints().len(), 3);
        assert_eq!(g.touchpoints()[0].last, 10.0 * MIN);
        assert_eq!(g.touchpoints()[0].shown, [("a".to_string(), "x".to_string())]);
        assert_eq!(g.convert(&r, "view", DAY + 41.0 * MIN), 0);
        assert!(g.credits().is_empty(), "not a goal: nothing credited");
        g.convert(&r, "purchase", DAY + 45.0 * MIN);
        let one = |c: &str| vec![(c.to_string(), 1.0)];
        assert_eq!(credit(&g, "first_touch"), one("email"));
        assert_eq!(credit(&g, "last_touch"), one("direct"));
        assert_eq!(credit(&g, "last_non_direct"), one("social"));
        assert_eq!(credit(&g, "linear"), [("direct".into(), 0.333), ("email".into(), 0.333), ("social".into(), 0.333)]);
        assert_eq!(credit(&g, "position_based"), [("direct".into(), 0.4), ("email".into(), 0.4), ("social".into(), 0.2)]);
        let decay = credit(&g, "time_decay");
        assert!(decay[0].1 > decay[2].1 && decay[2].1 > decay[1].1, "the most recent weighs most: {decay:?}");
        // A second purchase adds another conversion's worth.
        g.convert(&r, "purchase", DAY + 50.0 * MIN);
        assert_eq!(credit(&g, "first_touch"), vec![("email".to_string(), 2.0)]);
        let report = g.report();
        assert_eq!(report.get("touchpoints").and_then(Value::as_array).map(Vec::len), Some(3));
        assert_eq!(report.get("credit").and_then(Value::as_array).map(Vec::len), Some(g.credits().len()));
    }

    #[test]
    fn the_lookback_window_comes_from_the_rules() {
        let r = rules(r#", "attribution": {"lookback": "7d", "halfLife": "1d"}"#);
        assert_eq!(r.attribution.lookback_ms, 7.0 * DAY);
        let mut g = Goals::new();
        g.touch("email", "news", "email", "old", 0.0);
        g.touch("social", "x", "social", "", 6.0 * DAY);
        g.convert(&r, "purchase", 8.0 * DAY);
        assert_eq!(credit(&g, "first_touch"), vec![("social".to_string(), 1.0)], "the email visit is past the 7-day lookback");
        g.prune(&r, 8.0 * DAY);
        assert_eq!(g.touchpoints().len(), 1);
        let bad = parse_rules(r#"{"version": 1, "attribution": {"lookback": "a month", "halfLife": "1d", "model": "x"}}"#).unwrap_err();
        let paths: Vec<&str> = bad.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["$.attribution.model", "$.attribution.lookback"]);
    }

    #[test]
    fn touchpoints_are_bounded_and_survive_storage() {
        let r = rules("");
        let mut g = Goals::new();
        for i in 0..(MAX_TOUCHPOINTS + 5) {
            g.touch("email", &"s".repeat(500), "email", &format!("c{i}"), i as f64 * DAY);
        }
        assert_eq!(g.touchpoints().len(), MAX_TOUCHPOINTS);
        assert_eq!(g.touchpoints()[0].campaign, "c5");
        assert_eq!(g.touchpoints()[0].source.chars().count(), attribution::MAX_LABEL);
        g.expose("a", "x", (MAX_TOUCHPOINTS + 4) as f64 * DAY);
        g.convert(&r, "purchase", (MAX_TOUCHPOINTS + 4) as f64 * DAY + MIN);
        assert_eq!(Goals::parse(&g.serialize()).unwrap(), g);
        // A record written before touchpoints existed is read, and upgraded when written.
        let old = Goals::parse(r#"{"f":"tm1","x":[["a","x",5]],"c":[["purchase","a","x",2]]}"#).unwrap();
        assert_eq!(old.conversions()[0].count, 2);
        assert!(old.serialize().starts_with(r#"{"f":"tm2""#));
    }
}
