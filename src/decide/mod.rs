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
//! 4. **allocation**: first GrowthBook's namespace, when the experience has one: a
//!    visitor whose position in the namespace (`hash("__" + id, unit, 1)`) is outside
//!    the experience's `[start, end)` is excluded, whatever was assigned before, so
//!    experiments sharing a namespace with separate ranges never enrol the same
//!    visitor. Then a sticky assignment from the profile wins if its variant still
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
use crate::rules::hash::{choose_variation, get_bucket_ranges, hash, namespace_position};
use crate::rules::time::format_date_time;
use behaviour::{Behaviour, ScenarioMatch};

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
        let mut v = self.to_value_compact();
        if let Value::Object(m) = &mut v {
            m.insert("summary", self.summary.as_str().into());
            m.insert("explanation", self.explanation.clone());
        }
        v
    }

    /// The decision without `summary` and `explanation`: `slot`, `experience`,
    /// `variant`, `content`, `holdout`, `sticky`.
    pub fn to_value_compact(&self) -> Value {
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
        let mut m = Map::new();
        m.insert("slot", self.slot.as_str().into());
        m.insert("experience", opt(&self.experience));
        m.insert("variant", opt(&self.variant));
        m.insert("content", self.content.as_ref().map_or(Value::Null, Content::to_value));
        m.insert("holdout", self.holdout.into());
        m.insert("sticky", self.sticky.into());
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

// How a round works: `decide_round` runs every candidate through the stages and keeps
// only plain facts (what each clause measured, the profile's cap figures, the
// verdict), with no strings or JSON built. `Round::summary` and
// `Round::explanation` turn those facts into the readable forms when (and only when)
// someone asks, so deciding stays cheap and an explanation read later still
// describes the profile as it was when the decision was made.

/// What one top-level clause of an audience measured.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// `$event`: the count.
    Count(f64),
    /// `$since`: when the last matching event happened.
    Since(Option<f64>),
    /// `$scenario`: the sequence found and what excluded it.
    Scenario(ScenarioMatch),
    /// `$audience`: the referenced audience's result.
    Audience(bool),
    /// An attribute path: the attribute's value.
    Attribute(Option<Value>),
    /// Anything else.
    Nothing,
}

#[derive(Debug, Clone, PartialEq)]
struct ClauseFact {
    passed: bool,
    seen: Seen,
}

/// A named audience measured in full this round: its result and clause facts.
type NamedFacts = Option<(bool, Vec<ClauseFact>)>;

/// How a candidate's audience was resolved.
#[derive(Debug, Clone, PartialEq)]
enum AudienceFacts {
    /// No audience: everyone.
    Everyone,
    /// An inline audience: one fact per clause.
    Inline(Vec<ClauseFact>),
    /// A named audience (index into `rules.audiences`); its facts are in [`Round`].
    Named(usize),
    /// A name the document does not define.
    Unknown,
}

/// The profile's figures the cap stage compared.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CapFacts {
    /// First impression of the experience (read only when it has a lifetime).
    first: Option<f64>,
    /// Impressions of the experience in its cap window.
    cap: u32,
    /// Impressions of all experiences in the global window, this round's included.
    global: u32,
}

/// Where a candidate stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Audience,
    NotStarted,
    Ended,
    Capped,
    NoUnit,
    BadHash,
    OutOfCoverage,
    /// Outside the experience's share of its namespace (mutual exclusion).
    NotInNamespace,
    Holdout,
    Shown { variant: usize, sticky: bool },
}

/// One candidate that was tried (not outranked).
#[derive(Debug, Clone, PartialEq)]
struct Tried {
    /// Index into `rules.experiences`.
    exp: usize,
    audience: AudienceFacts,
    /// `None` before the cap stage, or without a profile.
    caps: Option<CapFacts>,
    verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq)]
struct SlotFacts {
    /// Candidates (indices into `rules.experiences`) in the order tried.
    candidates: Vec<usize>,
    /// The first `tried.len()` of them went through the stages; the rest were outranked.
    tried: Vec<Tried>,
}

