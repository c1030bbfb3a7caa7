//! Tailor's behavioural condition operators, measured against the profile.
//!
//! | operator | value | passes when |
//! |---|---|---|
//! | `$event` | `{name, where?, within?, count?}` | the number of `name` events (whose kept properties match the GrowthBook condition `where`) in the last `within` satisfies `count` (a GrowthBook condition value; default `{"$gte": 1}`) |
//! | `$since` | `{name, where?, within?, $gt?, $gte?, $lt?, $lte?}` | the time since the last such event satisfies every bound (durations): `within` means "at most", `$gte: "30d"` "at least 30 days ago" |
//! | `$scenario` | `{steps: [{name, where?}…], within?, notFollowedBy?: {name, where?}}` | the steps happened in order, the last within `within` of the first, and no `notFollowedBy` event came after the last step |
//!
//! Semantics worth knowing:
//! - Windows are inclusive: `within: "14d"` counts events at `t` with
//!   `now − 14d <= t <= now`. Events stamped after `now` are ignored.
//! - `$event` counts raw events and rollups together. A rollup (a day, a week or four
//!   weeks of older events) counts whole when any part of it is in the window, and a
//!   `where` filter can only see the property combinations it kept, so old counts are
//!   approximate at the window's far edge and may undercount filtered events.
//! - `$since` for an event never seen: the elapsed time is infinite, so `$gt`/`$gte`
//!   pass and `within`/`$lt`/`$lte` fail. To require that it did happen, add
//!   `{"$event": {"name": …}}`. An event known only from a rollup is dated at the
//!   end of its rollup.
//! - `$scenario` uses raw events only (rollups have no order). Order is recording
//!   order: one event fills one step; equal timestamps keep recording order; an event
//!   before the step it should follow does not match. `within` is measured from the
//!   first step to the last, inclusive (`t_last − t_first <= within`).
//!   `notFollowedBy` fails the scenario if a matching event was recorded after the
//!   last step of the latest complete sequence (at any time up to `now`).
//! - Without a profile (no consent) every behavioural operator is false.

use std::cell::RefCell;

use crate::host::Host;
use crate::json::{Map, Value};
use crate::profile::{Event, Profile};
use crate::rules::condition::Evaluator;
use crate::rules::time::parse_duration;

/// What a scenario found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScenarioMatch {
    /// First and last step times of the latest complete sequence, if any.
    pub sequence: Option<(f64, f64)>,
    /// The first `notFollowedBy` event after that sequence, if any.
    pub excluded_at: Option<f64>,
}

impl ScenarioMatch {
    /// Whether the scenario passes.
    pub fn passed(&self) -> bool {
        self.sequence.is_some() && self.excluded_at.is_none()
    }
}

/// The profile, indexed for one round of decisions.
pub struct Behaviour<'a> {
    profile: Option<&'a Profile>,
    now: f64,
    host: &'a dyn Host,
    saved_groups: Option<&'a Map>,
    /// Raw events per name id, oldest first.
    by_name: Vec<Vec<&'a Event>>,
    /// Measurements already made this round, keyed by the spec that asked (many
    /// experiences ask the same question with different thresholds).
    counts: RefCell<Vec<(u64, Map, f64)>>,
    lasts: RefCell<Vec<(u64, Map, Option<f64>)>>,
    scenarios: RefCell<Vec<(u64, Map, ScenarioMatch)>>,
}

/// A `where` filter, prepared once per measurement.
///
/// The common filters are decided without the general evaluator, with exactly
/// GrowthBook's result: every key a plain property name (no `$`, no `.` path), tested
/// against a literal (a string, number or boolean) or `{"$in": [...]}` /
/// `{"$nin": [...]}`. For an event whose property is a string, number or boolean,
/// a literal of the same type is plain equality under GrowthBook's coercions and
/// `$in` is SameValueZero membership, strictly typed. Anything else (a missing
/// property, an array, another type) goes to the general evaluator.
struct Filter<'a> {
    test: Test<'a>,
    /// Verdicts by property object (its address; 0, never an address, marks an empty
    /// entry): events share equal property objects (see
    /// [`crate::profile::Event::props`]), so most events are a lookup here. Addresses
    /// are stable while the profile is borrowed for the round.
    seen: [(usize, bool); 8],
    next: usize,
}

