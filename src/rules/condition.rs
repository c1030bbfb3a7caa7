//! GrowthBook-compatible conditions (GROWTHBOOK-SEMANTICS.md §3, §4, §6).
//!
//! The reference is `mongrule.ts` of `@growthbook/growthbook@1.8.0`: every operator,
//! every JavaScript coercion and every quirk of that file is reproduced, because a
//! team moving a GrowthBook experiment over must keep every visitor in the same
//! audience. Where the prose document and 1.8.0 disagree, 1.8.0 wins.
//!
//! # How JavaScript is emulated
//!
//! Attributes and conditions are JSON, so most JavaScript values have a direct
//! counterpart in [`JsValue`]. Three things need a decision:
//!
//! * **Inherited properties.** `getPath` uses the `in` operator, so a path can reach
//!   what a plain object or an array inherits: `"a.constructor"`, `"a.toString"`,
//!   `"tags.length"`, `"tags.map"`. Those members are built-in *functions*
//!   ([`JsValue::Function`]), and they behave exactly as GrowthBook sees them:
//!   `String(f)` is V8's `function NAME() { [native code] }` (what string equality,
//!   `$regex` and `$gt` with a string see), `f * 1` is NaN, `!!f` is true (so
//!   `{"a.constructor": true}` passes), `$exists` is true, `$type` is `"unknown"`,
//!   `JSON.stringify(f)` is `undefined` (never equal), and a path cannot go through
//!   one (`typeof f` is not `"object"`). `"a.__proto__"` is `Object.prototype` (or
//!   `Array.prototype` for an array), which behaves as `{}` (or `[]`) except that its
//!   own `__proto__` is followed correctly.
//! * **Exceptions.** Some inputs make GrowthBook throw (a `null` condition,
//!   `$or: null`, `$elemMatch: null` on an array, and coercing an object that has its
//!   own `toString` key to a string or number, e.g. `{"o":{"toString":1}}` tested
//!   with `{"o":"x"}` or `$gt`; `$regex` catches that one). A throw unwinds the
//!   whole evaluation, even through `$not`, so it is modelled as an error that
//!   propagates to the top, where the condition counts as **not matched**.
//! * **Non-object conditions.** `Object.entries` is applied to whatever stands where
//!   a condition is expected: an array tests the paths `"0"`, `"1"`…, a string tests
//!   its characters against the paths `"0"`…, a number or boolean has no entries and
//!   passes. `$or`/`$and` take anything with a `length`, as JavaScript does.
//!
//! One quirk is deliberately not reproduced: GrowthBook caches compiled regular
//! expressions under the key `pattern + (insensitive ? "/i" : "")`, so after
//! `{$regexi: "a"}` has run, `{$regex: "a/i"}` reuses the case-insensitive `/a/i`,
//! and a non-string pattern such as `{$regex: true}` (normally false: it has no
//! `replace`) reuses whatever `"true"` compiled to. That depends on evaluation
//! history, which a pure function cannot (and should not) have; Tailor always
//! compiles the pattern it is given, and a non-string pattern is false.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;

use super::regex_safety;
use crate::host::Host;
use crate::json::{number_to_string, Map, Value};

/// A borrowed view of a JavaScript value as GrowthBook's code sees it: what
/// [`get_path`] returns and what operators test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsValue<'a> {
    /// `null`, also standing for a path that does not resolve.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (`tags.length` included).
    Number(f64),
    /// A string.
    String(&'a str),
    /// An array (`Array.prototype` is an empty one).
    Array(&'a [Value]),
    /// An object (`Object.prototype` is an empty one).
    Object(&'a Map),
    /// A built-in function reached through an inherited property such as
    /// `constructor` or `toString`; the name is what `String(f)` shows.
    Function(&'static str),
}

impl<'a> From<&'a Value> for JsValue<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => JsValue::Null,
            Value::Bool(b) => JsValue::Bool(*b),
            Value::Number(n) => JsValue::Number(*n),
            Value::String(s) => JsValue::String(s),
            Value::Array(a) => JsValue::Array(a),
            Value::Object(m) => JsValue::Object(m),
        }
    }
}

impl JsValue<'_> {
    /// An owned JSON copy; `None` for `null` and for functions, which JSON cannot hold.
    pub fn to_value(self) -> Option<Value> {
        Some(match self {
            JsValue::Null | JsValue::Function(_) => return None,
            JsValue::Bool(b) => Value::Bool(b),
            JsValue::Number(n) => Value::Number(n),
            JsValue::String(s) => Value::String(s.into()),
            JsValue::Array(a) => Value::Array(a.to_vec()),
            JsValue::Object(m) => Value::Object(m.clone()),
        })
    }
}

/// Evaluates conditions against attributes.
pub struct Evaluator<'a> {
    /// Lends RegExp and number coercions.
    pub host: &'a dyn Host,
    /// The document's saved groups (`$inGroup`, `$savedGroup`), if any.
    pub saved_groups: Option<&'a Map>,
    /// Condition-level keys Tailor adds to GrowthBook's language (`$event`,
    /// `$scenario`, `$audience`, …): called first for every key starting with `$`
    /// that is not a GrowthBook condition-level key; `None` means "not mine".
    pub extension: Option<&'a ConditionExtension<'a>>,
    /// How deep the evaluation is: its own count, or one shared with the evaluations
    /// it is nested in (see [`Evaluator::sharing_depth`]).
    depth: Depth<'a>,
}

/// How many nested conditions and values an evaluation may enter before it stops
/// and fails (the condition is false): a guard for conditions no validation has
/// bounded. Valid documents nest at most [`crate::rules::limits::MAX_CONDITION_DEPTH`]
/// levels, references included, so they never reach it; within it the recursion
/// stays far from the .wasm's stack limit.
pub const MAX_EVALUATION_DEPTH: u32 = 4 * crate::rules::limits::MAX_CONDITION_DEPTH as u32;

enum Depth<'a> {
    Own(Cell<u32>),
    Shared(&'a Cell<u32>),
}

/// One level of an evaluation, given back when dropped.
struct Level<'c>(&'c Cell<u32>);

impl Drop for Level<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// The type of [`Evaluator::extension`]: `(key, value)` of a condition-level `$`
/// key; `Some(result)` decides the key, `None` leaves it to GrowthBook's rules.
pub type ConditionExtension<'a> = dyn Fn(&str, &Value) -> Option<bool> + 'a;

/// A JavaScript exception: it unwinds the whole evaluation, which then fails.
pub(crate) struct Thrown;

type Outcome = Result<bool, Thrown>;

/// The saved-group ids being resolved on the current branch (GrowthBook's `visited`
/// set), as a stack-allocated list: a reference back to one of them is a cycle.
struct Visited<'v> {
    id: &'v str,
    up: Option<&'v Visited<'v>>,
}

fn was_visited(mut v: Option<&Visited>, id: &str) -> bool {
    while let Some(node) = v {
        if node.id == id {
            return true;
        }
        v = node.up;
    }
    false
}

impl<'a> Evaluator<'a> {
    /// An evaluator with the host, the document's saved groups and Tailor's
    /// condition-level keys.
    pub fn new(host: &'a dyn Host, saved_groups: Option<&'a Map>, extension: Option<&'a ConditionExtension<'a>>) -> Self {
        Evaluator { host, saved_groups, extension, depth: Depth::Own(Cell::new(0)) }
    }

    /// Counts this evaluation's depth in `depth`, shared with the evaluation it is
    /// nested in (an `$audience` reference evaluates the referenced audience with an
    /// evaluator of its own): [`MAX_EVALUATION_DEPTH`] then bounds the whole chain.
    pub fn sharing_depth(mut self, depth: &'a Cell<u32>) -> Self {
        self.depth = Depth::Shared(depth);
        self
    }

    /// Enters one more level, or fails (a JavaScript exception, in effect) past
    /// [`MAX_EVALUATION_DEPTH`].
    fn deeper(&self) -> Result<Level<'_>, Thrown> {
        let cell = match &self.depth {
            Depth::Own(c) => c,
            Depth::Shared(c) => *c,
        };
        if cell.get() >= MAX_EVALUATION_DEPTH {
            return Err(Thrown);
        }
        cell.set(cell.get() + 1);
        Ok(Level(cell))
    }
}