/// One round of decisions and the facts that explain them: [`Self::decisions`] are
/// ready at once (without `summary` and `explanation`); [`Self::summary`] and
/// [`Self::explanation`] build those on demand, from this round's facts, against the
/// same [`Rules`] it was decided with.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    decisions: Vec<Decision>,
    slots: Vec<SlotFacts>,
    /// Per named audience: its result and clause facts, once explained this round.
    named: Vec<NamedFacts>,
    now: f64,
    unit: String,
    has_profile: bool,
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
    /// Per named audience: its result and clause facts, once measured in full.
    explained: RefCell<Vec<NamedFacts>>,
    /// How deep the evaluation is, `$audience` references included (every
    /// evaluator of the round shares it: see [`Evaluator::sharing_depth`]).
    depth: Cell<u32>,
    /// Positions of the named audiences sorted by name, built on the first lookup
    /// (empty until then). A `RefCell` rather than a `OnceCell`: the latter brings its
    /// own panic message and source path into the .wasm.
    by_name: RefCell<Vec<usize>>,
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
        Evaluator::new(self.host, Some(&self.rules.saved_groups), Some(&ext)).sharing_depth(&self.depth).eval_condition(self.attrs, cond)
    }

    /// The position of the audience named `name` (a binary search: a document may
    /// hold a thousand audiences, referred to from every experience).
    fn audience_index(&self, name: &str) -> Option<usize> {
        let audiences = &self.rules.audiences;
        let mut order = self.by_name.borrow_mut();
        if order.len() != audiences.len() {
            *order = (0..audiences.len()).collect();
            crate::rules::sort_positions(&mut order, &|a, b| audiences[a].name.cmp(&audiences[b].name));
        }
        let found = order.binary_search_by(|&i| audiences[i].name.as_str().cmp(name)).ok()?;
        order.get(found).copied()
    }

    /// Whether the named audience matches (memoised; a reference cycle is false, and
    /// so is a chain deeper than [`crate::rules::condition::MAX_EVALUATION_DEPTH`]).
    fn named(&self, name: &str) -> bool {
        let Some(i) = self.audience_index(name) else { return false };
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

    /// Evaluates one clause and records what was measured.
    fn clause(&self, c: &Clause) -> ClauseFact {
        let (passed, seen) = match c.single() {
            Some(("$event", v)) => {
                let spec = v.as_object();
                let n = spec.map_or(0.0, |m| self.beh.event_count(m));
                let ok = self.beh.has_profile() && spec.is_some_and(|m| self.beh.count_passes(m.get("count"), n));
                (ok, Seen::Count(n))
            }
            Some(("$since", v)) => {
                let spec = v.as_object();
                let last = spec.and_then(|m| self.beh.last_time(m));
                let ok = self.beh.has_profile() && spec.is_some_and(|m| self.beh.since_passes(m, last.map(|t| self.now - t)));
                (ok, Seen::Since(last))
            }
            Some(("$scenario", v)) => {
                let m = v.as_object().map(|m| self.beh.scenario_match(m)).unwrap_or_default();
                (m.passed(), Seen::Scenario(m))
            }
            Some(("$audience", v)) => {
                let ok = v.as_str().is_some_and(|n| self.named(n));
                (ok, Seen::Audience(ok))
            }
            Some((k, _)) if !k.starts_with('$') => (self.eval(&c.condition), Seen::Attribute(lookup(self.attrs, k).cloned())),
            _ => (self.eval(&c.condition), Seen::Nothing),
        };
        ClauseFact { passed, seen }
    }

    /// Every clause is evaluated (no short cut), so the explanation is complete.
    fn audience_facts(&self, a: &Audience) -> (bool, Vec<ClauseFact>) {
        let facts: Vec<ClauseFact> = a.clauses.iter().map(|c| self.clause(c)).collect();
        (facts.iter().all(|f| f.passed), facts)
    }

    fn audience(&self, e: &Experience) -> (bool, AudienceFacts) {
        match &e.audience {
            None => (true, AudienceFacts::Everyone),
            Some(AudienceRef::Inline(a)) => {
                let (ok, facts) = self.audience_facts(a);
                (ok, AudienceFacts::Inline(facts))
            }
            Some(AudienceRef::Named(n)) => {
                let Some(i) = self.audience_index(n) else { return (false, AudienceFacts::Unknown) };
                if let Some((ok, _)) = &self.explained.borrow()[i] {
                    return (*ok, AudienceFacts::Named(i));
                }
                let (ok, facts) = self.audience_facts(&self.rules.audiences[i]);
                self.memo.borrow_mut()[i] = 1 + ok as u8;
                self.explained.borrow_mut()[i] = Some((ok, facts));
                (ok, AudienceFacts::Named(i))
            }
        }
    }

    /// Runs one candidate through audience → schedule → caps → allocation.
    fn candidate(&self, exp: usize) -> Tried {
        let e = &self.rules.experiences[exp];
        let (ok, audience) = self.audience(e);
        let mut tried = Tried { exp, audience, caps: None, verdict: Verdict::Audience };
        if !ok {
            return tried;
        }
        match schedule_state(e, self.now) {
            ScheduleState::NotStarted(_) => tried.verdict = Verdict::NotStarted,
            ScheduleState::Ended(_) => tried.verdict = Verdict::Ended,
            ScheduleState::Running => {
                if let Some(p) = self.profile {
                    let now = self.now;
                    let facts = CapFacts {
                        first: e.lifetime.and(p.impressions(&e.id).map(|i| i.first)),
                        cap: e.cap.as_ref().map_or(0, |c| p.impressions_between(Some(&e.id), now - c.per, self.view_start)),
                        global: self.rules.caps.as_ref().map_or(0, |c| p.impressions_between(None, now - c.per, self.view_start) + self.shown.get()),
                    };
                    tried.caps = Some(facts);
                    if is_capped(self.rules, e, &facts, now) {
                        tried.verdict = Verdict::Capped;
                        return tried;
                    }
                }
                if let Some(v) = namespace_verdict(e, self.unit, None) {
                    tried.verdict = v;
                    return tried;
                }
                let sticky = self.profile.and_then(|p| p.assignment(&e.id)).and_then(|v| e.variants.iter().position(|x| x.id == v));
                tried.verdict = match sticky {
                    Some(i) => Verdict::Shown { variant: i, sticky: true },
                    None => allocate(e, self.unit, None),
                };
            }
        }
        tried
    }

    /// Decides `slot`, whose experiences are `candidates` (document order).
    fn decide_slot(&self, slot: &str, mut candidates: Vec<usize>) -> (Decision, SlotFacts) {
        // Stable: equal priorities keep document order.
        let experiences = &self.rules.experiences;
        crate::rules::sort_positions(&mut candidates, &|a, b| experiences[b].priority.total_cmp(&experiences[a].priority));
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
        let mut tried = Vec::new();
        for &i in &candidates {
            let t = self.candidate(i);
            let e = &self.rules.experiences[i];
            match t.verdict {
                Verdict::Shown { variant, sticky } => {
                    let v = &e.variants[variant];
                    d.experience = Some(e.id.clone());
                    d.variant = Some(v.id.clone());
                    d.content = v.content.clone();
                    d.sticky = sticky;
                    self.shown.set(self.shown.get() + 1);
                }
                Verdict::Holdout => {
                    d.experience = Some(e.id.clone());
                    d.holdout = true;
                }
                _ => {}
            }
            tried.push(t);
            if d.experience.is_some() {
                break;
            }
        }
        (d, SlotFacts { candidates, tried })
    }
}

