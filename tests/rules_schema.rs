//! The JSON Schema of the rules document (`pkg/rules.schema.json`) and the decoder
//! (`src/rules/document.rs`) must describe the same document: same fields, same
//! required fields, for every object. This test fails when either drifts.

use tailor::json::{self, Value};
use tailor::rules::document::{decode_rules, fields};
use tailor::rules::time::parse_duration;

const SCHEMA: &str = include_str!("../pkg/rules.schema.json");

fn schema() -> Value {
    json::parse(SCHEMA).expect("the schema is valid JSON")
}

fn keys(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Object(m)) => m.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn owned(s: &[&str]) -> Vec<String> {
    sorted(s.iter().map(|s| s.to_string()).collect())
}

/// Every object of the document: its schema (`""` for the root, else a `$defs` name),
/// the fields the decoder accepts and those it requires.
const OBJECTS: &[(&str, &[&str], &[&str])] = &[
    ("", fields::ROOT, fields::ROOT_REQUIRED),
    ("event", fields::EVENT, fields::EVENT_REQUIRED),
    ("cap", fields::CAP, fields::CAP_REQUIRED),
    ("experience", fields::EXPERIENCE, fields::EXPERIENCE_REQUIRED),
    ("schedule", fields::SCHEDULE, fields::SCHEDULE_REQUIRED),
    ("variant", fields::VARIANT, fields::VARIANT_REQUIRED),
    ("content", fields::CONTENT, fields::CONTENT_REQUIRED),
    ("classes", fields::CLASSES, fields::CLASSES_REQUIRED),
    ("condition", fields::CONDITION, &[]),
    ("filter", fields::FILTER, &[]),
    ("operators", fields::VALUE_OPERATORS, &[]),
    ("eventOperator", fields::EVENT_OPERATOR, fields::EVENT_OPERATOR_REQUIRED),
    ("sinceOperator", fields::SINCE_OPERATOR, fields::SINCE_OPERATOR_REQUIRED),
    ("scenarioOperator", fields::SCENARIO_OPERATOR, fields::SCENARIO_OPERATOR_REQUIRED),
    ("step", fields::STEP, fields::STEP_REQUIRED),
];

#[test]
fn schema_fields_match_the_decoder() {
    let s = schema();
    let defs = s.get("$defs").expect("$defs");
    for (name, allowed, required) in OBJECTS {
        let obj = if name.is_empty() { &s } else { defs.get(name).unwrap_or_else(|| panic!("$defs.{name} is missing")) };
        assert_eq!(sorted(keys(obj.get("properties"))), owned(allowed), "properties of {name:?}");
        assert_eq!(sorted(strings(obj.get("required"))), owned(required), "required of {name:?}");
        assert_eq!(obj.get("additionalProperties"), Some(&Value::Bool(false)), "{name:?} must forbid unknown fields");
    }
    // Every object definition with fields is covered above.
    for (name, def) in defs.as_object().unwrap().iter() {
        if def.get("properties").is_some() {
            assert!(OBJECTS.iter().any(|(n, _, _)| n == name), "$defs.{name} has properties but no decoder const in OBJECTS");
        }
    }
}

