//! Decisions: which experience and variant each slot shows, and why.
//!
//! For each slot (in order of first appearance in the document), candidates are
//! tried from the highest `priority` down (ties keep document order). Each goes
//! through four stages and stops at the first that excludes it:
//!
//! 1. **audience**: the condition (GrowthBook semantics plus the behavioural
//!    operators of [`behaviour`] and `$audience` references); profile attributes
//!    `visits`, `pageviews`, `cohort`, `first_seen_days` are merged into the context.
//! 2. **schedule**: `start <= now < end`, instants in UTC (dates without a time are
//!    midnight UTC; date-times carry their own offset).
//! 3. **caps** (only with a profile; without one they cannot be counted and are
//!    skipped): the lifetime (shown until `first impression + lifetime`, exclusive),
//!    the experience's cap and the global cap (`impressions` in the last `per`: an
//!    impression exactly `per` ago no longer counts). Variants decided for earlier
//!    slots of the same call count towards the global cap. Impressions recorded since
//!    the current page view started ([`decide_view`]) do not count: deciding again
//!    during one page view (the profile or the consent changed) never takes away the
//!    content whose impression that page view has just counted.
//! 4. **allocation**: a sticky assignment from the profile wins if its variant still
//!    exists. Otherwise GrowthBook bucketing: `hash(seed || id, unit, hashVersion || 1)`
//!    over ranges from `coverage` and the variants' weights. A visitor outside every
//!    range is not enrolled and the next candidate is tried. Before that, the
//!    holdout: `hash(seed || id + ":holdout", unit, 2) < holdout` keeps the visitor on
//!    the default content *and* reserves the slot (no other experience shows there,
//!    so the holdout stays clean).
//!
//! The first candidate through all four wins the slot; the others are reported as
//! outranked without being evaluated.

pub mod behaviour;
pub mod synthetic;

use std::cell::{Cell, RefCell};

use crate::host::Host;
use crate::json::{Map, Value};
use crate::profile::Profile;
use crate::rules::condition::Evaluator;
use crate::rules::document::{Audience, AudienceRef, Cap, Clause, Content, Experience, Rules};
use crate::rules::hash::{choose_variation, get_bucket_ranges, hash};
use crate::rules::time::format_date_time;
use behaviour::Behaviour;

/// What one slot shows, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The slot decided.
    pub slot: String,
    /// The experience that won the slot, if any (also set for a holdout).
    pub experience: Option<String>,
    /// The variant shown; `None` with an experience means the visitor is held out.
    pub variant: Option<String>,
    /// The content to apply; `None` keeps the default content.
    pub content: Option<Content>,
    /// The visitor is in the winning experience's holdout: default content.
    pub holdout: bool,
    /// The variant came from the profile's sticky assignment.
    pub sticky: bool,
    /// One readable line, e.g. `hero: "spring-hero" shows variant "sale"`.
    pub summary: String,
    /// Everything considered, as JSON for the inspector (see [`decide_all`]).
    pub explanation: Value,
}

impl Decision {
    /// The decision as one JSON object: `slot`, `experience`, `variant`, `content`,
    /// `holdout`, `sticky`, `summary`, `explanation`.
    pub fn to_value(&self) -> Value {
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
        let mut m = Map::new();
        m.insert("slot", self.slot.as_str().into());
        m.insert("experience", opt(&self.experience));
        m.insert("variant", opt(&self.variant));
        m.insert("content", self.content.as_ref().map_or(Value::Null, Content::to_value));
        m.insert("holdout", self.holdout.into());
        m.insert("sticky", self.sticky.into());
        m.insert("summary", self.summary.as_str().into());
        m.insert("explanation", self.explanation.clone());
        Value::Object(m)
    }
}