/// The slots the experiences name, in order of first appearance, each with its
/// experiences in document order: one sort, so a thousand slots cost no more than
/// n log n comparisons (a scan of every experience per slot would be n²).
pub(crate) fn slots(experiences: &[Experience]) -> Vec<(&str, Vec<usize>)> {
    let mut order: Vec<usize> = (0..experiences.len()).collect();
    // Stable: within a slot, document order.
    crate::rules::sort_positions(&mut order, &|a, b| experiences[a].slot.cmp(&experiences[b].slot));
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some((slot, list)) if *slot == experiences[i].slot => list.push(i),
            _ => groups.push((&experiences[i].slot, vec![i])),
        }
    }
    let mut by_first: Vec<usize> = (0..groups.len()).collect();
    crate::rules::sort_positions(&mut by_first, &|a, b| groups[a].1[0].cmp(&groups[b].1[0]));
    let mut taken: Vec<Option<(&str, Vec<usize>)>> = groups.into_iter().map(Some).collect();
    by_first.into_iter().filter_map(|g| taken[g].take()).collect()
}

enum ScheduleState {
    NotStarted(f64),
    Ended(f64),
    Running,
}

fn schedule_state(e: &Experience, now: f64) -> ScheduleState {
    match (e.schedule.start, e.schedule.end) {
        (Some(t), _) if now < t => ScheduleState::NotStarted(t),
        (_, Some(t)) if now >= t => ScheduleState::Ended(t),
        _ => ScheduleState::Running,
    }
}

