//! GrowthBook-compatible conditions (see GROWTHBOOK-SEMANTICS.md).
//!
//! PLACEHOLDER: only literal equality, `$and`, `$or`, `$not` and the extension hook.
//! The full operator set replaces this file.

use crate::host::Host;
use crate::json::{Map, Value};

/// Tailor's condition-level keys beyond GrowthBook's: `Some(result)` or `None` for "not mine".
pub type Extension = dyn Fn(&str, &Value) -> Option<bool>;

/// Evaluates conditions against attributes.
pub struct Evaluator<'a> {
    /// Lends RegExp and number coercions.
    pub host: &'a dyn Host,
    /// The document's saved groups (`$inGroup`, `$savedGroup`), if any.
    pub saved_groups: Option<&'a Map>,
    /// Condition-level keys Tailor adds to GrowthBook's language (`$event`,
    /// `$scenario`, `$audience`, …): called first for every key starting with `$`
    /// that is not a GrowthBook condition-level key; `None` means "not mine".
    pub extension: Option<&'a Extension>,
}

impl Evaluator<'_> {
    /// `evalCondition(attributes, condition)`.
    pub fn eval_condition(&self, attributes: &Value, condition: &Value) -> bool {
        let Some(map) = condition.as_object() else { return false };
        map.iter().all(|(key, value)| match key.as_str() {
            "$and" => value.as_array().is_some_and(|cs| cs.iter().all(|c| self.eval_condition(attributes, c))),
            "$or" => value.as_array().is_some_and(|cs| cs.is_empty() || cs.iter().any(|c| self.eval_condition(attributes, c))),
            "$not" => !self.eval_condition(attributes, value),
            k => {
                if k.starts_with('$') {
                    if let Some(ext) = self.extension {
                        if let Some(r) = ext(k, value) {
                            return r;
                        }
                    }
                }
                let actual = get_path(attributes, k);
                actual.as_ref() == Some(value)
            }
        })
    }
}

/// GrowthBook's `getPath`: `None` stands for JS `null`.
pub fn get_path(attributes: &Value, path: &str) -> Option<Value> {
    let mut cur = attributes;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur.clone())
}

/// GrowthBook's `evalCondition(attributes, condition, savedGroups)`.
pub fn eval_condition(attributes: &Value, condition: &Value, saved_groups: Option<&Map>, host: &dyn Host) -> bool {
    Evaluator { host, saved_groups, extension: None }.eval_condition(attributes, condition)
}