impl Evaluator<'_> {
    /// `evalCondition(attributes, condition, savedGroups)`: whether the attributes
    /// pass the condition. Anything that makes GrowthBook throw yields `false`.
    pub fn eval_condition(&self, attributes: &Value, condition: &Value) -> bool {
        self.condition(attributes.into(), condition, None).unwrap_or(false)
    }

    /// `evalConditionValue(condition, actual)`: whether one attribute value
    /// (`None` = JS `null`, e.g. a missing attribute) passes a value condition.
    pub fn eval_condition_value(&self, condition: &Value, actual: Option<&Value>) -> bool {
        let actual = actual.map_or(JsValue::Null, JsValue::from);
        self.value(condition, actual, false, None).unwrap_or(false)
    }

    /// `evalCondition`: `Object.entries(condition)`, every entry must pass.
    fn condition(&self, obj: JsValue, condition: &Value, visited: Option<&Visited>) -> Outcome {
        let _level = self.deeper()?;
        match condition {
            Value::Object(map) => {
                if has_index_key(map) {
                    for (k, v) in js_order(map) {
                        if !self.entry(obj, k, v, visited)? {
                            return Ok(false);
                        }
                    }
                } else {
                    for (k, v) in &map.0 {
                        if !self.entry(obj, k, v, visited)? {
                            return Ok(false);
                        }
                    }
                }
                Ok(true)
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let key = number_to_string(i as f64, self.host);
                    if !self.value(v, walk(obj, &key), false, visited)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Value::String(s) => {
                // Entries are [index, unit] per UTF-16 code unit.
                let mut index = 0usize;
                for c in s.chars() {
                    let key = number_to_string(index as f64, self.host);
                    if !self.char_condition(obj, &key, c)? {
                        return Ok(false);
                    }
                    index += c.len_utf16();
                }
                Ok(true)
            }
            Value::Bool(_) | Value::Number(_) => Ok(true),
            Value::Null => Err(Thrown),
        }
    }

    /// The entry `[key, c]` of a string condition: `getPath(obj, key) + "" === c`.
    /// A character outside the BMP is two lone surrogates in JavaScript, which no
    /// attribute can equal.
    fn char_condition(&self, obj: JsValue, key: &str, c: char) -> Outcome {
        let actual = to_js_string(walk(obj, key), self.host)?;
        if (c as u32) > 0xFFFF {
            return Ok(false);
        }
        let mut buf = [0u8; 4];
        Ok(*actual == *c.encode_utf8(&mut buf))
    }

    /// One entry of a condition object.
    fn entry(&self, obj: JsValue, key: &str, value: &Value, visited: Option<&Visited>) -> Outcome {
        match key {
            "$or" => self.list(obj, value, true, visited),
            "$nor" => self.list(obj, value, true, visited).map(|r| !r),
            "$and" => self.list(obj, value, false, visited),
            "$not" => self.condition(obj, value, visited).map(|r| !r),
            "$savedGroup" => self.saved_group(obj, value, visited),
            _ => {
                if key.starts_with('$') {
                    if let Some(ext) = self.extension {
                        if let Some(r) = ext(key, value) {
                            return Ok(r);
                        }
                    }
                }
                self.value(value, walk(obj, key), false, visited)
            }
        }
    }

    /// `evalOr` (`any`) / `evalAnd` over anything with a `length`, as JavaScript
    /// indexes it. `evalOr` passes an empty (or length-less) list.
    fn list(&self, obj: JsValue, list: &Value, any: bool, visited: Option<&Visited>) -> Outcome {
        match list {
            Value::Array(items) => {
                if any && items.is_empty() {
                    return Ok(true);
                }
                for c in items {
                    if self.condition(obj, c, visited)? == any {
                        return Ok(any);
                    }
                }
            }
            Value::String(s) => {
                if any && s.is_empty() {
                    return Ok(true);
                }
                for c in s.chars() {
                    // Each item is a one-unit string condition: its entry is ["0", unit].
                    let r = self.char_condition(obj, "0", c)?;
                    // A surrogate pair is two conditions, both false.
                    if r == any {
                        return Ok(any);
                    }
                }
            }
            Value::Null => return Err(Thrown),
            Value::Bool(_) | Value::Number(_) => return Ok(true),
            Value::Object(map) => {
                // An array-like object: `length` is read, then `list[0]`, `list[1]`…
                // (a missing index is `undefined`, and `Object.entries(undefined)` throws).
                let Some(len) = map.get("length") else { return Ok(true) };
                if any && !truthy(len.into()) {
                    return Ok(true);
                }
                let len = to_primitive(len.into(), self.host)?;
                let mut i = 0usize;
                while js_less(&Prim::Num(i as f64), &len, self.host) == Some(true) {
                    let c = map.get(&number_to_string(i as f64, self.host)).ok_or(Thrown)?;
                    if self.condition(obj, c, visited)? == any {
                        return Ok(any);
                    }
                    i += 1;
                }
            }
        }
        Ok(!any)
    }

    /// `evalSavedGroup`: a condition-level `{$savedGroup: {id, attributeKey?}}`.
    fn saved_group(&self, obj: JsValue, reference: &Value, visited: Option<&Visited>) -> Outcome {
        let Value::Object(reference) = reference else { return Ok(false) };
        let Some(Value::String(id)) = reference.get("id") else { return Ok(false) };
        if was_visited(visited, id) {
            return Ok(false);
        }
        let attribute_key = match reference.get("attributeKey") {
            None => None,
            Some(Value::String(k)) => Some(k.as_str()),
            Some(_) => return Ok(false),
        };
        // Inherited names (`constructor`, …) are functions or Object.prototype there,
        // which fail the "object" test just as a missing id does.
        let Some(Value::Object(entry)) = self.saved_groups.and_then(|g| g.get(id)) else { return Ok(false) };
        match entry.get("type") {
            Some(Value::String(t)) if t == "list" => {
                let key = match attribute_key {
                    Some(k) => k,
                    None => match entry.get("attributeKey") {
                        Some(Value::String(k)) => k,
                        _ => return Ok(false),
                    },
                };
                let Some(Value::Array(values)) = entry.get("values") else { return Ok(false) };
                Ok(is_in(walk(obj, key), values, None))
            }
            Some(Value::String(t)) if t == "condition" => match entry.get("condition") {
                Some(c @ (Value::Object(_) | Value::Array(_))) => {
                    let next = Visited { id, up: visited };
                    self.condition(obj, c, Some(&next))
                }
                _ => Ok(false),
            },
            _ => Ok(false),
        }
    }

    /// `evalConditionValue(condition, value, savedGroups, insensitive)`.
    fn value(&self, condition: &Value, actual: JsValue, insensitive: bool, visited: Option<&Visited>) -> Outcome {
        let _level = self.deeper()?;
        Ok(match condition {
            Value::String(c) => {
                if insensitive {
                    eq_lower(&to_js_string(actual, self.host)?, c, self.host)
                } else if let JsValue::String(s) = actual {
                    s == c
                } else {
                    to_js_string(actual, self.host)? == c.as_str()
                }
            }
            Value::Number(c) => to_number(actual, self.host)? == *c,
            Value::Bool(c) => actual != JsValue::Null && truthy(actual) == *c,
            Value::Null => actual == JsValue::Null,
            Value::Object(ops) if is_operator_object(ops) => {
                for (op, expected) in &ops.0 {
                    if !self.operator(op, actual, expected, visited)? {
                        return Ok(false);
                    }
                }
                true
            }
            Value::Object(_) | Value::Array(_) => json_eq(actual, condition),
        })
    }

    /// `evalOperatorCondition(operator, actual, expected)`.
    fn operator(&self, op: &str, actual: JsValue, expected: &Value, visited: Option<&Visited>) -> Outcome {
        let host = self.host;
        let relation = |expected_first: bool| -> Result<Option<bool>, Thrown> {
            let a = to_primitive(actual, host)?;
            let e = to_primitive(expected.into(), host)?;
            Ok(if expected_first { js_less(&e, &a, host) } else { js_less(&a, &e, host) })
        };
        let version = |cmp: fn(Ordering) -> bool| {
            let a = padded_version_string(actual, host);
            let e = padded_version_string(expected.into(), host);
            cmp(cmp_utf16(&a, &e))
        };
        Ok(match op {
            "$veq" => version(Ordering::is_eq),
            "$vne" => version(Ordering::is_ne),
            "$vgt" => version(Ordering::is_gt),
            "$vgte" => version(Ordering::is_ge),
            "$vlt" => version(Ordering::is_lt),
            "$vlte" => version(Ordering::is_le),
            "$eq" => strict_eq(actual, expected.into()),
            "$ne" => !strict_eq(actual, expected.into()),
            // `a <= b` is `!(b < a)` with "undefined" (a NaN) counting as false.
            "$lt" => relation(false)? == Some(true),
            "$lte" => relation(true)? == Some(false),
            "$gt" => relation(true)? == Some(true),
            "$gte" => relation(false)? == Some(false),
            "$exists" => (actual != JsValue::Null) == truthy(expected.into()),
            "$in" | "$ini" | "$nin" | "$nini" => {
                let Value::Array(list) = expected else { return Ok(false) };
                let found = is_in(actual, list, matches!(op, "$ini" | "$nini").then_some(self.host));
                if op.starts_with("$n") {
                    !found
                } else {
                    found
                }
            }
            "$inGroup" => self.group_values(expected)?.is_some_and(|v| is_in(actual, v, None)),
            "$notInGroup" => self.group_values(expected)?.is_some_and(|v| !is_in(actual, v, None)),
            "$not" => !self.value(expected, actual, false, visited)?,
            "$size" => match actual {
                JsValue::Array(a) => self.value(expected, JsValue::Number(a.len() as f64), false, visited)?,
                _ => false,
            },
            "$elemMatch" => self.elem_match(actual, expected, visited)?,
            "$all" | "$alli" => {
                let (Value::Array(list), JsValue::Array(items)) = (expected, actual) else { return Ok(false) };
                for e in list {
                    let mut passed = false;
                    for item in items {
                        if self.value(e, item.into(), op == "$alli", visited)? {
                            passed = true;
                            break;
                        }
                    }
                    if !passed {
                        return Ok(false);
                    }
                }
                true
            }
            "$regex" | "$regexi" => match expected {
                // `pattern.replace` throws for a non-string; the SDK catches it.
                // So does `test` when `actual` cannot become a string: both are caught.
                // Tailor's one departure: a pattern that could backtrack for long is
                // treated as invalid, and the regex sees a bounded prefix of the subject
                // (see `regex_safety`), so no rule can freeze the page.
                Value::String(p) => match to_js_string(actual, host) {
                    Ok(subject) => {
                        let insensitive = op == "$regexi";
                        regex_safety::check(p, insensitive).is_ok()
                            && host.regex_test(&escape_slashes(p), insensitive, regex_safety::subject_prefix(&subject)) == Some(true)
                    }
                    Err(Thrown) => false,
                },
                _ => false,
            },
            "$type" => expected.as_str() == Some(type_of(actual)),
            _ => false,
        })
    }

    /// `elemMatch`: some non-nullish element passes. `expected` is a value condition
    /// when it is an operator object, otherwise a condition on each element.
    fn elem_match(&self, actual: JsValue, expected: &Value, visited: Option<&Visited>) -> Outcome {
        let JsValue::Array(items) = actual else { return Ok(false) };
        let operator = match expected {
            Value::Null => return Err(Thrown), // Object.keys(null)
            Value::Object(m) => is_operator_object(m),
            _ => false,
        };
        for item in items {
            if *item == Value::Null {
                continue;
            }
            let passed = if operator {
                self.value(expected, item.into(), false, visited)?
            } else {
                self.condition(item.into(), expected, visited)?
            };
            if passed {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `getSavedGroupArrayValues(savedGroups[id])`: `None` when the group is not a
    /// value list (a condition group or malformed entry), which fails both operators.
    /// Looking the id up converts it with `ToPropertyKey`, which may throw.
    fn group_values(&self, id: &Value) -> Result<Option<&[Value]>, Thrown> {
        let id = to_js_string(id.into(), self.host)?;
        Ok(match self.saved_groups.and_then(|g| g.get(&id)) {
            Some(Value::Array(values)) => Some(values),
            Some(Value::Object(entry)) if entry.get("type").and_then(Value::as_str) == Some("list") => {
                entry.get("values").and_then(Value::as_array).map(Vec::as_slice)
            }
            Some(_) => None,
            // `savedGroups.constructor` and friends exist, and are not lists.
            None if object_member(&id).is_some() => None,
            None => Some(&[]),
        })
    }
}

/// GrowthBook's `evalCondition(attributes, condition, savedGroups)`.
pub fn eval_condition(attributes: &Value, condition: &Value, saved_groups: Option<&Map>, host: &dyn Host) -> bool {
    Evaluator::new(host, saved_groups, None).eval_condition(attributes, condition)
}

// ---------------------------------------------------------------------------------
// Paths and properties

/// `Object.prototype` and `Array.prototype` while walking a path: they behave as
/// `{}` and `[]`, but their own `__proto__` differs.
#[derive(Clone, Copy)]
enum Node<'a> {
    Js(JsValue<'a>),
    ObjectProto,
    ArrayProto,
}

/// Static stand-in for `Object.prototype`'s (absent) own data.
static EMPTY_OBJECT: Map = Map(Vec::new());

/// Own, string-keyed methods of `Object.prototype` (V8), `constructor` and
/// `__proto__` aside.
const OBJECT_METHODS: [&str; 10] = [
    "__defineGetter__",
    "__defineSetter__",
    "hasOwnProperty",
    "__lookupGetter__",
    "__lookupSetter__",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toString",
    "valueOf",
    "toLocaleString",
];

/// Own, string-keyed methods of `Array.prototype` (ES2023, as in current V8),
/// `constructor` and `length` aside.
const ARRAY_METHODS: [&str; 38] = [
    "at",
    "concat",
    "copyWithin",
    "fill",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "lastIndexOf",
    "pop",
    "push",
    "reverse",
    "shift",
    "unshift",
    "slice",
    "sort",
    "splice",
    "includes",
    "indexOf",
    "join",
    "keys",
    "entries",
    "values",
    "forEach",
    "filter",
    "flat",
    "flatMap",
    "map",
    "every",
    "some",
    "reduce",
    "reduceRight",
    "toLocaleString",
    "toString",
    "toReversed",
    "toSorted",
    "toSpliced",
    "with",
];

fn method(list: &'static [&'static str], key: &str) -> Option<&'static str> {
    list.iter().copied().find(|m| *m == key)
}

/// What a plain object inherits from `Object.prototype` under `key`.
fn object_member(key: &str) -> Option<Node<'static>> {
    match key {
        "__proto__" => Some(Node::ObjectProto),
        "constructor" => Some(Node::Js(JsValue::Function("Object"))),
        _ => method(&OBJECT_METHODS, key).map(|m| Node::Js(JsValue::Function(m))),
    }
}