/// Whether a cap stops the experience: its lifetime, its own cap or the global cap.
fn is_capped(rules: &Rules, e: &Experience, f: &CapFacts, now: f64) -> bool {
    let lifetime_over = matches!((e.lifetime, f.first), (Some(l), Some(first)) if now >= first + l);
    lifetime_over || e.cap.as_ref().is_some_and(|c| f.cap >= c.impressions) || rules.caps.as_ref().is_some_and(|c| f.global >= c.impressions)
}

/// GrowthBook bucketing with the holdout first (see the module docs); fills `alloc`
/// with what was computed when given one.
/// GrowthBook's namespace check, before any assignment (a sticky one included): `None`
/// when the experience has no namespace or the visitor is in its share; else why not.
fn namespace_verdict(e: &Experience, unit: &str, alloc: Option<&mut Map>) -> Option<Verdict> {
    let ns = e.namespace.as_ref()?;
    let position = (!unit.is_empty()).then(|| namespace_position(unit, &ns.id));
    let inside = position.is_some_and(|n| n >= ns.start && n < ns.end);
    if let Some(a) = alloc {
        let range = Value::Array(vec![ns.start.into(), ns.end.into()]);
        a.insert("namespace", obj(vec![("id", ns.id.as_str().into()), ("range", range), ("position", position.map_or(Value::Null, Value::from)), ("inNamespace", inside.into())]));
    }
    match position {
        None => Some(Verdict::NoUnit),
        Some(_) if !inside => Some(Verdict::NotInNamespace),
        Some(_) => None,
    }
}

fn allocate(e: &Experience, unit: &str, mut alloc: Option<&mut Map>) -> Verdict {
    let seed = e.seed.as_deref().unwrap_or(&e.id);
    if let Some(a) = alloc.as_deref_mut() {
        a.insert("sticky", false.into());
        a.insert("seed", seed.into());
        a.insert("hashVersion", (e.hash_version as f64).into());
    }
    // One variant for everyone in the audience is personalization, not an
    // experiment: it needs no allocation identity.
    if e.variants.len() == 1 && e.holdout <= 0.0 && e.coverage >= 1.0 {
        if let Some(a) = alloc {
            a.insert("variant", e.variants[0].id.as_str().into());
        }
        return Verdict::Shown { variant: 0, sticky: false };
    }
    if unit.is_empty() {
        return Verdict::NoUnit;
    }
    let Some(n) = hash(seed, unit, e.hash_version) else { return Verdict::BadHash };
    if e.holdout > 0.0 {
        let mut hseed = String::with_capacity(seed.len() + 8);
        hseed.push_str(seed);
        hseed.push_str(":holdout");
        let h = hash(&hseed, unit, 2).unwrap_or(1.0);
        if let Some(a) = alloc.as_deref_mut() {
            a.insert("holdout", e.holdout.into());
            a.insert("holdoutBucket", h.into());
            a.insert("inHoldout", (h < e.holdout).into());
        }
        if h < e.holdout {
            return Verdict::Holdout;
        }
    }
    let weights: Option<Vec<f64>> = e.variants.iter().map(|v| v.weight).collect();
    let ranges = get_bucket_ranges(e.variants.len() as i32, Some(e.coverage), weights.as_deref());
    let idx = choose_variation(n, &ranges);
    if let Some(a) = alloc.as_deref_mut() {
        a.insert("bucket", n.into());
        a.insert("coverage", e.coverage.into());
        a.insert("ranges", Value::Array(ranges.iter().map(|&(a, b)| Value::Array(vec![a.into(), b.into()])).collect()));
    }
    if idx < 0 {
        return Verdict::OutOfCoverage;
    }
    if let Some(a) = alloc {
        a.insert("variant", e.variants[idx as usize].id.as_str().into());
    }
    Verdict::Shown { variant: idx as usize, sticky: false }
}