/// Records that `variant` of `experience` was shown: counts towards caps and lifetimes
/// and makes the assignment sticky. Call it only under the `personalization` purpose,
/// for every decision with a variant (a control without content included, so the
/// assignment sticks), and not for holdouts.
pub fn record_impression(profile: &mut Profile, experience: &str, variant: &str, now_ms: f64) {
    profile.record_impression(experience, variant, now_ms);
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn date(ms: f64) -> Value {
    format_date_time(ms).into()
}

/// GrowthBook's `getPath`, borrowing: object keys and array indices split on `.`.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// State shared by one round of decisions.
struct Ctx<'a> {
    rules: &'a Rules,
    attrs: &'a Value,
    profile: Option<&'a Profile>,
    now: f64,
    /// When the current page view started: impressions from then on are its own.
    view_start: f64,
    unit: &'a str,
    /// Variants decided for earlier slots of this round (for the global cap).
    shown: Cell<u32>,
    host: &'a dyn Host,
    beh: Behaviour<'a>,
    /// Per named audience: 0 unknown, 1 false, 2 true, 3 being evaluated.
    memo: RefCell<Vec<u8>>,
    /// Per named audience: its explanation, once built.
    explained: RefCell<Vec<Option<(bool, Value)>>>,
}

impl Ctx<'_> {
    fn ext(&self, key: &str, v: &Value) -> Option<bool> {
        Some(match key {
            "$event" => self.beh.event_passes(v),
            "$since" => self.beh.since(v),
            "$scenario" => self.beh.scenario(v),
            "$audience" => self.named(v.as_str()?),
            _ => return None,
        })
    }

    fn eval(&self, cond: &Value) -> bool {
        let ext = |k: &str, v: &Value| self.ext(k, v);
        Evaluator { host: self.host, saved_groups: Some(&self.rules.saved_groups), extension: Some(&ext) }.eval_condition(self.attrs, cond)
    }

    /// Whether the named audience matches (memoised; a reference cycle is false).
    fn named(&self, name: &str) -> bool {
        let Some(i) = self.rules.audiences.iter().position(|a| a.name == name) else { return false };
        match self.memo.borrow()[i] {
            1 => return false,
            2 => return true,
            3 => return false,
            _ => {}
        }
        self.memo.borrow_mut()[i] = 3;
        let r = self.rules.audiences[i].clauses.iter().all(|c| self.eval(&c.condition));
        self.memo.borrow_mut()[i] = 1 + r as u8;
        r
    }

    /// Evaluates one clause and says what was measured.
    fn clause(&self, c: &Clause) -> Value {
        let single = c.condition.as_object().filter(|m| m.len() == 1).and_then(|m| m.0.first());
        let (passed, seen) = match single {
            Some((k, v)) if k == "$event" => {
                let spec = v.as_object();
                let n = spec.map_or(0.0, |m| self.beh.event_count(m));
                let ok = self.beh.has_profile() && spec.is_some_and(|m| self.beh.count_passes(m.get("count"), n));
                (ok, obj(vec![("count", n.into())]))
            }
            Some((k, v)) if k == "$since" => {
                let spec = v.as_object();
                let last = spec.and_then(|m| self.beh.last_time(m));
                let ok = self.beh.has_profile() && spec.is_some_and(|m| self.beh.since_passes(m, last.map(|t| self.now - t)));
                let seen = match last {
                    Some(t) => obj(vec![("last", date(t)), ("elapsedHours", (((self.now - t) / 36_000.0).round() / 100.0).into())]),
                    None => obj(vec![("last", Value::Null)]),
                };
                (ok, seen)
            }
            Some((k, v)) if k == "$scenario" => {
                let m = v.as_object().map(|m| self.beh.scenario_match(m)).unwrap_or_default();
                let seq = m.sequence.map_or((Value::Null, Value::Null), |(a, b)| (date(a), date(b)));
                let seen = obj(vec![("started", seq.0), ("completed", seq.1), ("excludedBy", m.excluded_at.map_or(Value::Null, date))]);
                (m.passed(), seen)
            }
            Some((k, v)) if k == "$audience" => {
                let ok = v.as_str().is_some_and(|n| self.named(n));
                (ok, ok.into())
            }
            Some((k, _)) if !k.starts_with('$') => (self.eval(&c.condition), lookup(self.attrs, k).cloned().unwrap_or(Value::Null)),
            _ => (self.eval(&c.condition), Value::Null),
        };
        obj(vec![("path", c.path.as_str().into()), ("label", c.label.as_str().into()), ("passed", passed.into()), ("seen", seen)])
    }
}