/// What an array inherits from `Array.prototype` (and beyond) under `key`.
fn array_member(key: &str) -> Option<Node<'static>> {
    match key {
        "__proto__" => Some(Node::ArrayProto),
        "constructor" => Some(Node::Js(JsValue::Function("Array"))),
        _ => match method(&ARRAY_METHODS, key) {
            Some(m) => Some(Node::Js(JsValue::Function(m))),
            None => object_member(key),
        },
    }
}

/// `key in node ? node[key] : <absent>` for anything `typeof "object"` and truthy.
fn property<'a>(node: Node<'a>, key: &str) -> Option<Node<'a>> {
    match node {
        Node::Js(JsValue::Object(m)) => match m.get(key) {
            Some(v) => Some(Node::Js(v.into())),
            None => object_member(key),
        },
        Node::Js(JsValue::Array(a)) => {
            if key == "length" {
                return Some(Node::Js(JsValue::Number(a.len() as f64)));
            }
            match array_index(key) {
                Some(i) => a.get(i).map(|v| Node::Js(v.into())),
                None => array_member(key),
            }
        }
        Node::ObjectProto => match key {
            "__proto__" => Some(Node::Js(JsValue::Null)),
            _ => object_member(key),
        },
        Node::ArrayProto => match key {
            "length" => Some(Node::Js(JsValue::Number(0.0))),
            "__proto__" => Some(Node::ObjectProto),
            _ => array_member(key),
        },
        Node::Js(_) => None,
    }
}

fn settle(node: Node) -> JsValue {
    match node {
        Node::Js(v) => v,
        Node::ObjectProto => JsValue::Object(&EMPTY_OBJECT),
        Node::ArrayProto => JsValue::Array(&[]),
    }
}

/// `obj[key]` (own or inherited); `None` is `undefined`. Used for the hash
/// attribute, which is looked up without dot paths.
pub(crate) fn member<'a>(obj: &'a Value, key: &str) -> Option<JsValue<'a>> {
    property(Node::Js(obj.into()), key).map(settle)
}

/// GrowthBook's `getPath(obj, path)`: split on `"."`, step through anything truthy
/// of `typeof "object"` that has the key (`in`, so inherited members count);
/// [`JsValue::Null`] when a step fails. Borrows from the attributes.
pub fn get_path<'a>(attributes: &'a Value, path: &str) -> JsValue<'a> {
    walk(attributes.into(), path)
}

/// [`get_path`] from any value (`$elemMatch` tests paths inside array elements).
fn walk<'a>(root: JsValue<'a>, path: &str) -> JsValue<'a> {
    let mut node = Node::Js(root);
    for part in path.split('.') {
        match property(node, part) {
            Some(next) => node = next,
            None => return JsValue::Null,
        }
    }
    settle(node)
}

/// A canonical array index (`"0"`, `"17"`, not `"01"` or `"1e1"`).
fn array_index(key: &str) -> Option<usize> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || (b[0] == b'0' && b.len() > 1) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = key.parse().ok()?;
    (n <= 4_294_967_294).then_some(n as usize)
}

fn has_index_key(map: &Map) -> bool {
    map.0.iter().any(|(k, _)| array_index(k).is_some())
}

/// Own keys in JavaScript order: array indices ascending, then the others in
/// insertion order (what `Object.entries` and `JSON.stringify` follow).
fn js_order(map: &Map) -> Vec<(&str, &Value)> {
    let index: Vec<Option<usize>> = map.0.iter().map(|(k, _)| array_index(k)).collect();
    let mut order: Vec<usize> = (0..index.len()).filter(|&i| index[i].is_some()).collect();
    super::sort_positions(&mut order, &|a, b| index[a].cmp(&index[b]));
    order.extend((0..index.len()).filter(|&i| index[i].is_none()));
    order.into_iter().map(|i| (map.0[i].0.as_str(), &map.0[i].1)).collect()
}

fn is_operator_object(map: &Map) -> bool {
    !map.is_empty() && map.0.iter().all(|(k, _)| k.starts_with('$'))
}

// ---------------------------------------------------------------------------------
// JavaScript coercions

/// `ToBoolean`.
pub(crate) fn truthy(v: JsValue) -> bool {
    match v {
        JsValue::Null => false,
        JsValue::Bool(b) => b,
        JsValue::Number(n) => n != 0.0 && !n.is_nan(),
        JsValue::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// `ToString` (`String(v)`, also `v + ""` for these values). A JSON object with
/// its own `toString` key throws, as in JavaScript: that member shadows
/// `Object.prototype.toString` and is not callable, and `valueOf` returns the
/// object itself, so `ToPrimitive` has nothing left to try.
pub(crate) fn to_js_string<'a>(v: JsValue<'a>, host: &dyn Host) -> Result<Cow<'a, str>, Thrown> {
    Ok(match v {
        JsValue::Null => Cow::Borrowed("null"),
        JsValue::Bool(true) => Cow::Borrowed("true"),
        JsValue::Bool(false) => Cow::Borrowed("false"),
        JsValue::Number(n) => Cow::Owned(number_to_string(n, host)),
        JsValue::String(s) => Cow::Borrowed(s),
        JsValue::Array(items) => {
            let mut out = String::new();
            join(&mut out, items, host)?;
            Cow::Owned(out)
        }
        JsValue::Object(m) if m.contains_key("toString") => return Err(Thrown),
        JsValue::Object(_) => Cow::Borrowed("[object Object]"),
        JsValue::Function(name) => {
            let mut out = String::with_capacity(name.len() + 32);
            out.push_str("function ");
            out.push_str(name);
            out.push_str("() { [native code] }");
            Cow::Owned(out)
        }
    })
}

/// `Array.prototype.join(",")`: `null` elements are empty.
fn join(out: &mut String, items: &[Value], host: &dyn Host) -> Result<(), Thrown> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Value::Null => {}
            Value::Array(inner) => join(out, inner, host)?,
            other => out.push_str(&to_js_string(other.into(), host)?),
        }
    }
    Ok(())
}

/// `ToNumber`.
fn to_number(v: JsValue, host: &dyn Host) -> Result<f64, Thrown> {
    Ok(match v {
        JsValue::Null => 0.0,
        JsValue::Bool(b) => b as u8 as f64,
        JsValue::Number(n) => n,
        JsValue::String(s) => string_to_number(s, host),
        JsValue::Function(_) => f64::NAN,
        JsValue::Object(_) | JsValue::Array(_) => string_to_number(&to_js_string(v, host)?, host),
    })
}