impl Round {
    /// The decisions, one per slot in order of first appearance, without `summary`
    /// and `explanation` (empty and null).
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The decisions with `summary` and `explanation` filled in (what [`decide_all`]
    /// returns).
    pub fn explained(mut self, rules: &Rules) -> Vec<Decision> {
        for i in 0..self.decisions.len() {
            let (summary, explanation) = self.explain(rules, i);
            self.decisions[i].summary = summary;
            self.decisions[i].explanation = explanation;
        }
        self.decisions
    }

    /// The one-line summary of slot `i`'s decision (see [`Decision::summary`]).
    pub fn summary(&self, rules: &Rules, i: usize) -> String {
        self.explain(rules, i).0
    }

    /// The explanation of slot `i`'s decision (see [`decide_all`]); `Null` for an
    /// index out of range.
    pub fn explanation(&self, rules: &Rules, i: usize) -> Value {
        self.explain(rules, i).1
    }

    fn clause_value(&self, c: &Clause, f: &ClauseFact) -> Value {
        let seen = match &f.seen {
            Seen::Count(n) => obj(vec![("count", (*n).into())]),
            Seen::Since(Some(t)) => obj(vec![("last", date(*t)), ("elapsedHours", (((self.now - t) / 36_000.0).round() / 100.0).into())]),
            Seen::Since(None) => obj(vec![("last", Value::Null)]),
            Seen::Scenario(m) => {
                let seq = m.sequence.map_or((Value::Null, Value::Null), |(a, b)| (date(a), date(b)));
                obj(vec![("started", seq.0), ("completed", seq.1), ("excludedBy", m.excluded_at.map_or(Value::Null, date))])
            }
            Seen::Audience(ok) => (*ok).into(),
            Seen::Attribute(v) => v.clone().unwrap_or(Value::Null),
            Seen::Nothing => Value::Null,
        };
        obj(vec![("path", c.path().into()), ("label", c.label().into()), ("passed", f.passed.into()), ("seen", seen)])
    }

    /// The audience stage: (explanation, labels of the clauses that failed).
    fn audience_value<'r>(&self, rules: &'r Rules, e: &'r Experience, facts: &AudienceFacts) -> (Value, Vec<String>) {
        let explain = |a: &'r Audience, ok: bool, list: &[ClauseFact]| {
            let conds = a.clauses.iter().zip(list).map(|(c, f)| self.clause_value(c, f)).collect();
            let failed = a.clauses.iter().zip(list).filter(|(_, f)| !f.passed).map(|(c, _)| c.label()).collect();
            let name = if a.name.is_empty() { Value::Null } else { a.name.as_str().into() };
            (obj(vec![("name", name), ("passed", ok.into()), ("conditions", Value::Array(conds))]), failed)
        };
        match (facts, &e.audience) {
            (AudienceFacts::Inline(list), Some(AudienceRef::Inline(a))) => explain(a, list.iter().all(|f| f.passed), list),
            (AudienceFacts::Named(i), _) => match self.named.get(*i).and_then(Option::as_ref) {
                Some((ok, list)) => explain(&rules.audiences[*i], *ok, list),
                None => (Value::Null, Vec::new()),
            },
            (AudienceFacts::Unknown, Some(AudienceRef::Named(n))) => (obj(vec![("name", n.as_str().into()), ("passed", false.into())]), vec![n.clone()]),
            _ => (obj(vec![("name", Value::Null), ("passed", true.into()), ("conditions", Value::Array(Vec::new()))]), Vec::new()),
        }
    }

    /// The stages a tried candidate reached, into `m`; returns the outcome and reason.
    fn candidate_value(&self, rules: &Rules, t: &Tried, m: &mut Map) -> (&'static str, String) {
        let e = &rules.experiences[t.exp];
        let now = self.now;
        let (aud, failed) = self.audience_value(rules, e, &t.audience);
        m.insert("audience", aud);
        if t.verdict == Verdict::Audience {
            return ("excluded", format!("audience did not match ({})", failed.join(", ")));
        }

        let s = &e.schedule;
        let (state, why) = match schedule_state(e, now) {
            ScheduleState::NotStarted(t) => ("not started", Some(format!("not started (starts {})", format_date_time(t)))),
            ScheduleState::Ended(t) => ("ended", Some(format!("ended ({})", format_date_time(t)))),
            ScheduleState::Running => ("running", None),
        };
        m.insert("schedule", obj(vec![("state", state.into()), ("start", s.start.map_or(Value::Null, date)), ("end", s.end.map_or(Value::Null, date))]));
        if let Some(why) = why {
            return ("excluded", why);
        }

        let mut caps = Map::new();
        let mut capped: Option<String> = None;
        match (self.has_profile, &t.caps) {
            (true, Some(f)) => {
                caps.insert("checked", true.into());
                if let Some(l) = e.lifetime {
                    let over = f.first.is_some_and(|first| now >= first + l);
                    if let (true, Some(first)) = (over, f.first) {
                        capped = Some(format!("lifetime over (first seen {}, shown for {}h)", format_date_time(first), crate::json::plain_number(l / 3_600_000.0)));
                    }
                    let ends = f.first.map_or(Value::Null, |first| date(first + l));
                    caps.insert("lifetime", obj(vec![("firstSeen", f.first.map_or(Value::Null, date)), ("endsAt", ends), ("over", over.into())]));
                }
                if let Some(c) = &e.cap {
                    let reached = f.cap >= c.impressions;
                    if reached && capped.is_none() {
                        capped = Some(format!("cap reached ({} of {} impressions in {})", f.cap, c.impressions, c.per_text));
                    }
                    caps.insert("cap", cap_value(f.cap, c, reached));
                }
                if let Some(c) = &rules.caps {
                    let reached = f.global >= c.impressions;
                    if reached && capped.is_none() {
                        capped = Some(format!("global cap reached ({} of {} impressions in {})", f.global, c.impressions, c.per_text));
                    }
                    caps.insert("global", cap_value(f.global, c, reached));
                }
            }
            _ => {
                caps.insert("checked", false.into());
                caps.insert("reason", "no profile: caps and lifetimes need the personalization purpose".into());
            }
        }
        m.insert("caps", Value::Object(caps));
        if let Some(why) = capped {
            return ("excluded", why);
        }

        let mut alloc = Map::new();
        let outside = namespace_verdict(e, &self.unit, Some(&mut alloc));
        let verdict = match t.verdict {
            _ if outside.is_some() => t.verdict,
            Verdict::Shown { variant, sticky: true } => {
                alloc.insert("sticky", true.into());
                alloc.insert("variant", e.variants[variant].id.as_str().into());
                t.verdict
            }
            _ => allocate(e, &self.unit, Some(&mut alloc)),
        };
        m.insert("allocation", Value::Object(alloc));
        match verdict {
            Verdict::Shown { variant, sticky } => ("shown", format!("variant \"{}\"{}", e.variants[variant].id, if sticky { " (sticky assignment)" } else { "" })),
            Verdict::Holdout => ("holdout", format!("held out ({}% of the audience keeps the default content)", crate::json::plain_number(e.holdout * 100.0))),
            Verdict::NoUnit => ("excluded", "not enrolled in experiments (automated browser, or no allocation id)".into()),
            Verdict::BadHash => ("excluded", format!("hash version {} is not supported", e.hash_version)),
            Verdict::NotInNamespace => {
                let ns = e.namespace.as_ref().map_or((String::new(), 0.0, 0.0), |n| (n.id.clone(), n.start, n.end));
                let at = crate::json::plain_number(namespace_position(&self.unit, &ns.0));
                let (a, b) = (crate::json::plain_number(ns.1), crate::json::plain_number(ns.2));
                ("excluded", format!("excluded by namespace \"{}\": this visitor is at {at}, outside this experiment's share [{a}, {b}) (mutual exclusion)", ns.0))
            }
            _ => {
                let n = hash(e.seed.as_deref().unwrap_or(&e.id), &self.unit, e.hash_version).unwrap_or(f64::NAN);
                ("excluded", format!("not enrolled (bucket {} is outside the coverage ranges)", crate::json::plain_number(n)))
            }
        }
    }

    /// Slot `i`'s summary and explanation.
    fn explain(&self, rules: &Rules, i: usize) -> (String, Value) {
        let (Some(d), Some(facts)) = (self.decisions.get(i), self.slots.get(i)) else { return (String::new(), Value::Null) };
        let slot = d.slot.as_str();
        let mut passed_over: Vec<String> = Vec::new();
        let mut list = Vec::with_capacity(facts.candidates.len());
        for (k, &exp) in facts.candidates.iter().enumerate() {
            let e = &rules.experiences[exp];
            let mut m = Map::new();
            m.insert("experience", e.id.as_str().into());
            m.insert("priority", e.priority.into());
            let Some(t) = facts.tried.get(k) else {
                let w = d.experience.as_deref().unwrap_or_default();
                m.insert("outcome", "outranked".into());
                m.insert("reason", format!("\"{w}\" won the slot first").into());
                list.push(Value::Object(m));
                continue;
            };
            m.insert("outcome", Value::Null);
            m.insert("reason", Value::Null);
            let (outcome, reason) = self.candidate_value(rules, t, &mut m);
            if outcome == "excluded" {
                passed_over.push(format!("\"{}\": {reason}", e.id));
            }
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
        let explanation = obj(vec![
            ("slot", slot.into()),
            ("experience", opt(&d.experience)),
            ("variant", opt(&d.variant)),
            ("holdout", d.holdout.into()),
            ("sticky", d.sticky.into()),
            ("now", date(self.now)),
            ("profile", self.has_profile.into()),
            ("candidates", Value::Array(list)),
        ]);
        (summary, explanation)
    }
}