/// How one candidate fared.
enum Outcome {
    /// It wins the slot with this variant.
    Shown { variant: usize, sticky: bool },
    /// It wins the slot but the visitor is held out.
    Holdout,
    /// It does not apply; the next candidate is tried.
    Excluded(String),
}

fn cap_value(seen: u32, cap: &Cap, reached: bool) -> Value {
    obj(vec![("impressions", (seen as f64).into()), ("limit", (cap.impressions as f64).into()), ("per", cap.per_text.as_str().into()), ("reached", reached.into())])
}

impl Ctx<'_> {
    fn audience<'e>(&'e self, e: &'e Experience) -> (bool, Value, Vec<&'e str>) {
        match &e.audience {
            None => (true, obj(vec![("name", Value::Null), ("passed", true.into()), ("conditions", Value::Array(Vec::new()))]), Vec::new()),
            Some(AudienceRef::Inline(a)) => self.explain_audience(a),
            Some(AudienceRef::Named(n)) => {
                let Some(i) = self.rules.audiences.iter().position(|a| &a.name == n) else {
                    return (false, obj(vec![("name", n.as_str().into()), ("passed", false.into())]), vec![n.as_str()]);
                };
                if let Some((ok, v)) = &self.explained.borrow()[i] {
                    let failed = if *ok { Vec::new() } else { self.failed_labels(&self.rules.audiences[i], v) };
                    return (*ok, v.clone(), failed);
                }
                let (ok, v, failed) = self.explain_audience(&self.rules.audiences[i]);
                self.memo.borrow_mut()[i] = 1 + ok as u8;
                self.explained.borrow_mut()[i] = Some((ok, v.clone()));
                (ok, v, failed)
            }
        }
    }

    fn failed_labels<'e>(&self, a: &'e Audience, explained: &Value) -> Vec<&'e str> {
        let list = explained.get("conditions").and_then(Value::as_array);
        a.clauses
            .iter()
            .zip(list.into_iter().flatten())
            .filter(|(_, v)| v.get("passed") != Some(&Value::Bool(true)))
            .map(|(c, _)| c.label.as_str())
            .collect()
    }

    /// Every clause is evaluated (no short cut), so the explanation is complete.
    fn explain_audience<'e>(&self, a: &'e Audience) -> (bool, Value, Vec<&'e str>) {
        let mut failed = Vec::new();
        let conds: Vec<Value> = a
            .clauses
            .iter()
            .map(|c| {
                let v = self.clause(c);
                if v.get("passed") != Some(&Value::Bool(true)) {
                    failed.push(c.label.as_str());
                }
                v
            })
            .collect();
        let ok = failed.is_empty();
        let name = if a.name.is_empty() { Value::Null } else { a.name.as_str().into() };
        (ok, obj(vec![("name", name), ("passed", ok.into()), ("conditions", Value::Array(conds))]), failed)
    }

    /// Runs one candidate through audience → schedule → caps → allocation.
    fn candidate(&self, e: &Experience, m: &mut Map) -> Outcome {
        let now = self.now;
        let (ok, aud, failed) = self.audience(e);
        m.insert("audience", aud);
        if !ok {
            return Outcome::Excluded(format!("audience did not match ({})", failed.join(", ")));
        }

        let s = &e.schedule;
        let (state, why) = match (s.start, s.end) {
            (Some(t), _) if now < t => ("not started", Some(format!("not started (starts {})", format_date_time(t)))),
            (_, Some(t)) if now >= t => ("ended", Some(format!("ended ({})", format_date_time(t)))),
            _ => ("running", None),
        };
        m.insert("schedule", obj(vec![("state", state.into()), ("start", s.start.map_or(Value::Null, date)), ("end", s.end.map_or(Value::Null, date))]));
        if let Some(why) = why {
            return Outcome::Excluded(why);
        }

        let mut caps = Map::new();
        let mut capped: Option<String> = None;
        match self.profile {
            None => {
                caps.insert("checked", false.into());
                caps.insert("reason", "no profile: caps and lifetimes need the personalization purpose".into());
            }
            Some(p) => {
                caps.insert("checked", true.into());
                if let Some(l) = e.lifetime {
                    let first = p.impressions(&e.id).map(|i| i.first);
                    let over = first.is_some_and(|f| now >= f + l);
                    if let (true, Some(f)) = (over, first) {
                        capped = Some(format!("lifetime over (first seen {}, shown for {}h)", format_date_time(f), crate::json::plain_number(l / 3_600_000.0)));
                    }
                    let ends = first.map_or(Value::Null, |f| date(f + l));
                    caps.insert("lifetime", obj(vec![("firstSeen", first.map_or(Value::Null, date)), ("endsAt", ends), ("over", over.into())]));
                }
                if let Some(c) = &e.cap {
                    let n = p.impressions_between(Some(&e.id), now - c.per, self.view_start);
                    let reached = n >= c.impressions;
                    if reached && capped.is_none() {
                        capped = Some(format!("cap reached ({n} of {} impressions in {})", c.impressions, c.per_text));
                    }
                    caps.insert("cap", cap_value(n, c, reached));
                }
                if let Some(c) = &self.rules.caps {
                    let n = p.impressions_between(None, now - c.per, self.view_start) + self.shown.get();
                    let reached = n >= c.impressions;
                    if reached && capped.is_none() {
                        capped = Some(format!("global cap reached ({n} of {} impressions in {})", c.impressions, c.per_text));
                    }
                    caps.insert("global", cap_value(n, c, reached));
                }
            }
        }
        m.insert("caps", Value::Object(caps));
        if let Some(why) = capped {
            return Outcome::Excluded(why);
        }

        let mut alloc = Map::new();
        let sticky = self.profile.and_then(|p| p.assignment(&e.id)).and_then(|v| e.variants.iter().position(|x| x.id == v));
        if let Some(i) = sticky {
            alloc.insert("sticky", true.into());
            alloc.insert("variant", e.variants[i].id.as_str().into());
            m.insert("allocation", Value::Object(alloc));
            return Outcome::Shown { variant: i, sticky: true };
        }
        let seed = e.seed.as_deref().unwrap_or(&e.id);
        alloc.insert("sticky", false.into());
        alloc.insert("seed", seed.into());
        alloc.insert("hashVersion", (e.hash_version as f64).into());
        let outcome = 'alloc: {
            // One variant for everyone in the audience is personalization, not an
            // experiment: it needs no allocation identity.
            if e.variants.len() == 1 && e.holdout <= 0.0 && e.coverage >= 1.0 {
                alloc.insert("variant", e.variants[0].id.as_str().into());
                break 'alloc Outcome::Shown { variant: 0, sticky: false };
            }
            if self.unit.is_empty() {
                break 'alloc Outcome::Excluded("not enrolled in experiments (automated browser, or no allocation id)".into());
            }
            let Some(n) = hash(seed, self.unit, e.hash_version) else {
                break 'alloc Outcome::Excluded(format!("hash version {} is not supported", e.hash_version));
            };
            if e.holdout > 0.0 {
                let mut hseed = String::with_capacity(seed.len() + 8);
                hseed.push_str(seed);
                hseed.push_str(":holdout");
                let h = hash(&hseed, self.unit, 2).unwrap_or(1.0);
                alloc.insert("holdout", e.holdout.into());
                alloc.insert("holdoutBucket", h.into());
                alloc.insert("inHoldout", (h < e.holdout).into());
                if h < e.holdout {
                    break 'alloc Outcome::Holdout;
                }
            }
            let weights: Option<Vec<f64>> = e.variants.iter().map(|v| v.weight).collect();
            let ranges = get_bucket_ranges(e.variants.len() as i32, Some(e.coverage), weights.as_deref());
            let idx = choose_variation(n, &ranges);
            alloc.insert("bucket", n.into());
            alloc.insert("coverage", e.coverage.into());
            alloc.insert("ranges", Value::Array(ranges.iter().map(|&(a, b)| Value::Array(vec![a.into(), b.into()])).collect()));
            if idx < 0 {
                break 'alloc Outcome::Excluded(format!("not enrolled (bucket {} is outside the coverage ranges)", crate::json::plain_number(n)));
            }
            alloc.insert("variant", e.variants[idx as usize].id.as_str().into());
            Outcome::Shown { variant: idx as usize, sticky: false }
        };
        m.insert("allocation", Value::Object(alloc));
        outcome
    }

    fn decide_slot(&self, slot: &str) -> Decision {
        let mut candidates: Vec<&Experience> = self.rules.experiences.iter().filter(|e| e.slot == slot).collect();
        // Stable: equal priorities keep document order.
        candidates.sort_by(|a, b| b.priority.total_cmp(&a.priority));
        let mut d = Decision {
            slot: slot.into(),
            experience: None,
            variant: None,
            content: None,
            holdout: false,
            sticky: false,
            summary: String::new(),
            explanation: Value::Null,
        };
        let mut passed_over: Vec<String> = Vec::new();
        let mut list = Vec::with_capacity(candidates.len());
        for e in candidates {
            let mut m = Map::new();
            m.insert("experience", e.id.as_str().into());
            m.insert("priority", e.priority.into());
            if let Some(w) = &d.experience {
                m.insert("outcome", "outranked".into());
                m.insert("reason", format!("\"{w}\" won the slot first").into());
                list.push(Value::Object(m));
                continue;
            }
            m.insert("outcome", Value::Null);
            m.insert("reason", Value::Null);
            let (outcome, reason) = match self.candidate(e, &mut m) {
                Outcome::Shown { variant, sticky } => {
                    let v = &e.variants[variant];
                    d.experience = Some(e.id.clone());
                    d.variant = Some(v.id.clone());
                    d.content = v.content.clone();
                    d.sticky = sticky;
                    self.shown.set(self.shown.get() + 1);
                    ("shown", format!("variant \"{}\"{}", v.id, if sticky { " (sticky assignment)" } else { "" }))
                }
                Outcome::Holdout => {
                    d.experience = Some(e.id.clone());
                    d.holdout = true;
                    ("holdout", format!("held out ({}% of the audience keeps the default content)", crate::json::plain_number(e.holdout * 100.0)))
                }
                Outcome::Excluded(why) => {
                    passed_over.push(format!("\"{}\": {why}", e.id));
                    ("excluded", why)
                }
            };
            m.insert("outcome", outcome.into());
            m.insert("reason", reason.into());
            list.push(Value::Object(m));
        }
        let mut summary = match (&d.experience, &d.variant) {
            (Some(e), Some(v)) => format!("{slot}: \"{e}\" shows variant \"{v}\"{}", if d.sticky { " (sticky)" } else { "" }),
            (Some(e), None) => format!("{slot}: \"{e}\" holds this visitor out (default content)"),
            _ if list.is_empty() => format!("{slot}: default content (no experience targets this slot)"),
            _ => format!("{slot}: default content, no experience qualified"),
        };
        if !passed_over.is_empty() {
            summary.push_str(if d.experience.is_some() { "; passed over " } else { ": " });
            summary.push_str(&passed_over.join("; "));
        }
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
        d.explanation = obj(vec![
            ("slot", slot.into()),
            ("experience", opt(&d.experience)),
            ("variant", opt(&d.variant)),
            ("holdout", d.holdout.into()),
            ("sticky", d.sticky.into()),
            ("now", date(self.now)),
            ("profile", self.profile.is_some().into()),
            ("candidates", Value::Array(list)),
        ]);
        d.summary = summary;
        d
    }
}

