//! Rules compiled at publish time for the first-decision module (`tailor compile`).
//!
//! [`compile`] lowers a validated document to the bytecode that
//! [`tailor_first::vm`] evaluates (its module docs give the format): named audiences
//! become subroutines, paths become attribute ids, candidate order, bucket ranges,
//! dates and durations are resolved once. `$event` and `$since` become measurements
//! of the stored profile (name, retention, window and `where` filter resolved here)
//! tested by a value node; `$scenario` its steps, window and `notFollowedBy`. An
//! experience whose audience the first module cannot evaluate exactly (regular
//! expressions, version comparisons, saved groups, whole-object comparisons, `where`
//! filters on property paths, scenarios of more than 8 steps…) is compiled as
//! "deferred" with the reason: a slot that reaches it waits for the full engine.
//!
//! The differential test (`tests.rs`) runs the compiled form and [`crate::decide`] on
//! random documents, profiles and contexts and requires the same decision wherever
//! the first module decides.

use std::collections::HashMap;

use tailor_first::vm::{attr, op};

use crate::host::Host;
use crate::json::{Map, Value};
use crate::rules::condition::string_to_number;
use crate::rules::document::{without_compiled_envelope, AudienceRef, Rules};
use crate::rules::hash::{fnv1a32, get_bucket_ranges};
use crate::rules::time::parse_duration;

/// Rules compiled for the first-decision module.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The bytecode.
    pub code: Vec<u8>,
    /// The slots, in the order the module returns their decisions.
    pub slots: Vec<String>,
    /// Experiences left to the full engine: (experience id, why).
    pub deferred: Vec<(String, String)>,
}

impl Compiled {
    /// The compiled file: `{"tailor": "compiled-rules", "version": 1, "code": <base64>,
    /// "slots": [...], "deferred": [{"experience", "reason"}], "rules": <the document>}`.
    /// The document rides along: the full engine reads it, the first module reads
    /// `code`.
    pub fn to_value(&self, rules_doc: Value) -> Value {
        let mut m = Map::new();
        m.insert("tailor", "compiled-rules".into());
        m.insert("version", 1.0.into());
        m.insert("code", base64(&self.code).into());
        m.insert(
            "slots",
            Value::Array(self.slots.iter().map(|s| s.as_str().into()).collect()),
        );
        let deferred = self
            .deferred
            .iter()
            .map(|(e, r)| {
                let mut d = Map::new();
                d.insert("experience", e.as_str().into());
                d.insert("reason", r.as_str().into());
                Value::Object(d)
            })
            .collect();
        m.insert("deferred", Value::Array(deferred));
        m.insert("rules", rules_doc);
        Value::Object(m)
    }
}

/// Validates a rules document exactly as `validateRules` does, then compiles it:
/// the compiled file's JSON text (see [`Compiled::to_value`]) and the compilation, or
/// every problem found. An already compiled file is compiled again from its `rules`.
pub fn compile_document(
    text: &str,
    host: &dyn Host,
) -> Result<(String, Compiled), Vec<crate::rules::document::Problem>> {
    // Both read a compiled file's `rules` (parse_rules_with unwraps the envelope itself).
    let rules = crate::rules::document::parse_rules_with(text, host)?;
    let compiled = compile(&rules, host);
    let doc = crate::json::parse_with_host(text, host).map_or(Value::Null, without_compiled_envelope);
    Ok((compiled.to_value(doc).to_json(host), compiled))
}

/// The placeholder in `tailor.min.js` that `tailor compile --bundle` replaces with the
/// compiled file, so the SDK and the rules arrive in one request.
pub const BUNDLE_PLACEHOLDER: &str = "\"__TAILOR_BUNDLED_RULES__\"";

