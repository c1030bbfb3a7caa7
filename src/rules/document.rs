//! The rules document: typed, versioned, validated with every problem reported at once.
//!
//! Decoding walks the JSON value by hand instead of through serde derive: it is much
//! smaller in the .wasm, and it lets validation go on after the first mistake so a
//! rule author sees every problem, each with its JSON path, in one pass.

use crate::json::{self, Map, Value};

/// One thing wrong with a rules document.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `$.experiences[2].variants[0].weight`.
    pub path: String,
    /// What was expected there, e.g. "a number between 0 and 1".
    pub expected: String,
    /// What was found, e.g. "string \"half\"" or "unknown field \"audeince\"".
    pub found: String,
}

/// A validated rules document.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Format version; only 1 exists.
    pub version: u32,
    /// Named audiences: a condition each.
    pub audiences: Map,
    /// Experiences, in document order.
    pub experiences: Vec<Experience>,
}

/// One personalized experience for one slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Experience {
    /// Unique id, shown in explanations.
    pub id: String,
    /// The `data-tailor-slot` it decides.
    pub slot: String,
    /// Who sees it: a named audience or an inline condition; `None` means everyone.
    pub audience: Option<AudienceRef>,
    /// Higher wins when several experiences target one slot.
    pub priority: f64,
    /// The variants, at least one.
    pub variants: Vec<Variant>,
}

/// How an experience names its audience.
#[derive(Debug, Clone, PartialEq)]
pub enum AudienceRef {
    /// The name of an entry in `audiences`.
    Named(String),
    /// A condition written in place.
    Inline(Value),
}

/// One variant of an experience.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Unique within its experience.
    pub id: String,
    /// Share of traffic, 0..=1.
    pub weight: Option<f64>,
    /// What the slot shows; `None` keeps the page's default content (a control).
    pub content: Option<Content>,
}

/// Content a variant puts into a slot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Content {
    /// Replaces the slot's text.
    pub text: Option<String>,
    /// Replaces the slot's children with sanitized HTML.
    pub html: Option<String>,
    /// Uses `<template data-tailor-variant="slot:variant">` from the page.
    pub template: Option<String>,
}

/// Parses and validates a rules document. On failure every problem found is returned,
/// syntax errors included (as a single problem at `$` naming line and column).
pub fn parse_rules(text: &str) -> Result<Rules, Vec<Problem>> {
    match json::parse(text) {
        Ok(v) => decode_rules(&v),
        Err(e) => Err(vec![Problem {
            path: "$".into(),
            expected: "a JSON document".into(),
            found: e.to_string(),
        }]),
    }
}

/// Validates an already-parsed document.
pub fn decode_rules(doc: &Value) -> Result<Rules, Vec<Problem>> {
    let mut d = Decoder::default();
    let rules = d.rules(doc);
    if d.problems.is_empty() {
        Ok(rules)
    } else {
        Err(d.problems)
    }
}

/// Collects problems while decoding.
#[derive(Default)]
struct Decoder {
    problems: Vec<Problem>,
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Number(n) => format!("number {n}"),
        Value::Bool(b) => format!("boolean {b}"),
        other => other.type_name().to_string(),
    }
}

impl Decoder {
    fn problem(&mut self, path: &str, expected: &str, found: impl Into<String>) {
        self.problems.push(Problem { path: path.into(), expected: expected.into(), found: found.into() });
    }

