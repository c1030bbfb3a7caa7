//! Measurement on the device: which experiences and variants the visitor was exposed
//! to, and the goals reached after an exposure (on-device attribution). Kept only
//! under the `measurement` purpose, apart from the profile: measurement alone never
//! builds a profile, and personalization alone never counts goals.
//!
//! A goal is an event named in the rules' `goals` (counted for every exposure) or in an
//! experience's `goal` (counted for that experience only). A conversion is attributed
//! to each exposure seen before it within [`ATTRIBUTION_WINDOW_MS`]. Nothing here is
//! sent anywhere: the host reads the counts through the API if it wishes.

use crate::json::{self, Map, Value};
use crate::rules::document::Rules;

/// How long after an exposure a goal still counts for it: 30 days.
pub const ATTRIBUTION_WINDOW_MS: f64 = 30.0 * 86_400_000.0;
/// At most this many exposures are kept (the oldest go first).
pub const MAX_EXPOSURES: usize = 200;
/// At most this many (goal, experience, variant) counters are kept.
pub const MAX_CONVERSIONS: usize = 500;
const FORMAT: &str = "tm1";

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

/// Exposures and conversions of one visitor, on their device.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Goals {
    exposures: Vec<Exposure>,
    conversions: Vec<Conversion>,
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

    /// Records that `variant` of `experience` was shown at `now_ms`.
    pub fn expose(&mut self, experience: &str, variant: &str, now_ms: f64) {
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

    /// Drops what the rules no longer name and exposures past the attribution window.
    pub fn prune(&mut self, rules: &Rules, now_ms: f64) {
        let known = |id: &str| rules.experiences.iter().any(|e| e.id == id);
        self.exposures.retain(|x| known(&x.experience) && now_ms - x.last <= ATTRIBUTION_WINDOW_MS);
        self.conversions.retain(|c| known(&c.experience));
    }

    /// The counters as JSON-ready values: `[{goal, experience, variant, count}]`.
    pub fn report(&self) -> Value {
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
        Value::Object(m).to_json(&crate::host::PlainHost)
    }

    /// Reads [`Self::serialize`]'s format; anything else is an error (the caller starts afresh).
    pub fn parse(text: &str) -> Result<Goals, String> {
        let v = json::parse(text).map_err(|e| e.to_string())?;
        if v.get("f").and_then(Value::as_str) != Some(FORMAT) {
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
        g.exposures.truncate(MAX_EXPOSURES);
        g.conversions.truncate(MAX_CONVERSIONS);
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