/// Decides every slot the rules name, in order of first appearance.
///
/// - `context`: the contextual attributes (an object, e.g. [`crate::context::attributes`]);
///   profile attributes (`visits`, `pageviews`, `cohort`, `first_seen_days`) are added
///   when a profile is given.
/// - `profile`: only under the `personalization` purpose; without it behavioural
///   conditions are false, caps are not checked and nothing is sticky.
/// - `unit_id`: the allocation identity (the visitor id under consent, else a random
///   id per page view); empty means no experiment can allocate a variant.
/// - `now_ms`: the caller's clock, ms since the epoch.
///
/// Each [`Decision::explanation`] is an object: `slot`, `experience`, `variant`,
/// `holdout`, `sticky`, `now`, `profile` (whether one was used) and `candidates`, in
/// the order tried, each with `experience`, `priority`, `outcome` ("shown", "holdout",
/// "excluded" or "outranked"), `reason`, and the stages it reached: `audience` (`name`,
/// `passed`, `conditions`: each top-level clause with its document `path`, a short
/// `label`, `passed` and `seen`: the attribute value, or what was measured: `{count}`
/// for `$event`, `{last, elapsedHours}` for `$since`, `{started, completed,
/// excludedBy}` for `$scenario`, the result of a referenced `$audience`),
/// `schedule` (`state`, `start`, `end`), `caps` (`checked`, `lifetime`, `cap`,
/// `global`: impressions seen, limit, window, reached) and `allocation` (`sticky`,
/// `seed`, `hashVersion`, `holdout`, `holdoutBucket`, `inHoldout`, `bucket`, `coverage`,
/// `ranges`, `variant`).
pub fn decide_all(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, host: &dyn Host) -> Vec<Decision> {
    decide_view(rules, context, profile, unit_id, now_ms, now_ms, host)
}