    /// The object at `path`, with every key outside `allowed` reported.
    fn object<'v>(&mut self, v: &'v Value, path: &str, allowed: &[&str]) -> Option<&'v Map> {
        match v {
            Value::Object(m) => {
                for (k, _) in m.iter() {
                    if !allowed.contains(&k.as_str()) {
                        self.problem(
                            &format!("{path}.{k}"),
                            &format!("one of the fields {}", allowed.join(", ")),
                            format!("unknown field {k:?}"),
                        );
                    }
                }
                Some(m)
            }
            other => {
                self.problem(path, "an object", describe(other));
                None
            }
        }
    }

    fn string(&mut self, m: &Map, key: &str, path: &str, required: bool) -> Option<String> {
        match m.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(other) => {
                self.problem(&format!("{path}.{key}"), "a non-empty string", describe(other));
                None
            }
            None if required => {
                self.problem(&format!("{path}.{key}"), "a non-empty string", "nothing (the field is required)");
                None
            }
            None => None,
        }
    }

    fn number(&mut self, m: &Map, key: &str, path: &str, min: f64, max: f64) -> Option<f64> {
        match m.get(key) {
            Some(Value::Number(n)) if *n >= min && *n <= max => Some(*n),
            Some(other) => {
                self.problem(&format!("{path}.{key}"), &format!("a number between {min} and {max}"), describe(other));
                None
            }
            None => None,
        }
    }

    fn rules(&mut self, doc: &Value) -> Rules {
        let mut rules = Rules { version: 1, audiences: Map::new(), experiences: Vec::new() };
        let Some(m) = self.object(doc, "$", &["$schema", "version", "audiences", "experiences"]) else {
            return rules;
        };
        match m.get("version") {
            Some(Value::Number(n)) if *n == 1.0 => {}
            Some(other) => self.problem("$.version", "1", describe(other)),
            None => self.problem("$.version", "1", "nothing (the field is required)"),
        }
        if let Some(a) = m.get("audiences") {
            if let Some(am) = self.object(a, "$.audiences", &[]) {
                // Every key is a name: no key is "unknown" here, so undo those reports.
                self.problems.retain(|p| !p.path.starts_with("$.audiences.") || !p.found.starts_with("unknown field"));
                for (name, cond) in am.iter() {
                    if cond.as_object().is_none() {
                        self.problem(&format!("$.audiences.{name}"), "a condition object", describe(cond));
                    }
                }
                rules.audiences = am.clone();
            }
        }
        match m.get("experiences") {
            Some(Value::Array(list)) => {
                for (i, e) in list.iter().enumerate() {
                    if let Some(x) = self.experience(e, &format!("$.experiences[{i}]"), &rules.audiences) {
                        if rules.experiences.iter().any(|o| o.id == x.id) {
                            self.problem(&format!("$.experiences[{i}].id"), "an id not used by another experience", format!("duplicate id {:?}", x.id));
                        }
                        rules.experiences.push(x);
                    }
                }
            }
            Some(other) => self.problem("$.experiences", "an array", describe(other)),
            None => {}
        }
        rules
    }

    fn experience(&mut self, v: &Value, path: &str, audiences: &Map) -> Option<Experience> {
        let m = self.object(v, path, &["id", "slot", "audience", "priority", "variants"])?;
        let id = self.string(m, "id", path, true);
        let slot = self.string(m, "slot", path, true);
        let priority = self.number(m, "priority", path, f64::MIN, f64::MAX).unwrap_or(0.0);
        let audience = match m.get("audience") {
            None => None,
            Some(Value::String(name)) => {
                if !audiences.contains_key(name) {
                    self.problem(&format!("{path}.audience"), "the name of an audience defined under $.audiences", format!("{name:?}, which is not defined"));
                }
                Some(AudienceRef::Named(name.clone()))
            }
            Some(c @ Value::Object(_)) => Some(AudienceRef::Inline(c.clone())),
            Some(other) => {
                self.problem(&format!("{path}.audience"), "an audience name or a condition object", describe(other));
                None
            }
        };
        let mut variants = Vec::new();
        match m.get("variants") {
            Some(Value::Array(list)) if !list.is_empty() => {
                for (i, v) in list.iter().enumerate() {
                    if let Some(x) = self.variant(v, &format!("{path}.variants[{i}]")) {
                        variants.push(x);
                    }
                }
            }
            Some(other) => self.problem(&format!("{path}.variants"), "a non-empty array of variants", describe(other)),
            None => self.problem(&format!("{path}.variants"), "a non-empty array of variants", "nothing (the field is required)"),
        }
        Some(Experience { id: id?, slot: slot?, audience, priority, variants })
    }

    fn variant(&mut self, v: &Value, path: &str) -> Option<Variant> {
        let m = self.object(v, path, &["id", "weight", "content"])?;
        let id = self.string(m, "id", path, true);
        let weight = self.number(m, "weight", path, 0.0, 1.0);
        let content = match m.get("content") {
            None => None,
            Some(c) => {
                let cpath = format!("{path}.content");
                self.object(c, &cpath, &["text", "html", "template"]).map(|cm| Content {
                    text: self.string(cm, "text", &cpath, false),
                    html: self.string(cm, "html", &cpath, false),
                    template: self.string(cm, "template", &cpath, false),
                })
            }
        };
        Some(Variant { id: id?, weight, content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_problem_with_its_path() {
        let doc = r#"{"version": 2, "experiences": [
            {"id": "a", "slot": "hero", "audeince": "x", "variants": [{"id": "v", "weight": "half"}]},
            {"slot": "", "audience": "nobody", "variants": []}
        ]}"#;
        let problems = parse_rules(doc).unwrap_err();
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$.version",
                "$.experiences[0].audeince",
                "$.experiences[0].variants[0].weight",
                "$.experiences[1].id",
                "$.experiences[1].slot",
                "$.experiences[1].audience",
                "$.experiences[1].variants",
            ]
        );
        assert_eq!(problems[2].found, "string \"half\"");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let problems = parse_rules("{\n\"version\": 1,,\n}").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].found.contains("line 2"), "{:?}", problems[0]);
    }
}
