//! Decisions: which experience and variant each slot shows, and why.
//!
//! MINIMAL: audience → variant only. Schedules, caps, allocation and full explanations
//! extend this module.

use crate::host::Host;
use crate::json::{Map, Value};
use crate::rules::condition::Evaluator;
use crate::rules::document::{AudienceRef, Content, Rules};
use crate::rules::hash::fnv1a32;

/// What one slot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The slot decided.
    pub slot: String,
    /// The experience that won, if any; `None` keeps the default content.
    pub experience: Option<String>,
    /// The variant shown.
    pub variant: Option<String>,
    /// The content to apply; `None` keeps the default content.
    pub content: Option<Content>,
    /// Why, one readable line per experience considered.
    pub reasons: Vec<String>,
}

/// Decides every slot named by the rules. `unit` is the allocation identity
/// (the visitor id under consent, else a per-page-view random string).
pub fn decide_all(rules: &Rules, attributes: &Value, unit: &str, host: &dyn Host) -> Vec<Decision> {
    let eval = Evaluator { host, saved_groups: None, extension: None };
    let mut slots: Vec<&str> = Vec::new();
    for e in &rules.experiences {
        if !slots.contains(&e.slot.as_str()) {
            slots.push(&e.slot);
        }
    }
    slots
        .into_iter()
        .map(|slot| {
            let mut candidates: Vec<_> = rules.experiences.iter().filter(|e| e.slot == slot).collect();
            // Stable sort: equal priorities keep document order.
            candidates.sort_by(|a, b| b.priority.total_cmp(&a.priority));
            let mut d = Decision { slot: slot.into(), experience: None, variant: None, content: None, reasons: Vec::new() };
            for e in candidates {
                let cond = match &e.audience {
                    None => Value::Object(Map::new()),
                    Some(AudienceRef::Inline(c)) => c.clone(),
                    Some(AudienceRef::Named(n)) => rules.audiences.get(n).cloned().unwrap_or(Value::Null),
                };
                if !eval.eval_condition(attributes, &cond) {
                    d.reasons.push(format!("{}: audience did not match", e.id));
                    continue;
                }
                let n = e.variants.len() as u32;
                let idx = if n <= 1 { 0 } else { (fnv1a32(&format!("{unit}{}", e.id)) % n) as usize };
                let v = &e.variants[idx];
                d.reasons.push(format!("{}: audience matched, variant {}", e.id, v.id));
                d.experience = Some(e.id.clone());
                d.variant = Some(v.id.clone());
                d.content = v.content.clone();
                break;
            }
            d
        })
        .collect()
}