/// [`decide_all`] during a page view that started at `view_start_ms` (at most
/// `now_ms`): impressions recorded from then on belong to this page view and do not
/// count towards caps, so re-deciding (after the profile or the consent changed) keeps
/// what the page view counted instead of capping it on the spot.
pub fn decide_view(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, view_start_ms: f64, host: &dyn Host) -> Vec<Decision> {
    let merged;
    let attrs = match profile {
        Some(p) => {
            let mut m = context.as_object().cloned().unwrap_or_default();
            for (k, v) in p.attributes(now_ms) {
                m.insert(k, v);
            }
            merged = Value::Object(m);
            &merged
        }
        None => context,
    };
    let ctx = Ctx {
        rules,
        attrs,
        profile,
        now: now_ms,
        view_start: view_start_ms.min(now_ms),
        unit: unit_id,
        shown: Cell::new(0),
        host,
        beh: Behaviour::new(profile, now_ms, host, Some(&rules.saved_groups)),
        memo: RefCell::new(vec![0; rules.audiences.len()]),
        explained: RefCell::new(vec![None; rules.audiences.len()]),
    };
    let mut slots: Vec<&str> = Vec::new();
    for e in &rules.experiences {
        if !slots.contains(&e.slot.as_str()) {
            slots.push(&e.slot);
        }
    }
    slots.into_iter().map(|s| ctx.decide_slot(s)).collect()
}

#[cfg(test)]
mod tests;