/// `Number(s)`, without asking the host for plain digit strings.
pub(crate) fn string_to_number(s: &str, host: &dyn Host) -> f64 {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        return b.iter().fold(0u64, |acc, d| acc * 10 + (d - b'0') as u64) as f64;
    }
    host.string_to_number(s)
}

/// A primitive, the result of `ToPrimitive`.
enum Prim<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
}

/// `ToPrimitive(v, number)`: objects and arrays become their `toString()`.
fn to_primitive<'a>(v: JsValue<'a>, host: &dyn Host) -> Result<Prim<'a>, Thrown> {
    Ok(match v {
        JsValue::Null => Prim::Null,
        JsValue::Bool(b) => Prim::Bool(b),
        JsValue::Number(n) => Prim::Num(n),
        _ => Prim::Str(to_js_string(v, host)?),
    })
}

/// IsLessThan(a, b): two strings compare by UTF-16 code units, anything else as
/// numbers; `None` is JavaScript's "undefined" (a NaN was involved).
fn js_less(a: &Prim, b: &Prim, host: &dyn Host) -> Option<bool> {
    if let (Prim::Str(x), Prim::Str(y)) = (a, b) {
        return Some(cmp_utf16(x, y) == Ordering::Less);
    }
    let num = |p: &Prim| match p {
        Prim::Null => 0.0,
        Prim::Bool(b) => *b as u8 as f64,
        Prim::Num(n) => *n,
        Prim::Str(s) => string_to_number(s, host),
    };
    let (x, y) = (num(a), num(b));
    if x.is_nan() || y.is_nan() {
        None
    } else {
        Some(x < y)
    }
}

/// JavaScript string order: lexicographic over UTF-16 code units, which differs
/// from Rust's (code point) order when a supplementary character meets U+E000–U+FFFF.
fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() || b.is_ascii() {
        // An ASCII side settles the order before any surrogate can matter.
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `===` (objects and arrays from attributes are never identical to a condition's).
fn strict_eq(a: JsValue, b: JsValue) -> bool {
    match (a, b) {
        (JsValue::Null, JsValue::Null) => true,
        (JsValue::Bool(x), JsValue::Bool(y)) => x == y,
        (JsValue::Number(x), JsValue::Number(y)) => x == y,
        (JsValue::String(x), JsValue::String(y)) => x == y,
        _ => false,
    }
}

/// SameValueZero (`Array.prototype.includes`): `===`, except that NaN equals NaN.
fn same_value_zero(a: JsValue, b: JsValue) -> bool {
    match (a, b) {
        (JsValue::Number(x), JsValue::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => strict_eq(a, b),
    }
}

/// `toLowerCase()` on both sides, then `===`.
fn eq_lower(a: &str, b: &str, host: &dyn Host) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        // The host's toLowerCase: exact JS semantics, and no Unicode tables in the .wasm.
        host.to_lower_case(a) == host.to_lower_case(b)
    }
}

/// `isIn(actual, expected, insensitive)`: membership, or an intersection when
/// the attribute is an array.
/// `insensitive` carries the host whose `toLowerCase` compares strings.
fn is_in(actual: JsValue, expected: &[Value], insensitive: Option<&dyn Host>) -> bool {
    let matches = |a: JsValue| {
        expected.iter().any(|e| match (insensitive, a, e) {
            (Some(host), JsValue::String(x), Value::String(y)) => eq_lower(x, y, host),
            (Some(_), _, _) => strict_eq(a, e.into()),
            (None, _, _) => same_value_zero(a, e.into()),
        })
    };
    match actual {
        JsValue::Array(items) => items.iter().any(|el| matches(el.into())),
        _ => matches(actual),
    }
}

/// `JSON.stringify(actual) === JSON.stringify(condition)`, compared structurally.
fn json_eq(actual: JsValue, condition: &Value) -> bool {
    match (actual, condition) {
        (JsValue::Function(_), _) => false,
        (JsValue::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x.into(), y))
        }
        (JsValue::Object(a), Value::Object(b)) => {
            if has_index_key(a) || has_index_key(b) {
                let (x, y) = (js_order(a), js_order(b));
                x.len() == y.len() && x.iter().zip(&y).all(|((k1, v1), (k2, v2))| k1 == k2 && json_eq((*v1).into(), v2))
            } else {
                a.len() == b.len()
                    && a.0.iter().zip(&b.0).all(|((k1, v1), (k2, v2))| k1 == k2 && json_eq(v1.into(), v2))
            }
        }
        // JSON.stringify writes a non-finite number as null.
        (JsValue::Number(x), Value::Number(y)) if x.is_finite() && y.is_finite() => x == *y,
        (JsValue::Number(x), Value::Null) => !x.is_finite(),
        (JsValue::Null, Value::Number(y)) => !y.is_finite(),
        (JsValue::Null, Value::Null) => true,
        (JsValue::Bool(x), Value::Bool(y)) => x == *y,
        (JsValue::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// `getType`: `typeof`, with `"null"` and `"array"` split out; a function is
/// `"unknown"`.
fn type_of(v: JsValue) -> &'static str {
    match v {
        JsValue::Null => "null",
        JsValue::Bool(_) => "boolean",
        JsValue::Number(_) => "number",
        JsValue::String(_) => "string",
        JsValue::Array(_) => "array",
        JsValue::Object(_) => "object",
        JsValue::Function(_) => "unknown",
    }
}

/// `regex.replace(/([^\\])\//g, "$1\\/")`: a `/` preceded by a character other
/// than `\` gets a backslash. Matches do not overlap, so in `a//` only the first
/// slash is escaped.
pub(crate) fn escape_slashes(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains('/') {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut prev: Option<char> = None; // the previous character, unless a match used it
    for c in pattern.chars() {
        if c == '/' && prev.is_some_and(|p| p != '\\') {
            out.push_str("\\/");
            prev = None;
        } else {
            out.push(c);
            prev = Some(c);
        }
    }
    Cow::Owned(out)
}

/// `paddedVersionString`: versions made comparable as plain strings.
fn padded_version_string(v: JsValue, host: &dyn Host) -> String {
    let number;
    let input: &str = match v {
        JsValue::Number(n) => {
            number = number_to_string(n, host);
            &number
        }
        JsValue::String(s) if !s.is_empty() => s,
        _ => "0",
    };
    // replace(/(^v|\+.*$)/g, ""): `.` stops at line terminators, so the build
    // suffix is cut at the first "+" after the last line terminator. Everything that
    // matters is ASCII, so the work is on bytes (this runs per comparison).
    let bytes = input.as_bytes();
    let start = usize::from(bytes.first() == Some(&b'v'));
    let mut after_terminator = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || b == b'\r' {
            after_terminator = i + 1;
        } else if b == 0xE2 && bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) {
            after_terminator = i + 3; // U+2028, U+2029
        }
    }
    let from = start.max(after_terminator);
    let end = bytes[from..].iter().position(|&b| b == b'+').map_or(bytes.len(), |i| from + i);
    let core = crate::json::slice(input, start..end);

    // Split on "-" or "."; left-pad all-digit parts to 5 with spaces; join with "-".
    let mut out = String::with_capacity(core.len() + 24);
    let mut parts = 0;
    let mut part_start = 0;
    for i in 0..=core.len() {
        if i < core.len() && !matches!(core.as_bytes()[i], b'-' | b'.') {
            continue;
        }
        let part = crate::json::slice(core, part_start..i);
        if parts > 0 {
            out.push('-');
        }
        if !part.is_empty() && part.len() < 5 && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(crate::json::slice("    ", ..5 - part.len()));
        }
        out.push_str(part);
        parts += 1;
        part_start = i + 1;
    }
    if parts == 3 {
        out.push_str("-~");
    }
    out
}

#[cfg(test)]
mod tests {
    //! Every expectation below was checked against `@growthbook/growthbook@1.8.0`
    //! in Node (`assert!(gb(…))` means GrowthBook's `evalCondition` returns true).
    use super::*;
    use crate::host::NativeHost;
    use crate::json::parse;