/// The SDK script with the compiled file in place of [`BUNDLE_PLACEHOLDER`]; `None`
/// when the script has no placeholder (not a Tailor script-tag build, or one already
/// bundled).
pub fn bundle(sdk_script: &str, compiled_json: &str) -> Option<String> {
    let at = sdk_script.find(BUNDLE_PLACEHOLDER)?;
    let mut out = String::with_capacity(sdk_script.len() + compiled_json.len());
    out.push_str(&sdk_script[..at]);
    out.push_str(compiled_json);
    out.push_str(&sdk_script[at + BUNDLE_PLACEHOLDER.len()..]);
    Some(out)
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Nesting the first module accepts (its evaluator stops at 64; the full engine's at
/// 128 `$audience` hops and condition levels together).
const MAX_DEPTH: u32 = 24;

/// Built-in properties of JavaScript objects: a path through one resolves to
/// something other than the document's data (GROWTHBOOK-SEMANTICS.md §3).
const BUILT_INS: &[&str] = &[
    "constructor",
    "__proto__",
    "toString",
    "toLocaleString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

/// The bytecode being written.
struct Writer<'h> {
    host: &'h dyn Host,
    audience_index: HashMap<&'h str, usize>,
    rules: &'h Rules,
    /// Writing a `where` filter: paths are the event's kept properties.
    props: bool,
    /// A condition reads `channel`: the program carries the lists it is derived from.
    channel: bool,
}

fn un(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn f64le(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Why a condition cannot be evaluated by the first module.
type Why = String;

/// A `str`: its length, then its UTF-8 bytes.
fn str_op(out: &mut Vec<u8>, s: &str) {
    un(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// [`op::ONE_OF`]'s kinds: null, false, true.
const NULL: u8 = 1;
const FALSE: u8 = 1 << 5;
const TRUE: u8 = 1 << 6;

/// [`op::ONE_OF`]: passes for a value of one of `kinds`, or one of `strings` or
/// `numbers` (strictly typed).
fn one_of(out: &mut Vec<u8>, kinds: u8, strings: &[&str], numbers: &[f64]) {
    out.push(op::ONE_OF);
    out.push(kinds);
    let mut s = Vec::new();
    for x in strings {
        str_op(&mut s, x);
    }
    un(out, s.len() as u32);
    out.extend_from_slice(&s);
    un(out, numbers.len() as u32 * 8);
    for n in numbers {
        f64le(out, *n);
    }
}

/// The number whose `String` is `s`, for the integers below 10^15 the first module
/// compares as text (`-?(0|[1-9][0-9]*)`, at most 15 digits); NaN for any other text.
fn integer_of_text(s: &str) -> f64 {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|c| c.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    if canonical {
        s.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

impl Writer<'_> {
    fn str_op(&mut self, out: &mut Vec<u8>, s: &str) {
        str_op(out, s);
    }

    /// A condition (an object of keys that must all pass).
    fn condition(&mut self, out: &mut Vec<u8>, cond: &Value, depth: u32) -> Result<u32, Why> {
        if depth > MAX_DEPTH {
            return Err("conditions nested too deeply for the first decision".into());
        }
        let Some(m) = cond.as_object() else {
            return Err("a condition that is not an object".into());
        };
        out.push(op::AND);
        un(out, m.len() as u32);
        let mut deepest = depth;
        for (k, v) in m.iter() {
            let d = match k.as_str() {
                "$and" | "$or" | "$nor" => {
                    let Some(list) = v.as_array() else {
                        return Err(format!("{k} without an array"));
                    };
                    if k == "$nor" {
                        out.push(op::NOT);
                    }
                    out.push(if k == "$and" { op::AND } else { op::OR });
                    un(out, list.len() as u32);
                    let mut d = depth + 1;
                    for c in list {
                        d = d.max(self.condition(out, c, depth + 2)?);
                    }
                    d
                }
                "$not" => {
                    out.push(op::NOT);
                    self.condition(out, v, depth + 1)?
                }
                "$audience" | "$event" | "$since" | "$scenario" if self.props => {
                    return Err(format!("{k} inside a where filter"))
                }
                "$audience" => {
                    let Some(name) = v.as_str() else {
                        return Err("$audience without a name".into());
                    };
                    match self.audience_index.get(name) {
                        Some(&i) => {
                            out.push(op::AUDIENCE);
                            un(out, i as u32);
                        }
                        None => out.push(op::FALSE),
                    }
                    depth + 1
                }
                "$event" | "$since" => self.behaviour(out, k, v, depth)?,
                "$scenario" => self.scenario(out, v, depth)?,
                "$savedGroup" => {
                    return Err(
                        "$savedGroup (saved groups are evaluated by the full engine)".into(),
                    )
                }
                path => {
                    out.push(op::TEST);
                    self.path(out, path)?;
                    self.value(out, v, depth + 1)?
                }
            };
            deepest = deepest.max(d);
        }
        Ok(deepest)
    }

    /// The page-view flags of [`op::BEHAVIOUR`] and [`op::SCENARIO`]: whether the rules
    /// record page views as events, and keep their path.
    fn page_view_flags(&self) -> u8 {
        let page_view = self.rules.event(crate::profile::PAGE_VIEW_EVENT);
        page_view.is_some() as u8 | (page_view.is_some_and(|e| e.keep.iter().any(|p| p == "path")) as u8) << 1
    }

    /// Loading forgets the events the rules no longer declare, and those past their
    /// retention: how long events called `name` are kept (ms).
    fn retention(&self, name: &str) -> f64 {
        self.rules.event(name).map_or(f64::NEG_INFINITY, |e| e.retention.unwrap_or(f64::INFINITY))
    }

    /// A `where` filter: condition code over the event's kept properties.
    fn filter(&mut self, spec: &Map, k: &str) -> Result<Vec<u8>, Why> {
        let mut filter = Vec::new();
        if let Some(w) = spec.get("where") {
            self.props = true;
            let r = self.condition(&mut filter, w, 0);
            self.props = false;
            r.map_err(|e| format!("{k} with the where filter {}: {e}", w.to_json(self.host)))?;
        }
        Ok(filter)
    }

    /// `$scenario` (see [`op::SCENARIO`]).
    fn scenario(&mut self, out: &mut Vec<u8>, v: &Value, depth: u32) -> Result<u32, Why> {
        let steps = v.get("steps").and_then(Value::as_array).filter(|s| !s.is_empty());
        let (Some(m), Some(steps)) = (v.as_object(), steps) else {
            out.push(op::FALSE);
            return Ok(depth);
        };
        if steps.len() > 8 {
            return Err("$scenario with more than 8 steps".into());
        }
        let within = m.get("within").and_then(Value::as_str).and_then(parse_duration);
        let mut code = vec![op::SCENARIO, self.page_view_flags()];
        f64le(&mut code, within.unwrap_or(f64::INFINITY));
        un(&mut code, steps.len() as u32);
        let none = Value::Null;
        for step in steps.iter().chain([m.get("notFollowedBy").unwrap_or(&none)]) {
            // A step without a name matches nothing: a scenario with one never passes,
            // a `notFollowedBy` without one excludes nothing, as in the full engine.
            let name = step.get("name").and_then(Value::as_str).unwrap_or("");
            self.str_op(&mut code, name);
            f64le(&mut code, self.retention(name));
            let filter = match step.as_object() {
                Some(s) => self.filter(s, "$scenario")?,
                None => Vec::new(),
            };
            un(&mut code, filter.len() as u32);
            code.extend_from_slice(&filter);
        }
        out.extend_from_slice(&code);
        Ok(depth + 1)
    }

    /// `$event` or `$since` (see [`op::BEHAVIOUR`]): the measurement, then its test.
    fn behaviour(&mut self, out: &mut Vec<u8>, k: &str, v: &Value, depth: u32) -> Result<u32, Why> {
        let Some(m) = v.as_object() else {
            out.push(op::FALSE);
            return Ok(depth);
        };
        let since = k == "$since";
        // A spec without a name measures an event never seen.
        let name = m.get("name").and_then(Value::as_str).unwrap_or("");
        let pv = self.page_view_flags();
        let flags = pv | ((pv & 1 != 0 && name == crate::profile::PAGE_VIEW_EVENT) as u8) << 2 | (since as u8) << 3;
        let keep = self.retention(name);
        let duration = |key: &str| m.get(key).and_then(Value::as_str).and_then(parse_duration);
        let window = if since { None } else { duration("within") };
        let filter = self.filter(m, k)?;
        out.push(op::BEHAVIOUR);
        out.push(flags);
        self.str_op(out, name);
        f64le(out, keep);
        f64le(out, window.unwrap_or(f64::NAN));
        un(out, filter.len() as u32);
        out.extend_from_slice(&filter);
        if since {
            // Every bound that is a duration, as the full engine reads them.
            let bounds: Vec<(u8, f64)> = m
                .iter()
                .filter_map(|(key, _)| {
                    let kind = match key.as_str() {
                        "$gt" => 0,
                        "$gte" => 1,
                        "$lt" => 2,
                        "within" | "$lte" => 3,
                        _ => return None,
                    };
                    Some((kind, duration(key)?))
                })
                .collect();
            out.push(op::V_AND);
            un(out, bounds.len() as u32);
            for (kind, d) in bounds {
                out.extend_from_slice(&[op::CMP, kind, 0]);
                f64le(out, d);
            }
            return Ok(depth + 1);
        }
        match m.get("count") {
            // At least one.
            None => {
                out.extend_from_slice(&[op::CMP, 1, 0]);
                f64le(out, 1.0);
                Ok(depth + 1)
            }
            Some(c) => self.value(out, c, depth + 1).map_err(|e| format!("$event with the count {}: {e}", c.to_json(self.host))),
        }
    }

    /// An attribute path, as an attribute id.
    fn path(&mut self, out: &mut Vec<u8>, path: &str) -> Result<(), Why> {
        let parts: Vec<&str> = path.split('.').collect();
        if let Some(b) = parts.iter().find(|p| BUILT_INS.contains(p)) {
            return Err(format!(
                "the path \"{path}\" goes through the built-in property \"{b}\""
            ));
        }
        if self.props {
            if parts.len() > 1 || path.starts_with('$') {
                return Err(format!("the property path \"{path}\" (nested properties are read by the full engine)"));
            }
            out.push(attr::PROP as u8);
            self.str_op(out, path);
            return Ok(());
        }
        let fixed = |name: &str| attr::NAMES.iter().position(|n| *n == name).map(|i| i as u8);
        match parts.as_slice() {
            ["page" | "referrer" | "device" | "time" | "query" | "utm"] => {
                return Err(format!("the path \"{path}\" compares a whole object"))
            }
            ["query", name] => {
                out.push(attr::QUERY as u8);
                self.str_op(out, name);
            }
            // `utm.<name>` is the first query parameter `utm_<name>`.
            ["utm", name] if ["source", "medium", "campaign", "term", "content"].contains(name) => {
                out.push(attr::QUERY as u8);
                self.str_op(out, &format!("utm_{name}"));
            }
            [a, b] if fixed(&format!("{a}.{b}")).is_some() => {
                out.push(fixed(&format!("{a}.{b}")).unwrap_or(attr::MISSING as u8))
            }
            [a] if fixed(a).is_some() => {
                let id = fixed(a).unwrap_or(attr::MISSING as u8);
                self.channel |= *a == "channel";
                out.push(id)
            }
            // Not an attribute, or a path past a string or number: null (getPath).
            _ => out.push(attr::MISSING as u8),
        }
        Ok(())
    }

    /// A value test: a literal (GrowthBook's coercing equality) or an operator object.
    fn value(&mut self, out: &mut Vec<u8>, v: &Value, depth: u32) -> Result<u32, Why> {
        if depth > MAX_DEPTH {
            return Err("conditions nested too deeply for the first decision".into());
        }
        match v {
            Value::String(s) => {
                out.push(op::EQ_STR);
                self.str_op(out, s);
                out.push((s == "null") as u8 | ((s == "true") as u8) << 1 | ((s == "false") as u8) << 2);
                f64le(out, integer_of_text(s));
            }
            Value::Number(n) => {
                out.push(op::EQ_NUM);
                f64le(out, *n);
            }
            // Truthiness, null never passing: the non-empty string, non-zero number and
            // true kinds, or the empty string, zero or NaN and false kinds.
            Value::Bool(b) => one_of(out, if *b { 0b101_0100 } else { 0b010_1010 }, &[], &[]),
            Value::Null => one_of(out, NULL, &[], &[]),
            Value::Object(m) if !m.is_empty() && m.iter().all(|(k, _)| k.starts_with('$')) => {
                out.push(op::V_AND);
                un(out, m.len() as u32);
                let mut deepest = depth;
                for (k, e) in m.iter() {
                    deepest = deepest.max(self.operator(out, k, e, depth + 1)?);
                }
                return Ok(deepest);
            }
            // JSON equality with an array or object: the context's values are strings,
            // numbers or null, never equal to one.
            Value::Array(_) | Value::Object(_) => out.push(op::V_FALSE),
        }
        Ok(depth)
    }

    fn operator(&mut self, out: &mut Vec<u8>, k: &str, e: &Value, depth: u32) -> Result<u32, Why> {
        match k {
            "$eq" | "$ne" => {
                if k == "$ne" {
                    out.push(op::V_NOT);
                }
                match e {
                    Value::String(s) => one_of(out, 0, &[s], &[]),
                    Value::Number(n) => one_of(out, 0, &[], &[*n]),
                    Value::Null => one_of(out, NULL, &[], &[]),
                    Value::Bool(b) => one_of(out, if *b { TRUE } else { FALSE }, &[], &[]),
                    _ => out.push(op::V_FALSE),
                }
            }
            "$gt" | "$gte" | "$lt" | "$lte" => {
                out.push(op::CMP);
                out.push(
                    ["$gt", "$gte", "$lt", "$lte"]
                        .iter()
                        .position(|o| *o == k)
                        .unwrap_or(0) as u8,
                );
                match e {
                    Value::String(s) => {
                        out.push(1);
                        self.str_op(out, s);
                        f64le(out, string_to_number(s, self.host));
                    }
                    Value::Number(n) => {
                        out.push(0);
                        f64le(out, *n);
                    }
                    Value::Bool(b) => {
                        out.push(0);
                        f64le(out, *b as u8 as f64);
                    }
                    Value::Null => {
                        out.push(0);
                        f64le(out, 0.0);
                    }
                    _ => return Err(format!("{k} with an array or object")),
                }
            }
            "$exists" => {
                let truthy = match e {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::Number(n) => *n != 0.0 && !n.is_nan(),
                    Value::String(s) => !s.is_empty(),
                    _ => true,
                };
                if !truthy {
                    out.push(op::V_NOT);
                }
                one_of(out, !NULL & 0x7f, &[], &[]);
            }
            "$in" | "$nin" | "$ini" | "$nini" => {
                let Some(list) = e.as_array() else {
                    out.push(op::V_FALSE);
                    return Ok(depth);
                };
                let ci = k.ends_with('i');
                if ci
                    && list
                        .iter()
                        .any(|x| x.as_str().is_some_and(|s| !s.is_ascii()))
                {
                    return Err(format!(
                        "{k} with non-ASCII text (Unicode case folding is left to the full engine)"
                    ));
                }
                if k.starts_with("$n") {
                    out.push(op::V_NOT);
                }
                // Strictly typed membership: null and booleans as kinds; arrays and
                // objects are never equal to a value here.
                let (mut kinds, mut strings, mut numbers) = ((ci as u8) << 7, Vec::new(), Vec::new());
                for x in list {
                    match x {
                        Value::Null => kinds |= NULL,
                        Value::Bool(b) => kinds |= if *b { TRUE } else { FALSE },
                        Value::String(s) => strings.push(s.as_str()),
                        Value::Number(n) => numbers.push(*n),
                        _ => {}
                    }
                }
                one_of(out, kinds, &strings, &numbers);
            }
            "$not" => {
                out.push(op::V_NOT);
                return self.value(out, e, depth + 1);
            }
            // The context's values are never arrays.
            "$size" | "$elemMatch" | "$all" | "$alli" => out.push(op::V_FALSE),
            "$type" => match e.as_str() {
                Some("null") => one_of(out, NULL, &[], &[]),
                Some("string") => one_of(out, 0b110, &[], &[]),
                Some("number") => one_of(out, 0b1_1000, &[], &[]),
                Some("boolean") => one_of(out, TRUE | FALSE, &[], &[]),
                _ => out.push(op::V_FALSE),
            },
            "$regex" | "$regexi" => {
                return Err(format!("{k} (regular expressions run in the full engine)"))
            }
            "$veq" | "$vne" | "$vgt" | "$vgte" | "$vlt" | "$vlte" => {
                return Err(format!("{k} (version comparisons run in the full engine)"))
            }
            "$inGroup" | "$notInGroup" => {
                return Err(format!(
                    "{k} (saved groups are evaluated by the full engine)"
                ))
            }
            _ => return Err(format!("the operator {k}")),
        }
        Ok(depth)
    }
}

/// Compiles validated rules. `host` converts string literals to numbers as
/// JavaScript's `Number()` does (comparisons like `{"$gt": "10"}`).
pub fn compile(rules: &Rules, host: &dyn Host) -> Compiled {
    let mut w = Writer {
        host,
        audience_index: HashMap::new(),
        rules,
        props: false,
        channel: false,
    };
    for (i, a) in rules.audiences.iter().enumerate() {
        w.audience_index.entry(a.name.as_str()).or_insert(i);
    }
    // Named audiences: code, or why not; a reference cycle makes every audience on it
    // (and everything that refers to one) deferred.
    let mut audiences: Vec<Result<(Vec<u8>, u32), Why>> = Vec::new();
    for a in &rules.audiences {
        let mut code = Vec::new();
        let c = a.condition();
        audiences.push(w.condition(&mut code, &c, 0).map(|d| (code, d)));
    }
    let refs: Vec<Vec<usize>> = rules
        .audiences
        .iter()
        .map(|a| referenced(&a.condition(), &w.audience_index))
        .collect();
    let n = audiences.len();
    // Whether audience i can be used, and its depth with the audiences it refers to.
    let mut usable: Vec<Option<Result<u32, Why>>> = vec![None; n];
    fn resolve(
        i: usize,
        audiences: &[Result<(Vec<u8>, u32), Why>],
        refs: &[Vec<usize>],
        usable: &mut Vec<Option<Result<u32, Why>>>,
        on_path: &mut Vec<bool>,
        names: &Rules,
    ) -> Result<u32, Why> {
        if let Some(r) = &usable[i] {
            return r.clone();
        }
        if on_path[i] {
            return Err(format!(
                "the audience \"{}\" refers to itself through $audience",
                names.audiences[i].name
            ));
        }
        on_path[i] = true;
        let r = match &audiences[i] {
            Err(e) => Err(format!("audience \"{}\": {e}", names.audiences[i].name)),
            Ok((_, d)) => {
                let mut depth = *d;
                let mut r = Ok(0);
                for &j in &refs[i] {
                    match resolve(j, audiences, refs, usable, on_path, names) {
                        Ok(dj) => depth = depth.max(d + dj + 2),
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                r.and_then(|_| {
                    if depth > MAX_DEPTH {
                        Err("audiences nested too deeply for the first decision".to_string())
                    } else {
                        Ok(depth)
                    }
                })
            }
        };
        on_path[i] = false;
        usable[i] = Some(r.clone());
        r
    }
    let mut on_path = vec![false; n];
    for i in 0..n {
        let _ = resolve(i, &audiences, &refs, &mut usable, &mut on_path, rules);
    }

    let mut deferred = Vec::new();
    let mut exps = Vec::new();
    for e in &rules.experiences {
        let mut why: Option<Why> = None;
        let audience = match &e.audience {
            // Mutual exclusion belongs to the full engine (it never decides a slot at
            // first paint that the namespace could take back).
            _ if e.namespace.is_some() => {
                why = Some("namespace (mutual exclusion is evaluated by the full engine)".into());
                Some(vec![op::FALSE])
            }
            None => None,
            Some(AudienceRef::Named(name)) => match w.audience_index.get(name.as_str()) {
                Some(&i) => {
                    if let Some(Err(x)) = &usable[i] {
                        why = Some(x.clone());
                    }
                    let mut code = vec![op::AUDIENCE];
                    un(&mut code, i as u32);
                    Some(code)
                }
                None => Some(vec![op::FALSE]),
            },
            Some(AudienceRef::Inline(a)) => {
                let mut code = Vec::new();
                let c = a.condition();
                match w.condition(&mut code, &c, 0) {
                    Ok(d) => {
                        for j in referenced(&c, &w.audience_index) {
                            match &usable[j] {
                                Some(Ok(dj)) if d + dj + 2 <= MAX_DEPTH => {}
                                Some(Err(x)) => why = Some(x.clone()),
                                _ => {
                                    why = Some(
                                        "audiences nested too deeply for the first decision".into(),
                                    )
                                }
                            }
                        }
                    }
                    Err(x) => why = Some(x),
                }
                Some(code)
            }
        };
        if let Some(x) = &why {
            deferred.push((e.id.clone(), x.clone()));
        }
        exps.push((why.is_none(), audience));
    }

    // The program.
    let mut code = b"TLC1".to_vec();
    un(&mut code, audiences.len() as u32);
    for a in &audiences {
        let bytes: &[u8] = match a {
            Ok((c, _)) => c,
            Err(_) => &[op::FALSE], // never reached: whatever refers to it is deferred
        };
        un(&mut code, bytes.len() as u32);
        code.extend_from_slice(bytes);
    }
    // No cap: more impressions than a profile can hold.
    let (n, per) = rules.caps.as_ref().map_or((u32::MAX, 0.0), |c| (c.impressions, c.per));
    un(&mut code, n);
    f64le(&mut code, per);
    let lists = if w.channel { tailor_first::context::channel_lists() } else { Vec::new() };
    un(&mut code, lists.len() as u32);
    code.extend_from_slice(&lists);
    let nan = f64::NAN;
    let slots = crate::decide::slots(&rules.experiences);
    un(&mut code, slots.len() as u32);
    let experiences = &rules.experiences;
    for (_, list) in &slots {
        let mut list = list.clone();
        crate::rules::sort_positions(&mut list, &|a, b| {
            experiences[b].priority.total_cmp(&experiences[a].priority)
        });
        // Candidates past one this module cannot decide are never tried here.
        if let Some(k) = list.iter().position(|&i| !exps[i].0) {
            list.truncate(k + 1);
        }
        let mut slot = Vec::new();
        un(&mut slot, list.len() as u32);
        for i in list {
            let (e, (ok, audience)) = (&experiences[i], &exps[i]);
            un(&mut slot, i as u32);
            let direct = e.variants.len() == 1 && e.holdout <= 0.0 && e.coverage >= 1.0;
            slot.push(*ok as u8 | (direct as u8) << 1);
            if !ok {
                break;
            }
            str_op(&mut slot, &e.id);
            let audience = audience.as_deref().unwrap_or(&[]);
            un(&mut slot, audience.len() as u32);
            slot.extend_from_slice(audience);
            f64le(&mut slot, e.schedule.start.unwrap_or(nan));
            f64le(&mut slot, e.schedule.end.unwrap_or(nan));
            f64le(&mut slot, e.lifetime.unwrap_or(nan));
            let (n, per) = e.cap.as_ref().map_or((u32::MAX, 0.0), |c| (c.impressions, c.per));
            un(&mut slot, n);
            f64le(&mut slot, per);
            // The seed resolved: hash_from(prefix, unit, suffix, version).
            let seed = e.seed.as_deref().unwrap_or(&e.id);
            un(&mut slot, e.hash_version);
            if e.hash_version == 1 {
                un(&mut slot, tailor_first::hash::FNV_OFFSET);
                str_op(&mut slot, seed);
            } else {
                un(&mut slot, fnv1a32(seed));
                str_op(&mut slot, "");
            }
            f64le(&mut slot, e.holdout);
            un(&mut slot, fnv1a32(&format!("{seed}:holdout")));
            let weights: Option<Vec<f64>> = e.variants.iter().map(|v| v.weight).collect();
            let ranges = get_bucket_ranges(e.variants.len() as i32, Some(e.coverage), weights.as_deref());
            let mut variants = Vec::new();
            for (v, (a, b)) in e.variants.iter().zip(ranges) {
                str_op(&mut variants, &v.id);
                f64le(&mut variants, a);
                f64le(&mut variants, b);
            }
            un(&mut slot, variants.len() as u32);
            slot.extend_from_slice(&variants);
        }
        un(&mut code, slot.len() as u32);
        code.extend_from_slice(&slot);
    }
    Compiled {
        code,
        slots: slots.iter().map(|(s, _)| s.to_string()).collect(),
        deferred,
    }
}

/// The named audiences a condition refers to with `$audience`, at any depth.
fn referenced(cond: &Value, index: &HashMap<&str, usize>) -> Vec<usize> {
    let mut out = Vec::new();
    fn walk(v: &Value, index: &HashMap<&str, usize>, out: &mut Vec<usize>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter() {
                    if k == "$audience" {
                        if let Some(&i) = x.as_str().and_then(|n| index.get(n)) {
                            out.push(i);
                        }
                    } else {
                        walk(x, index, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, index, out)),
            _ => {}
        }
    }
    walk(cond, index, &mut out);
    out
}

#[cfg(all(test, not(all(target_arch = "wasm32", target_os = "unknown"))))]
mod tests;