enum Test<'a> {
    /// No filter: every event passes.
    All,
    /// Plain property tests, with the filter itself for the cases they cannot decide.
    Fast(Vec<(&'a str, FastTest<'a>)>, &'a Value),
    /// Anything else.
    General(&'a Value),
}

enum FastTest<'a> {
    /// A string, number or boolean literal.
    Eq(&'a Value),
    /// `$in` (false) or `$nin` (true) with this list.
    In(&'a [Value], bool),
}

impl<'a> Filter<'a> {
    fn new(filter: Option<&'a Value>) -> Filter<'a> {
        Filter { test: Filter::test(filter), seen: [(0, false); 8], next: 0 }
    }

    fn is_all(&self) -> bool {
        matches!(self.test, Test::All)
    }

    fn test(filter: Option<&'a Value>) -> Test<'a> {
        let Some(w) = filter else { return Test::All };
        let Some(m) = w.as_object() else { return Test::General(w) };
        let mut tests = Vec::with_capacity(m.len());
        for (k, want) in m.iter() {
            if k.starts_with('$') || k.contains('.') {
                return Test::General(w);
            }
            let test = match want {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => FastTest::Eq(want),
                Value::Object(ops) if ops.len() == 1 => match (ops.0[0].0.as_str(), &ops.0[0].1) {
                    ("$in", Value::Array(list)) => FastTest::In(list, false),
                    ("$nin", Value::Array(list)) => FastTest::In(list, true),
                    _ => return Test::General(w),
                },
                _ => return Test::General(w),
            };
            tests.push((k.as_str(), test));
        }
        Test::Fast(tests, w)
    }

    /// The fast tests' verdict, or `None` when one of them cannot decide.
    fn fast(tests: &[(&str, FastTest)], props: &Map) -> Option<bool> {
        let mut ok = true;
        for (k, test) in tests {
            let have = props.get(k)?;
            let scalar_eq = |a: &Value| match (a, have) {
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
                (Value::Bool(x), Value::Bool(y)) => x == y,
                _ => false,
            };
            ok &= match (test, have) {
                (_, Value::Null | Value::Array(_) | Value::Object(_)) => return None,
                (FastTest::Eq(want), _) if std::mem::discriminant(*want) == std::mem::discriminant(have) => scalar_eq(want),
                (FastTest::Eq(_), _) => return None,
                (FastTest::In(list, negated), _) => list.iter().any(scalar_eq) != *negated,
            };
        }
        Some(ok)
    }
}

/// A structural hash of `spec`'s `keys`, so memo lookups compare a number first.
fn spec_hash(spec: &Map, keys: &[&str]) -> u64 {
    fn mix(h: &mut u64, x: u64) {
        *h = (*h ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn walk(v: &Value, h: &mut u64) {
        match v {
            Value::Null => mix(h, 1),
            Value::Bool(b) => mix(h, 2 + *b as u64),
            Value::Number(n) => mix(h, n.to_bits()),
            Value::String(s) => s.bytes().for_each(|b| mix(h, b as u64)),
            Value::Array(a) => {
                mix(h, 5);
                a.iter().for_each(|x| walk(x, h));
            }
            Value::Object(m) => {
                mix(h, 6);
                for (k, x) in m.iter() {
                    k.bytes().for_each(|b| mix(h, b as u64));
                    walk(x, h);
                }
            }
        }
    }
    let mut h = 0xcbf2_9ce4_8422_2325;
    for k in keys {
        match spec.get(k) {
            Some(v) => walk(v, &mut h),
            None => h = h.rotate_left(7) ^ 0x9e37,
        }
    }
    h
}

/// Whether two specs agree on `keys`.
fn same(a: &Map, b: &Map, keys: &[&str]) -> bool {
    keys.iter().all(|k| a.get(k) == b.get(k))
}

/// Looks `spec` up in a memo, or measures it and remembers the result.
fn memo<T: Copy>(cache: &RefCell<Vec<(u64, Map, T)>>, spec: &Map, keys: &[&str], measure: impl FnOnce() -> T) -> T {
    let h = spec_hash(spec, keys);
    if let Some((_, _, v)) = cache.borrow().iter().find(|(kh, k, _)| *kh == h && same(k, spec, keys)) {
        return *v;
    }
    let v = measure();
    cache.borrow_mut().push((h, spec.clone(), v));
    v
}

fn duration(spec: &Map, key: &str) -> Option<f64> {
    spec.get(key).and_then(Value::as_str).and_then(parse_duration)
}

impl<'a> Behaviour<'a> {
    /// Indexes `profile` (if any) by event name, for decisions at `now`.
    pub fn new(profile: Option<&'a Profile>, now: f64, host: &'a dyn Host, saved_groups: Option<&'a Map>) -> Behaviour<'a> {
        let mut by_name: Vec<Vec<&Event>> = Vec::new();
        if let Some(p) = profile {
            by_name.resize_with(p.names().len(), Vec::new);
            for e in p.events() {
                by_name[e.name as usize].push(e);
            }
        }
        Behaviour { profile, now, host, saved_groups, by_name, counts: RefCell::default(), lasts: RefCell::default(), scenarios: RefCell::default() }
    }

    /// Whether a profile is present.
    pub fn has_profile(&self) -> bool {
        self.profile.is_some()
    }

    fn filter_passes(&self, filter: &mut Filter, props: &Value) -> bool {
        let w = match &filter.test {
            Test::All => return true,
            Test::Fast(_, w) | Test::General(w) => *w,
        };
        let key = props as *const Value as usize;
        if let Some(&(_, verdict)) = filter.seen.iter().find(|(k, _)| *k == key) {
            return verdict;
        }
        let fast = match &filter.test {
            Test::Fast(tests, _) => props.as_object().and_then(|pm| Filter::fast(tests, pm)),
            _ => None,
        };
        let verdict = fast.unwrap_or_else(|| Evaluator::new(self.host, self.saved_groups, None).eval_condition(props, w));
        filter.seen[filter.next] = (key, verdict);
        filter.next = (filter.next + 1) % filter.seen.len();
        verdict
    }

    /// `$event`: the count it measures.
    pub fn event_count(&self, spec: &Map) -> f64 {
        memo(&self.counts, spec, &["name", "where", "within"], || self.measure_count(spec))
    }

    fn measure_count(&self, spec: &Map) -> f64 {
        let Some(p) = self.profile else { return 0.0 };
        let Some(id) = spec.get("name").and_then(Value::as_str).and_then(|n| p.name_id(n)) else { return 0.0 };
        let mut filter = Filter::new(spec.get("where"));
        let from = duration(spec, "within").map_or(f64::NEG_INFINITY, |d| self.now - d);
        let list = &self.by_name[id as usize];
        let start = list.partition_point(|e| e.time < from);
        let mut n = 0u32;
        for e in &list[start..] {
            if e.time > self.now {
                break;
            }
            if self.filter_passes(&mut filter, &e.props) {
                n += 1;
            }
        }
        for r in p.rollups() {
            if r.name != id || r.end_ms() <= from || r.start_ms() > self.now {
                continue;
            }
            n += match filter.is_all() {
                true => r.count,
                false => r.combos.iter().filter(|(props, _)| self.filter_passes(&mut filter, props)).map(|c| c.1).sum(),
            };
        }
        n as f64
    }

    /// Whether `count` (a GrowthBook condition value; `None` means at least one) holds
    /// for `n`. Plain numeric comparisons are evaluated directly.
    pub fn count_passes(&self, count: Option<&Value>, n: f64) -> bool {
        let Some(cond) = count else { return n >= 1.0 };
        if let Value::Number(c) = cond {
            return n == *c;
        }
        if let Some(m) = cond.as_object() {
            let mut fast = true;
            let mut ok = true;
            for (op, v) in m.iter() {
                let Some(x) = v.as_f64() else {
                    fast = false;
                    break;
                };
                ok &= match op.as_str() {
                    "$eq" => n == x,
                    "$ne" => n != x,
                    "$gt" => n > x,
                    "$gte" => n >= x,
                    "$lt" => n < x,
                    "$lte" => n <= x,
                    _ => {
                        fast = false;
                        break;
                    }
                };
            }
            if fast && !m.is_empty() {
                return ok;
            }
        }
        let attrs = Value::Object(Map(vec![("n".into(), Value::Number(n))]));
        let cond = Value::Object(Map(vec![("n".into(), cond.clone())]));
        Evaluator::new(self.host, self.saved_groups, None).eval_condition(&attrs, &cond)
    }

    /// `$event` as a condition.
    pub fn event_passes(&self, spec: &Value) -> bool {
        let Some(m) = spec.as_object() else { return false };
        self.profile.is_some() && self.count_passes(m.get("count"), self.event_count(m))
    }

    /// `$since`: when the last matching event happened, `None` if never (or no profile).
    pub fn last_time(&self, spec: &Map) -> Option<f64> {
        memo(&self.lasts, spec, &["name", "where"], || self.measure_last(spec))
    }

    fn measure_last(&self, spec: &Map) -> Option<f64> {
        let p = self.profile?;
        let id = p.name_id(spec.get("name")?.as_str()?)?;
        let mut filter = Filter::new(spec.get("where"));
        let list = &self.by_name[id as usize];
        let end = list.partition_point(|e| e.time <= self.now);
        if let Some(e) = list[..end].iter().rev().find(|e| self.filter_passes(&mut filter, &e.props)) {
            return Some(e.time);
        }
        p.rollups()
            .iter()
            .rev()
            .filter(|r| r.name == id && r.start_ms() <= self.now)
            .find(|r| filter.is_all() || r.combos.iter().any(|(props, _)| self.filter_passes(&mut filter, props)))
            .map(|r| (r.end_ms() - 1.0).min(self.now))
    }

    /// Whether an elapsed time (`None`: never happened, i.e. infinitely long ago)
    /// satisfies the bounds of a `$since` value.
    pub fn since_passes(&self, spec: &Map, elapsed: Option<f64>) -> bool {
        let e = elapsed.unwrap_or(f64::INFINITY);
        let mut ok = true;
        for (op, _) in spec.iter() {
            let Some(d) = duration(spec, op) else { continue };
            ok &= match op.as_str() {
                "within" | "$lte" => e <= d,
                "$lt" => e < d,
                "$gt" => e > d,
                "$gte" => e >= d,
                _ => true,
            };
        }
        ok
    }

    /// `$since` as a condition.
    pub fn since(&self, spec: &Value) -> bool {
        let Some(m) = spec.as_object() else { return false };
        self.profile.is_some() && self.since_passes(m, self.last_time(m).map(|t| self.now - t))
    }

    /// `$scenario`: the latest complete sequence and what excluded it.
    pub fn scenario_match(&self, spec: &Map) -> ScenarioMatch {
        memo(&self.scenarios, spec, &["steps", "within", "notFollowedBy"], || self.measure_scenario(spec))
    }

    fn measure_scenario<'s>(&self, spec: &'s Map) -> ScenarioMatch {
        let mut out = ScenarioMatch::default();
        let Some(p) = self.profile else { return out };
        let Some(steps) = spec.get("steps").and_then(Value::as_array).filter(|s| !s.is_empty()) else { return out };
        let step = |s: &'s Value| -> Option<(u32, Filter<'s>)> { Some((p.name_id(s.get("name")?.as_str()?)?, Filter::new(s.get("where")))) };
        let mut resolved = Vec::with_capacity(steps.len());
        for s in steps {
            match step(s) {
                Some(x) => resolved.push(x),
                None => return out, // a step never seen: no sequence can exist
            }
        }
        let within = duration(spec, "within").unwrap_or(f64::INFINITY);
        let exclusion = spec.get("notFollowedBy").and_then(step);
        // best[i]: the latest start time of a partial sequence through step i. A later
        // start is never worse: it leaves the most room for the window.
        let mut best: Vec<Option<f64>> = vec![None; resolved.len()];
        let last = resolved.len() - 1;
        let mut complete_at: Option<usize> = None;
        let events = p.events();
        for (j, e) in events.iter().enumerate() {
            if e.time > self.now {
                break;
            }
            for i in (0..resolved.len()).rev() {
                let (id, filter) = &mut resolved[i];
                if e.name != *id || !self.filter_passes(filter, &e.props) {
                    continue;
                }
                let start = if i == 0 { Some(e.time) } else { best[i - 1] };
                let Some(start) = start else { continue };
                if i == last && e.time - start <= within {
                    complete_at = Some(j);
                    out.sequence = Some((start, e.time));
                }
                best[i] = Some(best[i].map_or(start, |b: f64| b.max(start)));
            }
        }
        if let (Some(j), Some((id, mut filter))) = (complete_at, exclusion) {
            out.excluded_at = events.iter().skip(j + 1).take_while(|e| e.time <= self.now).find(|e| e.name == id && self.filter_passes(&mut filter, &e.props)).map(|e| e.time);
        }
        out
    }

    /// `$scenario` as a condition.
    pub fn scenario(&self, spec: &Value) -> bool {
        spec.as_object().is_some_and(|m| self.scenario_match(m).passed())
    }
}