fn cap_value(seen: u32, cap: &Cap, reached: bool) -> Value {
    obj(vec![("impressions", (seen as f64).into()), ("limit", (cap.impressions as f64).into()), ("per", cap.per_text.as_str().into()), ("reached", reached.into())])
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
///
/// This is [`decide_round`] with every explanation built at once; a caller that
/// shows explanations only on request should keep the [`Round`] instead.
pub fn decide_all(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, host: &dyn Host) -> Vec<Decision> {
    decide_view(rules, context, profile, unit_id, now_ms, now_ms, host)
}

/// [`decide_all`] during a page view that started at `view_start_ms` (at most
/// `now_ms`): impressions recorded from then on belong to this page view and do not
/// count towards caps, so re-deciding (after the profile or the consent changed) keeps
/// what the page view counted instead of capping it on the spot.
pub fn decide_view(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, view_start_ms: f64, host: &dyn Host) -> Vec<Decision> {
    decide_round_view(rules, context, profile, unit_id, now_ms, view_start_ms, host).explained(rules)
}

/// Decides every slot like [`decide_all`], building no summary or explanation: the
/// [`Round`] keeps the facts to build them later (`Round::summary`,
/// `Round::explanation`) with the same `rules`.
pub fn decide_round(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, host: &dyn Host) -> Round {
    decide_round_view(rules, context, profile, unit_id, now_ms, now_ms, host)
}

/// [`decide_round`] during a page view that started at `view_start_ms` (see
/// [`decide_view`]).
pub fn decide_round_view(rules: &Rules, context: &Value, profile: Option<&Profile>, unit_id: &str, now_ms: f64, view_start_ms: f64, host: &dyn Host) -> Round {
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
        depth: Cell::new(0),
        by_name: RefCell::new(Vec::new()),
    };
    let (decisions, facts) = slots(&rules.experiences).into_iter().map(|(slot, candidates)| ctx.decide_slot(slot, candidates)).unzip();
    Round { decisions, slots: facts, named: ctx.explained.into_inner(), now: now_ms, unit: unit_id.into(), has_profile: profile.is_some() }
}

#[cfg(test)]
mod tests;