    fn j(s: &str) -> Value {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn gb(attrs: &str, cond: &str) -> bool {
        eval_condition(&j(attrs), &j(cond), None, &NativeHost)
    }
    fn gbs(attrs: &str, cond: &str, groups: &str) -> bool {
        let groups = j(groups);
        eval_condition(&j(attrs), &j(cond), groups.as_object(), &NativeHost)
    }

    #[test]
    fn condition_level_keys() {
        assert!(gb(r#"{}"#, r#"{}"#));
        assert!(gb(r#"{"a":1,"b":2}"#, r#"{"a":1,"b":2}"#));
        assert!(!gb(r#"{"a":1,"b":3}"#, r#"{"a":1,"b":2}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$or":[]}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"$nor":[]}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$and":[]}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$or":[{"a":2},{"a":1}]}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"$or":[{"a":2},{"a":3}]}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"$nor":[{"a":2},{"a":1}]}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$nor":[{"a":2},{"a":3}]}"#));
        assert!(gb(r#"{"a":1,"b":2}"#, r#"{"$and":[{"a":1},{"b":2}]}"#));
        assert!(!gb(r#"{"a":1,"b":2}"#, r#"{"$and":[{"a":1},{"b":3}]}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$not":{"a":2}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"$not":{"a":1}}"#));
        assert!(gb(
            r#"{"a":1,"b":{"c":[1,2]}}"#,
            r#"{"$and":[{"$or":[{"a":5},{"b.c":{"$size":2}}]},{"$not":{"$nor":[{"a":1}]}}]}"#
        ));
        // Any other `$` key is an attribute path.
        assert!(gb(r#"{"$groups":"x"}"#, r#"{"$groups":"x"}"#));
        assert!(!gb(r#"{"$groups":"x"}"#, r#"{"$groups":"y"}"#));
        assert!(gb(r#"{}"#, r#"{"$groups":null}"#));
    }

    #[test]
    fn string_condition_concatenates() {
        assert!(gb(r#"{"a":5}"#, r#"{"a":"5"}"#));
        assert!(gb(r#"{}"#, r#"{"a":"null"}"#));
        assert!(gb(r#"{"a":null}"#, r#"{"a":"null"}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":"1,2"}"#));
        assert!(gb(r#"{"a":[1,[2,null,3]]}"#, r#"{"a":"1,2,,3"}"#));
        assert!(gb(r#"{"a":{"b":1}}"#, r#"{"a":"[object Object]"}"#));
        assert!(gb(r#"{"a":true}"#, r#"{"a":"true"}"#));
        assert!(gb(r#"{"a":1e21}"#, r#"{"a":"1e+21"}"#));
        assert!(gb(r#"{"a":0.1}"#, r#"{"a":"0.1"}"#));
        assert!(!gb(r#"{"a":"A"}"#, r#"{"a":"a"}"#));
        assert!(gb(r#"{"a":"é😀"}"#, r#"{"a":"é😀"}"#));
    }

    #[test]
    fn number_condition_multiplies() {
        assert!(gb(r#"{"a":"5"}"#, r#"{"a":5}"#));
        assert!(gb(r#"{}"#, r#"{"a":0}"#));
        assert!(gb(r#"{"a":null}"#, r#"{"a":0}"#));
        assert!(gb(r#"{"a":""}"#, r#"{"a":0}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a":0}"#));
        assert!(gb(r#"{"a":[7]}"#, r#"{"a":7}"#));
        assert!(!gb(r#"{"a":[1,2]}"#, r#"{"a":1}"#));
        assert!(gb(r#"{"a":true}"#, r#"{"a":1}"#));
        assert!(gb(r#"{"a":false}"#, r#"{"a":0}"#));
        assert!(gb(r#"{"a":" 0x10 "}"#, r#"{"a":16}"#));
        assert!(gb(r#"{"a":"1e3"}"#, r#"{"a":1000}"#));
        assert!(!gb(r#"{"a":"abc"}"#, r#"{"a":0}"#));
        assert!(!gb(r#"{"a":{}}"#, r#"{"a":0}"#));
    }

    #[test]
    fn boolean_and_null_conditions() {
        assert!(!gb(r#"{}"#, r#"{"a":false}"#));
        assert!(!gb(r#"{}"#, r#"{"a":true}"#));
        assert!(!gb(r#"{"a":null}"#, r#"{"a":false}"#));
        assert!(gb(r#"{"a":"false"}"#, r#"{"a":true}"#));
        assert!(gb(r#"{"a":0}"#, r#"{"a":false}"#));
        assert!(gb(r#"{"a":""}"#, r#"{"a":false}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a":true}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a":true}"#));
        assert!(gb(r#"{}"#, r#"{"a":null}"#));
        assert!(gb(r#"{"a":null}"#, r#"{"a":null}"#));
        assert!(!gb(r#"{"a":0}"#, r#"{"a":null}"#));
        assert!(!gb(r#"{"a":""}"#, r#"{"a":null}"#));
    }

    #[test]
    fn arrays_and_plain_objects_compare_as_json() {
        assert!(gb(r#"{"a":[1,"x",{"b":null}]}"#, r#"{"a":[1,"x",{"b":null}]}"#));
        assert!(!gb(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#));
        assert!(gb(r#"{"a":{"x":1,"y":2}}"#, r#"{"a":{"x":1,"y":2}}"#));
        // Key order matters...
        assert!(!gb(r#"{"a":{"x":1,"y":2}}"#, r#"{"a":{"y":2,"x":1}}"#));
        // ...except that JavaScript puts integer keys first.
        assert!(gb(r#"{"a":{"x":1,"2":2,"1":3}}"#, r#"{"a":{"1":3,"2":2,"x":1}}"#));
        // `{}` is not an operator object; mixed keys are not either.
        assert!(gb(r#"{"a":{}}"#, r#"{"a":{}}"#));
        assert!(!gb(r#"{}"#, r#"{"a":{}}"#));
        assert!(!gb(r#"{"a":{"b":1}}"#, r#"{"a":{}}"#));
        assert!(gb(r#"{"a":{"$eq":1,"b":2}}"#, r#"{"a":{"$eq":1,"b":2}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$eq":1,"b":2}}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a":[]}"#));
        assert!(!gb(r#"{"a":"[]"}"#, r#"{"a":[]}"#));
        assert!(gb(r#"{"a":[1.0,-0]}"#, r#"{"a":[1,0]}"#));
    }

    #[test]
    fn strict_equality() {
        assert!(gb(r#"{"a":5}"#, r#"{"a":{"$eq":5}}"#));
        assert!(!gb(r#"{"a":"5"}"#, r#"{"a":{"$eq":5}}"#));
        assert!(gb(r#"{"a":"5"}"#, r#"{"a":{"$ne":5}}"#));
        assert!(!gb(r#"{"a":{"b":1}}"#, r#"{"a":{"$eq":{"b":1}}}"#));
        assert!(!gb(r#"{"a":[1]}"#, r#"{"a":{"$eq":[1]}}"#));
        assert!(gb(r#"{"a":[1]}"#, r#"{"a":{"$ne":[1]}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$eq":null}}"#));
        assert!(gb(r#"{"a":-0}"#, r#"{"a":{"$eq":0}}"#));
        assert!(!gb(r#"{"a":0}"#, r#"{"a":{"$eq":false}}"#));
    }

    #[test]
    fn relational_operators_coerce_like_javascript() {
        assert!(gb(r#"{}"#, r#"{"age":{"$gt":-10,"$lt":10}}"#));
        assert!(gb(r#"{"a":"8"}"#, r#"{"a":{"$gt":5}}"#));
        assert!(!gb(r#"{"a":"10"}"#, r#"{"a":{"$gt":"9"}}"#));
        assert!(gb(r#"{"a":10}"#, r#"{"a":{"$gt":"9"}}"#));
        assert!(gb(r#"{"a":5}"#, r#"{"a":{"$gte":5,"$lte":5}}"#));
        assert!(!gb(r#"{"a":"abc"}"#, r#"{"a":{"$gt":0}}"#));
        assert!(!gb(r#"{"a":"abc"}"#, r#"{"a":{"$lte":0}}"#));
        assert!(!gb(r#"{"a":"abc"}"#, r#"{"a":{"$gte":0}}"#));
        assert!(gb(r#"{"a":"b"}"#, r#"{"a":{"$gt":"a","$lt":"c"}}"#));
        assert!(gb(r#"{"a":"B"}"#, r#"{"a":{"$lt":"a"}}"#));
        assert!(gb(r#"{"a":true}"#, r#"{"a":{"$gt":0.5}}"#));
        assert!(gb(r#"{"a":null}"#, r#"{"a":{"$gte":0}}"#));
        assert!(gb(r#"{"a":[3]}"#, r#"{"a":{"$gt":2}}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":{"$gt":"1"}}"#));
        assert!(!gb(r#"{"a":{}}"#, r#"{"a":{"$lt":1}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a":{"$gt":"[object"}}"#));
        // UTF-16 order: U+1F600 is D83D DE00, below U+FF61; Rust's char order says otherwise.
        assert!(gb(r#"{"a":"😀"}"#, r#"{"a":{"$lt":"｡"}}"#));
        assert!(gb(r#"{"a":"é"}"#, r#"{"a":{"$gt":"z"}}"#));
        assert!(!gb(r#"{"a":"2024-01-01"}"#, r#"{"a":{"$gt":"2024-01-02"}}"#));
    }

    #[test]
    fn exists() {
        assert!(gb(r#"{"a":0}"#, r#"{"a":{"$exists":true}}"#));
        assert!(!gb(r#"{}"#, r#"{"a":{"$exists":true}}"#));
        assert!(!gb(r#"{"a":null}"#, r#"{"a":{"$exists":true}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$exists":false}}"#));
        assert!(!gb(r#"{"a":""}"#, r#"{"a":{"$exists":false}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$exists":"yes"}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$exists":0}}"#));
    }

    #[test]
    fn in_and_nin() {
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$in":[1,2]}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$in":["1"]}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$in":1}}"#));
        assert!(gb(r#"{"a":[3,2]}"#, r#"{"a":{"$in":[1,2]}}"#));
        assert!(!gb(r#"{"a":[3,4]}"#, r#"{"a":{"$in":[1,2]}}"#));
        assert!(!gb(r#"{"a":[]}"#, r#"{"a":{"$in":[1,2]}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$in":[null]}}"#));
        assert!(!gb(r#"{"a":[1]}"#, r#"{"a":{"$in":[[1]]}}"#));
        assert!(gb(r#"{"a":-0}"#, r#"{"a":{"$in":[0]}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$nin":1}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$nin":[1]}}"#));
        assert!(!gb(r#"{"a":2}"#, r#"{"a":{"$nin":[1,2]}}"#));
        assert!(gb(r#"{"a":[3,4]}"#, r#"{"a":{"$nin":[1,2]}}"#));
        assert!(gb(r#"{"a":"ABC"}"#, r#"{"a":{"$ini":["x","abc"]}}"#));
        assert!(gb(r#"{"a":["X","Q"]}"#, r#"{"a":{"$ini":["x"]}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$ini":["1"]}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$ini":[1]}}"#));
        assert!(!gb(r#"{"a":"abc"}"#, r#"{"a":{"$ini":"abc"}}"#));
        assert!(!gb(r#"{"a":"ABC"}"#, r#"{"a":{"$nini":["abc"]}}"#));
        assert!(gb(r#"{"a":"ABD"}"#, r#"{"a":{"$nini":["abc"]}}"#));
        assert!(!gb(r#"{"a":"ABD"}"#, r#"{"a":{"$nini":"abc"}}"#));
        // Unicode case folding, as toLowerCase does it (Kelvin sign, final sigma).
        assert!(gb(r#"{"a":"\u212a"}"#, r#"{"a":{"$ini":["k"]}}"#));
        assert!(gb(r#"{"a":"ΟΔΟΣ"}"#, r#"{"a":{"$ini":["οδος"]}}"#));
        assert!(!gb(r#"{"a":"ΟΔΟΣ"}"#, r#"{"a":{"$ini":["οδοσ"]}}"#));
        assert!(gb(r#"{"a":"straße"}"#, r#"{"a":{"$ini":["STRAßE"]}}"#));
        assert!(!gb(r#"{"a":"strasse"}"#, r#"{"a":{"$ini":["STRAßE"]}}"#));
    }

    #[test]
    fn not_size_all() {
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$not":2}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$not":{"$gt":5}}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$not":{"$lt":5}}}"#));
        assert!(!gb(r#"{}"#, r#"{"a":{"$not":null}}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":{"$size":2}}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":{"$size":{"$gt":1}}}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":{"$size":"2"}}"#));
        assert!(!gb(r#"{"a":"ab"}"#, r#"{"a":{"$size":2}}"#));
        assert!(!gb(r#"{}"#, r#"{"a":{"$size":0}}"#));
        assert!(gb(r#"{"a":[1,2,3]}"#, r#"{"a":{"$all":[1,3]}}"#));
        assert!(!gb(r#"{"a":[1,2,3]}"#, r#"{"a":{"$all":[1,4]}}"#));
        assert!(gb(r#"{"a":["1",2]}"#, r#"{"a":{"$all":[1,"2"]}}"#));
        assert!(gb(r#"{"a":[1,5]}"#, r#"{"a":{"$all":[{"$gt":4}]}}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a":{"$all":[]}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$all":[1]}}"#));
        assert!(!gb(r#"{"a":[1]}"#, r#"{"a":{"$all":1}}"#));
        assert!(gb(r#"{"a":["Hello","X"]}"#, r#"{"a":{"$alli":["hello","x"]}}"#));
        assert!(!gb(r#"{"a":["Hello"]}"#, r#"{"a":{"$all":["hello"]}}"#));
        assert!(!gb(r#"{"a":"Hello"}"#, r#"{"a":{"$alli":["hello"]}}"#));
        // Only direct string items fold case; nested operators do not.
        assert!(!gb(r#"{"a":["Hello"]}"#, r#"{"a":{"$alli":[{"$in":["hello"]}]}}"#));
    }

    #[test]
    fn elem_match() {
        assert!(gb(r#"{"a":[1,5]}"#, r#"{"a":{"$elemMatch":{"$gt":4}}}"#));
        assert!(!gb(r#"{"a":[1,2]}"#, r#"{"a":{"$elemMatch":{"$gt":4}}}"#));
        assert!(gb(r#"{"a":[{"b":1},{"b":2}]}"#, r#"{"a":{"$elemMatch":{"b":2}}}"#));
        assert!(gb(r#"{"a":[{"b":{"c":[3]}}]}"#, r#"{"a":{"$elemMatch":{"b.c.0":3}}}"#));
        assert!(!gb(r#"{"a":{"b":2}}"#, r#"{"a":{"$elemMatch":{"b":2}}}"#));
        // 1.8.0 skips only nullish elements: 0, "" and false are tested.
        assert!(gb(r#"{"a":[0,1]}"#, r#"{"a":{"$elemMatch":{"$eq":0}}}"#));
        assert!(gb(r#"{"a":[""]}"#, r#"{"a":{"$elemMatch":{"$eq":""}}}"#));
        assert!(gb(r#"{"a":[false]}"#, r#"{"a":{"$elemMatch":{"$eq":false}}}"#));
        assert!(!gb(r#"{"a":[null]}"#, r#"{"a":{"$elemMatch":{"$eq":null}}}"#));
        assert!(!gb(r#"{"a":[null]}"#, r#"{"a":{"$elemMatch":{"$exists":false}}}"#));
        // A non-operator, non-object `expected` is a condition on each element.
        assert!(gb(r#"{"a":[1]}"#, r#"{"a":{"$elemMatch":5}}"#));
        assert!(!gb(r#"{"a":[null]}"#, r#"{"a":{"$elemMatch":5}}"#));
        assert!(gb(r#"{"a":[["x","y"]]}"#, r#"{"a":{"$elemMatch":"xy"}}"#));
        assert!(gb(r#"{"a":[["x","y"]]}"#, r#"{"a":{"$elemMatch":["x"]}}"#));
        assert!(gb(r#"{"a":[{"b":1}]}"#, r#"{"a":{"$elemMatch":{}}}"#));
        // `$elemMatch: null` throws on an array, which fails the whole condition.
        assert!(!gb(r#"{"a":[1]}"#, r#"{"a":{"$elemMatch":null}}"#));
        assert!(!gb(r#"{"a":[1]}"#, r#"{"$not":{"a":{"$elemMatch":null}}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$not":{"a":{"$elemMatch":null}}}"#));
    }

    #[test]
    fn regex() {
        assert!(gb(r#"{"a":"hello"}"#, r#"{"a":{"$regex":"^hel+o$"}}"#));
        assert!(!gb(r#"{"a":"HELLO"}"#, r#"{"a":{"$regex":"^hel+o$"}}"#));
        assert!(gb(r#"{"a":"HELLO"}"#, r#"{"a":{"$regexi":"^hel+o$"}}"#));
        assert!(gb(r#"{}"#, r#"{"a":{"$regex":"^null$"}}"#));
        assert!(gb(r#"{"a":123}"#, r#"{"a":{"$regex":"^\\d+$"}}"#));
        assert!(gb(r#"{"a":[1,2]}"#, r#"{"a":{"$regex":"^1,2$"}}"#));
        assert!(gb(r#"{"a":true}"#, r#"{"a":{"$regex":"^tr"}}"#));
        assert!(!gb(r#"{"a":"x"}"#, r#"{"a":{"$regex":"("}}"#));
        assert!(gb(r#"{"a":"x"}"#, r#"{"$not":{"a":{"$regex":"("}}}"#));
        assert!(!gb(r#"{"a":"5"}"#, r#"{"a":{"$regex":5}}"#));
        // ECMAScript syntax: lookaround and backreferences.
        assert!(gb(r#"{"a":"price: 100USD"}"#, r#"{"a":{"$regex":"\\d+(?=USD)"}}"#));
        assert!(!gb(r#"{"a":"100EUR"}"#, r#"{"a":{"$regex":"\\d+(?=USD)"}}"#));
        assert!(gb(r#"{"a":"xabcabc"}"#, r#"{"a":{"$regex":"(abc)\\1"}}"#));
        assert!(gb(r#"{"a":"bar"}"#, r#"{"a":{"$regex":"(?<!foo)bar"}}"#));
        assert!(gb(r#"{"a":"/path/x"}"#, r#"{"a":{"$regex":"^/path/"}}"#));
        assert!(gb(r#"{"a":"a/b"}"#, r#"{"a":{"$regex":"a\\/b"}}"#));
        assert_eq!(escape_slashes("^/a//b\\/c/"), "^\\/a\\//b\\/c\\/");
        assert_eq!(escape_slashes("a///b"), "a\\//\\/b");
        assert_eq!(escape_slashes("//"), "/\\/");
        assert_eq!(escape_slashes("abc"), "abc");
    }

    #[test]
    fn type_operator() {
        for (attrs, t) in [
            (r#"{}"#, "null"),
            (r#"{"a":null}"#, "null"),
            (r#"{"a":[1]}"#, "array"),
            (r#"{"a":"x"}"#, "string"),
            (r#"{"a":1}"#, "number"),
            (r#"{"a":false}"#, "boolean"),
            (r#"{"a":{}}"#, "object"),
        ] {
            let cond = format!(r#"{{"a":{{"$type":"{t}"}}}}"#);
            assert!(gb(attrs, &cond), "{attrs} {t}");
            assert!(!gb(attrs, r#"{"a":{"$type":"undefined"}}"#));
        }
        assert!(gb(r#"{"a":{}}"#, r#"{"a.constructor":{"$type":"unknown"}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$type":["number"]}}"#));
    }

    #[test]
    fn versions() {
        let pad = |s: &str| padded_version_string(JsValue::String(s), &NativeHost);
        assert_eq!(pad("v1.2.3-rc.1+build.5"), "    1-    2-    3-rc-    1");
        assert_eq!(pad("1.2.3"), "    1-    2-    3-~");
        assert_eq!(pad(""), "    0");
        assert_eq!(padded_version_string(JsValue::Number(1.5), &NativeHost), "    1-    5");
        assert_eq!(padded_version_string(JsValue::Null, &NativeHost), "    0");
        assert_eq!(pad("1+a\n2+b"), "1+a\n2");
        assert_eq!(pad("1.2.3\u{2028}+x"), "    1-    2-3\u{2028}-~");
        assert_eq!(pad("+1.2.3"), "");
        assert_eq!(pad("v"), "");
        assert!(gb(r#"{"v":"1.2.3"}"#, r#"{"v":{"$vgt":"1.2.3-rc.1"}}"#));
        assert!(gb(r#"{"v":"1-2-3"}"#, r#"{"v":{"$veq":"1.2.3"}}"#));
        assert!(gb(r#"{"v":"v1.2.3+x"}"#, r#"{"v":{"$veq":"1.2.3"}}"#));
        assert!(gb(r#"{"v":"1.2.3.4"}"#, r#"{"v":{"$veq":"1.2.3-4"}}"#));
        assert!(gb(r#"{"v":"1.0.0-1"}"#, r#"{"v":{"$vlt":"1.0.0-alpha"}}"#));
        assert!(gb(r#"{"v":"1.0.0-Beta"}"#, r#"{"v":{"$vlt":"1.0.0-alpha"}}"#));
        // Only 5 digits pad correctly: 100000 sorts below 99999.
        assert!(!gb(r#"{"v":"1.0.99999"}"#, r#"{"v":{"$vlt":"1.0.100000"}}"#));
        assert!(gb(r#"{"v":"1.2"}"#, r#"{"v":{"$vlt":"1.2.3"}}"#));
        assert!(gb(r#"{"v":"1.10.0"}"#, r#"{"v":{"$vgt":"1.9.0"}}"#));
        assert!(gb(r#"{"v":"2.0.0"}"#, r#"{"v":{"$vgte":"2.0.0","$vlte":"2.0.0","$vne":"2.0.1"}}"#));
        assert!(gb(r#"{"v":2}"#, r#"{"v":{"$veq":"2"}}"#));
        assert!(gb(r#"{}"#, r#"{"v":{"$veq":"0"}}"#));
        assert!(gb(r#"{"v":[1]}"#, r#"{"v":{"$veq":0}}"#));
        assert!(gb(r#"{"v":"1.2.3"}"#, r#"{"v":{"$vne":"1.2.4"}}"#));
    }

    #[test]
    fn unknown_operators_fail() {
        assert!(!gb(r#"{"a":"x"}"#, r#"{"a":{"$regx":"x"}}"#));
        assert!(!gb(r#"{"a":"x"}"#, r#"{"a":{"$notRegex":"y"}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"a":{"$eq":1,"$bogus":1}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"a":{"$not":{"$bogus":1}}}"#));
    }

    #[test]
    fn paths() {
        assert!(gb(r#"{"a":[{"b":7}]}"#, r#"{"a.0.b":7}"#));
        assert!(!gb(r#"{"a":[{"b":7}]}"#, r#"{"a.00.b":7}"#));
        assert!(gb(r#"{"tags":["x","y"]}"#, r#"{"tags.length":2}"#));
        assert!(gb(r#"{"tags":["x","y"]}"#, r#"{"tags.length":{"$gt":1}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.constructor":{"$exists":true}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.constructor":true}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.constructor":"function Object() { [native code] }"}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a.constructor":"function Array() { [native code] }"}"#));
        assert!(gb(r#"{"a":[]}"#, r#"{"a.map":{"$regex":"^function map\\("}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.hasOwnProperty":{"$gt":"f"}}"#));
        assert!(!gb(r#"{"a":{}}"#, r#"{"a.constructor":{"$gt":0}}"#));
        assert!(!gb(r#"{"a":{}}"#, r#"{"a.constructor":{"$in":[true]}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.constructor.name":null}"#));
        assert!(gb(r#"{"a":{"toString":5}}"#, r#"{"a.toString":5}"#));
        assert!(gb(r#"{"s":"abc"}"#, r#"{"s.length":null}"#));
        assert!(gb(r#"{"s":"abc"}"#, r#"{"s.0":null}"#));
        assert!(gb(r#"{"a.b":1}"#, r#"{"a.b":null}"#));
        assert!(gb(r#"{"a":{"b":1}}"#, r#"{"a.b":1}"#));
        assert!(gb(r#"{"a":{"__proto__x":1}}"#, r#"{"a.__proto__":{}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.__proto__":{"$type":"object"}}"#));
        assert!(gb(r#"{"a":{}}"#, r#"{"a.__proto__.__proto__":null}"#));
        assert!(gb(r#"{"a":[1]}"#, r#"{"a.__proto__":{"$size":0}}"#));
        assert!(gb(r#"{"a":[1]}"#, r#"{"a.__proto__.__proto__":{}}"#));
        assert!(gb(r#"{"a":[1]}"#, r#"{"a.__proto__.length":0}"#));
        assert!(gb(r#"{"a":{"b":{"c":null}}}"#, r#"{"a.b.c.d":null}"#));
        assert!(gb(r#"{"":{"":3}}"#, r#"{".":3}"#));
        assert_eq!(get_path(&j(r#"{"a":[{"b":"x"}]}"#), "a.0.b"), JsValue::String("x"));
        assert_eq!(get_path(&j(r#"{"a":{}}"#), "a.toString"), JsValue::Function("toString"));
        assert_eq!(get_path(&j(r#"{"a":[1,2,3]}"#), "a.length"), JsValue::Number(3.0));
        assert_eq!(get_path(&j(r#"{"a":1}"#), "a.b"), JsValue::Null);
        assert_eq!(get_path(&j(r#"{"a":[1]}"#), "a").to_value(), Some(j("[1]")));
        assert_eq!(get_path(&j(r#"{"a":{}}"#), "a.valueOf").to_value(), None);
    }

    #[test]
    fn saved_groups_in_group() {
        let groups = r#"{
            "v1": ["a", 2],
            "v2": {"type": "list", "attributeKey": "id", "values": ["b", 3]},
            "cond": {"type": "condition", "condition": {"x": 1}},
            "bad": {"type": "list", "values": "nope"},
            "nul": null
        }"#;
        assert!(gbs(r#"{"id":"a"}"#, r#"{"id":{"$inGroup":"v1"}}"#, groups));
        assert!(!gbs(r#"{"id":"2"}"#, r#"{"id":{"$inGroup":"v1"}}"#, groups));
        assert!(gbs(r#"{"id":["z",2]}"#, r#"{"id":{"$inGroup":"v1"}}"#, groups));
        assert!(gbs(r#"{"id":"z"}"#, r#"{"id":{"$notInGroup":"v1"}}"#, groups));
        assert!(gbs(r#"{"id":3}"#, r#"{"id":{"$inGroup":"v2"}}"#, groups));
        assert!(!gbs(r#"{"id":"b"}"#, r#"{"id":{"$notInGroup":"v2"}}"#, groups));
        // An unknown id is an empty list.
        assert!(!gbs(r#"{"id":"a"}"#, r#"{"id":{"$inGroup":"nope"}}"#, groups));
        assert!(gbs(r#"{"id":"a"}"#, r#"{"id":{"$notInGroup":"nope"}}"#, groups));
        assert!(gb(r#"{"id":"a"}"#, r#"{"id":{"$notInGroup":"nope"}}"#));
        // Condition groups, malformed entries and inherited names fail both.
        for id in ["cond", "bad", "nul", "constructor", "__proto__", "toString"] {
            let inside = format!(r#"{{"id":{{"$inGroup":"{id}"}}}}"#);
            let outside = format!(r#"{{"id":{{"$notInGroup":"{id}"}}}}"#);
            assert!(!gbs(r#"{"id":"a"}"#, &inside, groups), "{id}");
            assert!(!gbs(r#"{"id":"a"}"#, &outside, groups), "{id}");
        }
        assert!(!gb(r#"{"id":"a"}"#, r#"{"id":{"$notInGroup":"constructor"}}"#));
        // The id goes through String(): 1 finds the group "1".
        assert!(gbs(r#"{"id":"q"}"#, r#"{"id":{"$inGroup":1}}"#, r#"{"1":["q"]}"#));
    }

    #[test]
    fn saved_group_references() {
        let groups = r#"{
            "list": {"type": "list", "attributeKey": "id", "values": ["a", "b"]},
            "nokey": {"type": "list", "values": ["a"]},
            "cond": {"type": "condition", "condition": {"country": "FR"}},
            "nested": {"type": "condition", "condition": {"$savedGroup": {"id": "cond"}, "age": {"$gt": 18}}},
            "loop1": {"type": "condition", "condition": {"$savedGroup": {"id": "loop2"}}},
            "loop2": {"type": "condition", "condition": {"$savedGroup": {"id": "loop1"}}},
            "notloop": {"type": "condition", "condition": {"$not": {"$savedGroup": {"id": "notloop"}}}},
            "arr": {"type": "condition", "condition": [1]},
            "v1": ["a"],
            "future": {"type": "regex", "values": ["a"]}
        }"#;
        let user = r#"{"id":"a","email":"b","country":"FR","age":30,"a":[1]}"#;
        assert!(gbs(user, r#"{"$savedGroup":{"id":"list"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"list","attributeKey":"email"}}"#, groups));
        assert!(!gbs(user, r#"{"$savedGroup":{"id":"list","attributeKey":"country"}}"#, groups));
        assert!(!gbs(user, r#"{"$savedGroup":{"id":"list","attributeKey":null}}"#, groups));
        assert!(!gbs(user, r#"{"$savedGroup":{"id":"list","attributeKey":5}}"#, groups));
        assert!(!gbs(user, r#"{"$savedGroup":{"id":"nokey"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"nokey","attributeKey":"id"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"cond"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"cond","attributeKey":"nothing"}}"#, groups));
        assert!(!gbs(r#"{"country":"DE"}"#, r#"{"$savedGroup":{"id":"cond"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"nested"}}"#, groups));
        assert!(!gbs(r#"{"country":"FR","age":3}"#, r#"{"$savedGroup":{"id":"nested"}}"#, groups));
        // Cycles are false (and `$not` of a cycle is true, not a loop).
        assert!(!gbs(user, r#"{"$savedGroup":{"id":"loop1"}}"#, groups));
        assert!(gbs(user, r#"{"$savedGroup":{"id":"notloop"}}"#, groups));
        assert!(gbs(r#"{"0":1}"#, r#"{"$savedGroup":{"id":"arr"}}"#, groups));
        for bad in [
            r#"{"$savedGroup":"list"}"#,
            r#"{"$savedGroup":["list"]}"#,
            r#"{"$savedGroup":null}"#,
            r#"{"$savedGroup":{}}"#,
            r#"{"$savedGroup":{"id":5}}"#,
            r#"{"$savedGroup":{"id":"missing"}}"#,
            r#"{"$savedGroup":{"id":"v1"}}"#,
            r#"{"$savedGroup":{"id":"future"}}"#,
            r#"{"$savedGroup":{"id":"constructor"}}"#,
        ] {
            assert!(!gbs(user, bad, groups), "{bad}");
        }
        assert!(!gb(user, r#"{"$savedGroup":{"id":"list"}}"#));
    }

    #[test]
    fn malformed_conditions_follow_javascript() {
        // A throw anywhere fails the whole condition, even under $not.
        assert!(!gb(r#"{}"#, r#"null"#));
        assert!(!gb(r#"{}"#, r#"{"$or":null}"#));
        assert!(!gb(r#"{}"#, r#"{"$not":{"$or":null}}"#));
        assert!(!gb(r#"{}"#, r#"{"$not":null}"#));
        assert!(!gb(r#"{}"#, r#"{"$and":[null]}"#));
        // A failing entry before a throwing one returns false first.
        assert!(gb(r#"{}"#, r#"{"$not":{"a":1,"$or":null}}"#));
        // ...and JavaScript visits integer keys first.
        assert!(!gb(r#"{"0":[1]}"#, r#"{"$not":{"a":1,"0":{"$elemMatch":null}}}"#));
        // Length-less lists: $or and $and pass, $nor fails.
        assert!(gb(r#"{}"#, r#"{"$or":5}"#));
        assert!(gb(r#"{}"#, r#"{"$and":true}"#));
        assert!(!gb(r#"{}"#, r#"{"$nor":{}}"#));
        assert!(gb(r#"{}"#, r#"{"$or":{"a":1}}"#));
        // Strings are lists of one-character conditions on the path "0".
        assert!(gb(r#"{"0":"x"}"#, r#"{"$or":"ax"}"#));
        assert!(!gb(r#"{"0":"x"}"#, r#"{"$and":"ax"}"#));
        assert!(gb(r#"{}"#, r#"{"$or":""}"#));
        assert!(!gb(r#"{"0":"😀"}"#, r#"{"$or":"😀"}"#));
        // Array-like objects.
        assert!(gb(r#"{"a":1}"#, r#"{"$or":{"length":2,"0":{"a":2},"1":{"a":1}}}"#));
        assert!(!gb(r#"{"a":1}"#, r#"{"$or":{"length":2,"0":{"a":2}}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$or":{"length":0}}"#));
        assert!(gb(r#"{"a":1}"#, r#"{"$and":{"length":"1","0":{"a":1}}}"#));
        // Non-object conditions: entries of arrays and strings, none for scalars.
        assert!(gb(r#"{}"#, r#"5"#));
        assert!(gb(r#"{}"#, r#"true"#));
        assert!(gb(r#"{"0":"a","1":{"b":2}}"#, r#"["a",{"b":2}]"#));
        assert!(gb(r#"{"0":"h","1":"i"}"#, r#""hi""#));
        assert!(!gb(r#"{"0":"h"}"#, r#""hi""#));
        assert!(!gb(r#"{"a":2}"#, r#"{"$not":5}"#));
        assert!(gb(r#"5"#, r#"{"a":null}"#));
        assert!(!gb(r#"null"#, r#"{"a":1}"#));
    }

    #[test]
    fn objects_with_an_own_to_string_cannot_become_primitives() {
        // `o + ""`, `o * 1` and `o > x` throw, which fails the whole condition...
        let o = r#"{"o":{"toString":5},"a":[{"toString":1}],"id":"u1"}"#;
        assert!(!gb(o, r#"{"o":"x"}"#));
        assert!(!gb(o, r#"{"$not":{"o":"x"}}"#));
        assert!(!gb(o, r#"{"$not":{"o":1}}"#));
        assert!(!gb(o, r#"{"$not":{"o":{"$gt":1}}}"#));
        assert!(!gb(o, r#"{"$not":{"a":"x"}}"#));
        assert!(!gb(o, r#"{"$not":{"id":{"$inGroup":{"toString":1}}}}"#));
        assert!(!gb(o, r#"{"$not":{"id":{"$lt":{"toString":1}}}}"#));
        assert!(!gb(o, r#"{"$not":{"a":{"$alli":["x"]}}}"#));
        // ...except in `$regex`, whose errors GrowthBook catches.
        assert!(!gb(o, r#"{"o":{"$regex":"x"}}"#));
        assert!(gb(o, r#"{"$not":{"o":{"$regex":"x"}}}"#));
        // Operators that do not coerce are unaffected.
        assert!(gb(o, r#"{"o":{"$exists":true,"$type":"object","$ne":1,"$nin":[1]}}"#));
        assert!(gb(o, r#"{"o":{"toString":5}}"#));
        assert!(gb(o, r#"{"o":true}"#));
        // An own `valueOf` is harmless: the inherited `toString` still answers.
        assert!(gb(r#"{"o":{"valueOf":1}}"#, r#"{"o":"[object Object]"}"#));
    }

    #[test]
    fn extension_hook_comes_first_for_unknown_dollar_keys() {
        let ext = |k: &str, v: &Value| match k {
            "$event" => Some(v.as_str() == Some("seen")),
            "$and" => Some(false), // never asked: GrowthBook's own keys win
            _ => None,
        };
        let host = NativeHost;
        let e = Evaluator::new(&host, None, Some(&ext));
        let attrs = j(r#"{"$other":1,"a":1}"#);
        assert!(e.eval_condition(&attrs, &j(r#"{"$event":"seen"}"#)));
        assert!(!e.eval_condition(&attrs, &j(r#"{"$event":"nope"}"#)));
        assert!(e.eval_condition(&attrs, &j(r#"{"$other":1}"#)));
        assert!(e.eval_condition(&attrs, &j(r#"{"$and":[{"a":1}]}"#)));
        assert!(e.eval_condition(&attrs, &j(r#"{"$or":[{"$event":"seen"}],"$not":{"$event":"nope"}}"#)));
        // Inside $elemMatch too, when the object is a condition (not all keys `$`).
        assert!(e.eval_condition(&j(r#"{"l":[{"x":1}]}"#), &j(r#"{"l":{"$elemMatch":{"x":1,"$event":"seen"}}}"#)));
        // An all-`$` object is an operator object: `$event` is then an unknown operator.
        assert!(!e.eval_condition(&j(r#"{"l":[{"x":1}]}"#), &j(r#"{"l":{"$elemMatch":{"$event":"seen"}}}"#)));
    }

    /// Saved groups whose conditions refer to each other in a chain of 2,000 (no
    /// validation bounds what `eval_condition` is handed): the evaluation stops at
    /// its depth guard and the condition is false, on a small stack. A short chain
    /// still passes.
    #[test]
    fn a_deep_chain_of_saved_groups_is_false_not_a_stack_overflow() {
        let chain = |n: usize| {
            let groups: Vec<String> = (0..n)
                .map(|i| {
                    let c = if i + 1 < n { format!(r#"{{"$savedGroup": {{"id": "g{}"}}}}"#, i + 1) } else { r#"{"a": 1}"#.to_string() };
                    format!(r#""g{i}": {{"type": "condition", "condition": {c}}}"#)
                })
                .collect();
            format!("{{{}}}", groups.join(","))
        };
        let results = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || [gbs(r#"{"a": 1}"#, r#"{"$savedGroup": {"id": "g0"}}"#, &chain(10)), gbs(r#"{"a": 1}"#, r#"{"$savedGroup": {"id": "g0"}}"#, &chain(2_000))])
            .unwrap()
            .join()
            .expect("the evaluation overflowed the stack");
        assert_eq!(results, [true, false]);
    }

    #[test]
    fn eval_condition_value_takes_a_single_value() {
        let host = NativeHost;
        let e = Evaluator::new(&host, None, None);
        assert!(e.eval_condition_value(&j("0"), None));
        assert!(e.eval_condition_value(&j(r#"{"$gt":1}"#), Some(&j("2"))));
        assert!(!e.eval_condition_value(&j(r#"{"$elemMatch":null}"#), Some(&j("[1]"))));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::host::NativeHost;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just(0.0), Just(1.0), Just(-1.5), Just(1e21), (-100i32..100).prop_map(f64::from)]
                .prop_map(Value::Number),
            prop_oneof![Just(""), Just("0"), Just("a"), Just("A"), Just("é"), Just("1.2.3")].prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((prop_oneof![Just("a"), Just("b"), Just("0"), Just("$eq")], inner), 0..3)
                    .prop_map(|entries| {
                        let mut map = Map::new();
                        for (k, v) in entries {
                            map.insert(k, v);
                        }
                        Value::Object(map)
                    }),
            ]
        })
    }

    proptest! {
        /// `$not` is the negation, `$nor` the negation of `$or`, for any operand
        /// that does not throw.
        #[test]
        fn negations_agree(attrs in json(), value in json()) {
            let attrs = Value::Object(Map(vec![("a".into(), attrs)]));
            let plain = Value::Object(Map(vec![("a".into(), value.clone())]));
            let not = Value::Object(Map(vec![("$not".into(), plain.clone())]));
            let nor = Value::Object(Map(vec![("$nor".into(), Value::Array(vec![plain.clone()]))]));
            let r = eval_condition(&attrs, &plain, None, &NativeHost);
            prop_assert_eq!(eval_condition(&attrs, &nor, None, &NativeHost), !r);
            // `$not` propagates throws; plain `a: value` never throws.
            prop_assert_eq!(eval_condition(&attrs, &not, None, &NativeHost), !r);
        }

        /// A JSON value equals itself under the literal (JSON.stringify) rule, and
        /// `$in` of a scalar finds it.
        #[test]
        fn literal_matches_itself(v in json()) {
            let attrs = Value::Object(Map(vec![("a".into(), v.clone())]));
            let is_op = matches!(&v, Value::Object(m) if is_operator_object(m));
            if !is_op {
                let cond = Value::Object(Map(vec![("a".into(), v.clone())]));
                // Booleans compare by truthiness, strings by concatenation: all reflexive.
                prop_assert!(eval_condition(&attrs, &cond, None, &NativeHost));
            }
        }
    }
}