/// Every schema object with named properties, anywhere, forbids unknown fields.
#[test]
fn schema_forbids_unknown_fields_everywhere() {
    fn walk(v: &Value, path: &str) {
        match v {
            Value::Object(m) => {
                if m.get("properties").is_some() {
                    assert_eq!(m.get("additionalProperties"), Some(&Value::Bool(false)), "{path}");
                }
                for (k, child) in m.iter() {
                    // Skip example documents: they are data, not schemas.
                    if k != "examples" {
                        walk(child, &format!("{path}/{k}"));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(&schema(), "#");
}

#[test]
fn schema_examples_are_valid_documents() {
    let s = schema();
    let examples = s.get("examples").and_then(Value::as_array).expect("examples");
    assert!(!examples.is_empty());
    for ex in examples {
        if let Err(p) = decode_rules(ex.clone()) {
            panic!("{p:#?}");
        }
    }
    assert_eq!(s.get("$schema").and_then(Value::as_str), Some("https://json-schema.org/draft/2020-12/schema"));
}

#[cfg(not(target_arch = "wasm32"))] // regress is the native stand-in for RegExp
#[test]
fn schema_duration_pattern_matches_the_parser() {
    let s = schema();
    let pattern = s.get("$defs").and_then(|d| d.get("duration")).and_then(|d| d.get("pattern")).and_then(Value::as_str).unwrap();
    let re = regress::Regex::new(pattern).unwrap();
    for text in ["30m", "12h", "14d", "2w", "10s", "999999d", "0d", "01h", "1.5h", "3", "1y", "", "1 d", "1000000d"] {
        assert_eq!(re.find(text).is_some(), parse_duration(text).is_some(), "{text:?}");
    }
}

/// The schema states the limits of `tailor::rules::limits` where JSON Schema can:
/// each entry is a JSON pointer into the schema, a keyword and the limit it must hold.
#[test]
fn schema_states_the_decoders_limits() {
    use tailor::rules::limits::*;
    let s = schema();
    let limits: &[(&str, &str, usize)] = &[
        ("/properties/revision", "maxLength", MAX_NAME_LENGTH),
        ("/properties/events", "maxProperties", MAX_EVENTS),
        ("/properties/events/propertyNames", "maxLength", MAX_NAME_LENGTH),
        ("/properties/goals", "maxItems", MAX_EVENTS),
        ("/properties/goals/items", "maxLength", MAX_NAME_LENGTH),
        ("/properties/audiences", "maxProperties", MAX_AUDIENCES),
        ("/properties/audiences/propertyNames", "maxLength", MAX_NAME_LENGTH),
        ("/properties/savedGroups", "maxProperties", MAX_SAVED_GROUPS),
        ("/properties/savedGroups/propertyNames", "maxLength", MAX_NAME_LENGTH),
        ("/properties/experiences", "maxItems", MAX_EXPERIENCES),
        ("/$defs/experience/properties/id", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/experience/properties/slot", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/experience/properties/seed", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/experience/properties/goal", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/experience/properties/variants", "maxItems", MAX_VARIANTS),
        ("/$defs/variant/properties/id", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/content/properties/text", "maxLength", MAX_CONTENT_LENGTH),
        ("/$defs/content/properties/html", "maxLength", MAX_CONTENT_LENGTH),
        ("/$defs/content/properties/template", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/content/properties/attributes", "maxProperties", MAX_ATTRIBUTES),
        ("/$defs/content/properties/attributes/propertyNames", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/content/properties/attributes/additionalProperties", "maxLength", MAX_CONTENT_LENGTH),
        ("/$defs/classes/properties/add", "maxItems", MAX_CLASSES),
        ("/$defs/classes/properties/add/items", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/classes/properties/remove", "maxItems", MAX_CLASSES),
        ("/$defs/classes/properties/remove/items", "maxLength", MAX_NAME_LENGTH),
        ("/$defs/event/properties/keep", "maxItems", MAX_KEEP),
        ("/$defs/event/properties/keep/items", "maxLength", MAX_NAME_LENGTH),
    ];
    for (pointer, keyword, limit) in limits {
        let node = pointer.split('/').skip(1).try_fold(&s, |v, step| v.get(step));
        let stated = node.and_then(|n| n.get(keyword)).and_then(Value::as_f64);
        assert_eq!(stated, Some(*limit as f64), "{pointer} {keyword}");
    }
    let description = s.get("description").and_then(Value::as_str).unwrap_or_default();
    assert!(description.contains(&format!("at most {} levels deep", MAX_CONDITION_DEPTH)), "{description}");
    assert!(description.contains(&format!("at most {} characters", MAX_NAME_LENGTH)), "{description}");
    assert_eq!(MAX_DOCUMENT_BYTES, 1 << 20, "the schema's description says 1 MiB");
}
