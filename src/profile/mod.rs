//! The behavioural profile kept on the device (only under the `personalization`
//! purpose): recent events in a bounded ring, older ones folded into rollups so they
//! are summarised rather than lost, visits and page views, impressions for caps and
//! lifetimes, and sticky variant assignments.
//!
//! Size is bounded by construction: the ring holds at most [`RING_CAPACITY`] events;
//! rollups coarsen with age (daily for 5 weeks, then weekly until 17 weeks, then
//! 4-weekly) and keep at most [`MAX_COMBOS`] distinct property combinations each; and
//! [`Profile::prune`] enforces a byte budget on the serialized form by folding raw
//! events, then dropping old property detail, then old rollups.
//!
//! All times are milliseconds since the epoch, passed in by the caller.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::host::{Host, PlainHost};
use crate::json::{self, Map, Value};
use crate::rules::document::{Rules, MAX_CAP_IMPRESSIONS};
use crate::rules::hash::fnv1a32;
use crate::rules::time::{day_number, iso_week, DAY_MS};
// The rollup spans by age: the first-decision module's, which coarsens stored rollups
// as loading does.
use tailor_first::profile::span_for;

/// Raw events kept before the oldest are folded into rollups (the first-decision
/// module's, which knows when a page view would fold one).
pub use tailor_first::profile::RING_CAPACITY;
/// Default byte budget of the serialized profile (under 64 KiB with room to spare;
/// the first-decision module's, which leaves a longer profile to the full engine).
pub use tailor_first::profile::BYTE_BUDGET;
/// Inactivity that ends a visit (the first-decision module's, so both stages count visits alike).
pub use tailor_first::profile::VISIT_GAP_MS;
/// Distinct property combinations a rollup counts separately.
pub const MAX_COMBOS: usize = 8;
/// The event name page views are recorded under when the rules declare it.
pub const PAGE_VIEW_EVENT: &str = "page_view";

/// How many distinct property objects are remembered for sharing (most recent first).
const SHARED_PROPS: usize = 16;

/// The property objects most recently recorded, for [`Profile::share`]. Only a memory
/// and speed aid: not stored, and two profiles are equal whatever they hold here.
#[derive(Debug, Clone, Default)]
struct SharedProps(Vec<Rc<Value>>);

impl PartialEq for SharedProps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Raw events kept however tight the byte budget, as long as rollups can give way.
const RING_FLOOR: usize = 200;
const FORMAT_VERSION: f64 = 1.0;
const MAGIC: &str = "tp1:";
/// The largest time an ECMAScript `Date` holds (ms from the epoch, either way), and the
/// same in days: a stored time beyond it was not written by Tailor.
const MAX_TIME_MS: f64 = 8.64e15;
const MAX_DAY: i64 = 100_000_000;

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Index into [`Profile::names`].
    pub name: u32,
    /// When it happened (ms since the epoch).
    pub time: f64,
    /// The kept properties: always an object. Shared with recent events whose kept
    /// properties are equal (see [`Profile::record_event`]), which saves memory and
    /// lets a round of decisions test each distinct property object once.
    pub props: Rc<Value>,
}

/// Counts of one event name over a run of days.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    /// First day covered (days since 1970-01-01, UTC), a multiple of `span`.
    pub day: i64,
    /// Days covered: 1, 7 or 28.
    pub span: i64,
    /// Index into [`Profile::names`].
    pub name: u32,
    /// Occurrences.
    pub count: u32,
    /// Occurrences per distinct property object, for the first [`MAX_COMBOS`]
    /// combinations seen; `count` minus their sum is untracked detail.
    pub combos: Vec<(Value, u32)>,
}

impl Rollup {
    /// The first instant after the rollup (ms).
    pub fn end_ms(&self) -> f64 {
        (self.day + self.span) as f64 * DAY_MS
    }
    /// The first instant of the rollup (ms).
    pub fn start_ms(&self) -> f64 {
        self.day as f64 * DAY_MS
    }
}

/// When a visitor saw one experience.
#[derive(Debug, Clone, PartialEq)]
pub struct Impressions {
    /// The experience id.
    pub experience: String,
    /// First impression ever (for lifetimes).
    pub first: f64,
    /// The most recent impressions, oldest first, at most [`MAX_CAP_IMPRESSIONS`].
    pub recent: Vec<f64>,
}

/// Why a stored profile could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileError {
    /// What was wrong, e.g. "checksum mismatch".
    pub message: String,
}

impl core::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "not a Tailor profile: {}", self.message)
    }
}

fn err<T>(message: &str) -> Result<T, ProfileError> {
    Err(ProfileError { message: message.into() })
}

/// A visitor's on-device behavioural profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    first_seen: Option<f64>,
    last_active: Option<f64>,
    visits: u32,
    pageviews: u32,
    names: Vec<String>,
    events: VecDeque<Event>,
    rollups: Vec<Rollup>,
    impressions: Vec<Impressions>,
    assignments: Vec<(String, String)>,
    capacity: usize,
    shared: SharedProps,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::new()
    }
}

/// Adds `n` occurrences of `props` to a combination list, within [`MAX_COMBOS`].
fn add_combo(combos: &mut Vec<(Value, u32)>, props: &Value, n: u32) {
    if props.as_object().map_or(true, Map::is_empty) {
        return;
    }
    if let Some(c) = combos.iter_mut().find(|c| c.0 == *props) {
        c.1 += n;
    } else if combos.len() < MAX_COMBOS {
        combos.push((props.clone(), n));
    }
}

impl Profile {
    /// An empty profile (nothing seen yet).
    pub fn new() -> Profile {
        Profile {
            first_seen: None,
            last_active: None,
            visits: 0,
            pageviews: 0,
            names: Vec::new(),
            events: VecDeque::new(),
            rollups: Vec::new(),
            impressions: Vec::new(),
            assignments: Vec::new(),
            capacity: RING_CAPACITY,
            shared: SharedProps::default(),
        }
    }

    /// Changes how many raw events the ring keeps (default [`RING_CAPACITY`]); extra
    /// events are folded into rollups at once. Not stored: set it after [`Self::parse`].
    pub fn set_ring_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.events.len() > self.capacity {
            self.fold_oldest();
        }
    }

    /// Visits so far: a visit ends after [`VISIT_GAP_MS`] without activity.
    pub fn visits(&self) -> u32 {
        self.visits
    }
    /// Page views so far.
    pub fn pageviews(&self) -> u32 {
        self.pageviews
    }
    /// First activity (ms), if any.
    pub fn first_seen(&self) -> Option<f64> {
        self.first_seen
    }
    /// The ISO week of the first visit, e.g. `"2026-W47"`.
    pub fn cohort(&self) -> Option<String> {
        self.first_seen.map(iso_week)
    }
    /// Whole days since the first visit.
    pub fn first_seen_days(&self, now_ms: f64) -> Option<f64> {
        self.first_seen.map(|f| ((now_ms - f) / DAY_MS).floor().max(0.0))
    }
    /// Interned event names; [`Event::name`] and [`Rollup::name`] index into it.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// The index of event name `name`, if it was ever recorded.
    pub fn name_id(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }
    /// Raw events, oldest first (ties keep recording order).
    pub fn events(&self) -> &VecDeque<Event> {
        &self.events
    }
    /// Rollups of older events, ordered by day then name.
    pub fn rollups(&self) -> &[Rollup] {
        &self.rollups
    }
    /// Impressions of `experience`.
    pub fn impressions(&self, experience: &str) -> Option<&Impressions> {
        self.impressions.iter().find(|i| i.experience == experience)
    }
    /// Impressions after `from_ms` (exclusive) of one experience, or of all of them.
    pub fn impressions_after(&self, experience: Option<&str>, from_ms: f64) -> u32 {
        self.impressions
            .iter()
            .filter(|i| experience.map_or(true, |e| e == i.experience))
            .map(|i| i.recent.iter().rev().take_while(|&&t| t > from_ms).count() as u32)
            .sum()
    }
    /// Impressions strictly between `from_ms` and `until_ms` of one experience, or of all
    /// of them: caps re-evaluated during a page view leave out that page view's own
    /// impressions (those at or after `until_ms`, when it started).
    pub fn impressions_between(&self, experience: Option<&str>, from_ms: f64, until_ms: f64) -> u32 {
        self.impressions
            .iter()
            .filter(|i| experience.map_or(true, |e| e == i.experience))
            .map(|i| i.recent.iter().filter(|&&t| t > from_ms && t < until_ms).count() as u32)
            .sum()
    }
    /// The variant this visitor was assigned in `experience`, if any.
    pub fn assignment(&self, experience: &str) -> Option<&str> {
        self.assignments.iter().find(|(e, _)| e == experience).map(|(_, v)| v.as_str())
    }

    /// Profile attributes as conditions see them: `visits`, `pageviews`, `cohort`,
    /// `first_seen_days` (the last two only once something was recorded).
    pub fn attributes(&self, now_ms: f64) -> Vec<(String, Value)> {
        let mut out = vec![("visits".into(), (self.visits as f64).into()), ("pageviews".into(), (self.pageviews as f64).into())];
        if let (Some(c), Some(d)) = (self.cohort(), self.first_seen_days(now_ms)) {
            out.push(("cohort".into(), c.into()));
            out.push(("first_seen_days".into(), d.into()));
        }
        out
    }

    /// Counts occurrences of `name` at or after `from_ms`, raw events and rollups
    /// together (a rollup counts whole when any part of it is in the window).
    pub fn count(&self, name: &str, from_ms: f64) -> u64 {
        let Some(id) = self.name_id(name) else { return 0 };
        let raw = self.events.iter().filter(|e| e.name == id && e.time >= from_ms).count() as u64;
        raw + self.rollups.iter().filter(|r| r.name == id && r.end_ms() > from_ms).map(|r| r.count as u64).sum::<u64>()
    }

    fn touch(&mut self, now_ms: f64) {
        if self.first_seen.is_none() {
            self.first_seen = Some(now_ms);
        }
        match self.last_active {
            Some(last) if now_ms - last <= VISIT_GAP_MS && now_ms >= last - VISIT_GAP_MS => {}
            _ => self.visits += 1,
        }
        self.last_active = Some(self.last_active.map_or(now_ms, |l| l.max(now_ms)));
    }

    fn intern(&mut self, name: &str) -> u32 {
        match self.name_id(name) {
            Some(i) => i,
            None => {
                self.names.push(name.into());
                (self.names.len() - 1) as u32
            }
        }
    }

    /// Records event `name` if the rules declare it, keeping only the properties listed
    /// under its `keep`. Any activity more than [`VISIT_GAP_MS`] after the previous one
    /// starts a new visit. Returns whether the event was stored.
    pub fn record_event(&mut self, rules: &Rules, name: &str, properties: &Value, now_ms: f64) -> bool {
        let Some(spec) = rules.event(name) else { return false };
        let mut props = Map::new();
        if let Some(m) = properties.as_object() {
            for k in &spec.keep {
                if let Some(v) = m.get(k) {
                    props.insert(k.clone(), v.clone());
                }
            }
        }
        self.store_event(name, props, now_ms);
        true
    }

    /// [`Self::record_event`] for properties the caller no longer needs: kept values
    /// are moved, not copied (the page runtime's path, one call per tracked event).
    pub fn record_event_owned(&mut self, rules: &Rules, name: &str, properties: Value, now_ms: f64) -> bool {
        let Some(spec) = rules.event(name) else { return false };
        let mut props = Map::new();
        if let Value::Object(Map(mut entries)) = properties {
            for k in &spec.keep {
                // The last entry wins, as in JSON.parse and Map::get.
                if let Some(i) = entries.iter().rposition(|(key, _)| key == k) {
                    let (key, v) = entries.swap_remove(i);
                    entries.retain(|(other, _)| *other != key);
                    props.insert(key, v);
                }
            }
        }
        self.store_event(name, props, now_ms);
        true
    }

    fn store_event(&mut self, name: &str, props: Map, now_ms: f64) {
        let now_ms = now_ms.round();
        self.touch(now_ms);
        let id = self.intern(name);
        let props = self.share(Value::Object(props));
        // Keep the ring sorted by time even if a late event arrives; equal times keep
        // recording order, which scenarios rely on.
        if self.events.back().map_or(true, |e| e.time <= now_ms) {
            self.events.push_back(Event { name: id, time: now_ms, props });
        } else {
            let at = self.events.partition_point(|e| e.time <= now_ms);
            self.events.insert(at, Event { name: id, time: now_ms, props });
        }
        while self.events.len() > self.capacity {
            self.fold_oldest();
        }
    }

    /// `props` as a shared value: an equal one recorded recently (events mostly
    /// repeat a few property combinations), else a new one.
    fn share(&mut self, props: Value) -> Rc<Value> {
        let list = &mut self.shared.0;
        let rc = match list.iter().position(|p| **p == props) {
            Some(0) => return Rc::clone(&list[0]),
            Some(i) => list.remove(i),
            None => Rc::new(props),
        };
        list.insert(0, Rc::clone(&rc));
        list.truncate(SHARED_PROPS);
        rc
    }

    /// Records a page view: counts it, updates visits, and records a
    /// [`PAGE_VIEW_EVENT`] event too when the rules declare one.
    pub fn record_page_view(&mut self, rules: &Rules, properties: &Value, now_ms: f64) {
        self.pageviews += 1;
        if !self.record_event(rules, PAGE_VIEW_EVENT, properties, now_ms) {
            self.touch(now_ms.round());
        }
    }

    /// Records that the visitor was shown `variant` of `experience`: feeds caps and
    /// lifetimes and makes the assignment sticky.
    pub fn record_impression(&mut self, experience: &str, variant: &str, now_ms: f64) {
        let now_ms = now_ms.round();
        match self.impressions.iter_mut().find(|i| i.experience == experience) {
            Some(i) => {
                i.first = i.first.min(now_ms);
                let at = i.recent.partition_point(|&t| t <= now_ms);
                i.recent.insert(at, now_ms);
                if i.recent.len() > MAX_CAP_IMPRESSIONS as usize {
                    i.recent.remove(0);
                }
            }
            None => self.impressions.push(Impressions { experience: experience.into(), first: now_ms, recent: vec![now_ms] }),
        }
        match self.assignments.iter_mut().find(|(e, _)| e == experience) {
            Some(a) => a.1 = variant.into(),
            None => self.assignments.push((experience.into(), variant.into())),
        }
    }

    fn fold_oldest(&mut self) {
        let Some(e) = self.events.pop_front() else { return };
        let day = day_number(e.time);
        let at = self.rollups.partition_point(|r| (r.day, r.name) < (day - day.rem_euclid(28), 0));
        let found = self.rollups[at..]
            .iter()
            .take_while(|r| r.day <= day)
            .position(|r| r.name == e.name && r.day <= day && day < r.day + r.span);
        match found {
            Some(i) => {
                let r = &mut self.rollups[at + i];
                r.count += 1;
                add_combo(&mut r.combos, &e.props, 1);
            }
            None => {
                let mut combos = Vec::new();
                add_combo(&mut combos, &e.props, 1);
                let at = self.rollups.partition_point(|r| (r.day, r.name) < (day, e.name));
                self.rollups.insert(at, Rollup { day, span: 1, name: e.name, count: 1, combos });
            }
        }
    }

    /// Coarsens rollups as they age (see the module docs).
    fn coarsen(&mut self, today: i64) {
        if self.rollups.iter().all(|r| span_for(r.day, today) == r.span) {
            return;
        }
        let mut merged: Vec<Rollup> = Vec::with_capacity(self.rollups.len());
        let mut old = std::mem::take(&mut self.rollups);
        for r in &mut old {
            let span = span_for(r.day, today).max(r.span);
            r.day -= r.day.rem_euclid(span);
            r.span = span;
        }
        // By (day, name), stably, through the core's one sort (see `sort_positions`).
        let mut order: Vec<usize> = (0..old.len()).collect();
        crate::rules::sort_positions(&mut order, &|a, b| (old[a].day, old[a].name).cmp(&(old[b].day, old[b].name)));
        let mut slots: Vec<Option<Rollup>> = old.into_iter().map(Some).collect();
        for r in order.into_iter().filter_map(|i| slots[i].take()) {
            match merged.last_mut() {
                Some(m) if m.day == r.day && m.name == r.name && m.span == r.span => {
                    m.count += r.count;
                    for (p, n) in &r.combos {
                        add_combo(&mut m.combos, p, *n);
                    }
                }
                _ => merged.push(r),
            }
        }
        self.rollups = merged;
    }

    /// Applies the rules' data policy and the byte budget:
    /// - events the rules no longer declare are forgotten, and each event's
    ///   `retention` drops raw events and whole rollups older than it;
    /// - rollups coarsen with age;
    /// - impressions of experiences no longer in the rules are forgotten, and recent
    ///   impression times older than every cap window are dropped (the first
    ///   impression is kept for lifetimes);
    /// - while the serialized size exceeds `max_bytes`: fold raw events into rollups
    ///   down to 200, then drop property detail from the oldest rollups, then fold
    ///   the remaining raw events, then drop the oldest rollups.
    ///
    /// The size is measured as [`Self::serialize`] writes it; a caller that stores
    /// [`Self::serialize_with`] another host must prune with [`Self::prune_with`].
    pub fn prune(&mut self, rules: &Rules, now_ms: f64, max_bytes: usize) {
        self.prune_with(rules, now_ms, max_bytes, &PlainHost);
    }

    /// [`Self::prune`], measuring the size as [`Self::serialize_with`] `host` writes it:
    /// the browser's `String(n)` writes up to 17 significant digits where the plain
    /// formatter writes six decimals, so the byte budget holds for what is stored.
    pub fn prune_with(&mut self, rules: &Rules, now_ms: f64, max_bytes: usize, host: &dyn Host) -> String {
        self.forget_expired(rules, now_ms);
        self.fit_with(max_bytes, host)
    }

    /// The data-policy half of [`Self::prune`], without the byte budget: what the
    /// rules no longer declare or keep, coarsened rollups, stale impressions. It only
    /// ever removes, so a profile read from text within the budget stays within it.
    pub fn forget_expired(&mut self, rules: &Rules, now_ms: f64) {
        let keep: Vec<Option<f64>> = self
            .names
            .iter()
            .map(|n| match rules.event(n) {
                None => Some(f64::NEG_INFINITY),
                Some(spec) => spec.retention,
            })
            .collect();
        let too_old = |name: u32, t: f64| keep[name as usize].is_some_and(|r| now_ms - t > r);
        self.events.retain(|e| !too_old(e.name, e.time));
        self.rollups.retain(|r| !too_old(r.name, r.end_ms()));
        self.coarsen(day_number(now_ms));
        self.compact_names();

        let longest = rules.experiences.iter().filter_map(|e| e.cap.as_ref().map(|c| c.per)).chain(rules.caps.iter().map(|c| c.per)).fold(0.0, f64::max);
        self.impressions.retain(|i| rules.experiences.iter().any(|e| e.id == i.experience));
        for i in &mut self.impressions {
            i.recent.retain(|&t| now_ms - t < longest);
        }
        self.assignments.retain(|(e, _)| rules.experiences.iter().any(|x| &x.id == e));
    }

    /// The byte-budget half of [`Self::prune`]: folds and drops the oldest detail
    /// until [`Self::serialize_with`] `host` fits in `max_bytes`; returns that text.
    pub fn fit_with(&mut self, max_bytes: usize, host: &dyn Host) -> String {
        loop {
            self.compact_names();
            let text = self.serialize_with(host);
            let size = text.len();
            if size <= max_bytes {
                return text;
            }
            let excess = size - max_bytes;
            if self.events.len() > RING_FLOOR {
                let n = (excess / 24 + 1).min(self.events.len() - RING_FLOOR);
                for _ in 0..n {
                    self.fold_oldest();
                }
            } else if let Some(first) = self.rollups.iter().position(|r| !r.combos.is_empty()) {
                let mut freed = 0;
                for r in self.rollups[first..].iter_mut() {
                    freed += r.combos.len() * 24;
                    r.combos.clear();
                    if freed > excess {
                        break;
                    }
                }
            } else if !self.events.is_empty() {
                for _ in 0..(excess / 24 + 1).min(self.events.len()) {
                    self.fold_oldest();
                }
            } else if !self.rollups.is_empty() {
                let n = (excess / 16 + 1).min(self.rollups.len());
                self.rollups.drain(..n);
            } else {
                return text; // only counters, impressions and assignments left
            }
        }
    }

    /// Drops names nothing refers to any more, renumbering the rest.
    fn compact_names(&mut self) {
        let mut used = vec![false; self.names.len()];
        for e in &self.events {
            used[e.name as usize] = true;
        }
        for r in &self.rollups {
            used[r.name as usize] = true;
        }
        if used.iter().all(|&u| u) {
            return;
        }
        let mut map = vec![0u32; self.names.len()];
        let mut names = Vec::new();
        for (i, n) in std::mem::take(&mut self.names).into_iter().enumerate() {
            if used[i] {
                map[i] = names.len() as u32;
                names.push(n);
            }
        }
        self.names = names;
        for e in &mut self.events {
            e.name = map[e.name as usize];
        }
        for r in &mut self.rollups {
            r.name = map[r.name as usize];
        }
    }

    /// The serialized size in bytes (what storage will hold).
    pub fn size_bytes(&self) -> usize {
        self.serialize().len()
    }

    /// Serializes the profile compactly: `tp1:`, an 8-hex-digit FNV-1a checksum of the
    /// body, `:`, then the body, JSON with short keys: `v` format version, `f` first
    /// seen, `l` last active, `vi` visits, `pv` page views, `n` event names, `e` events
    /// as `[name, Δms, props?]` with times delta-coded, `r` rollups as `[Δday, span,
    /// name, count, [props, n, …]?]`, `i` impressions as `[experience, first,
    /// [Δms…]]`, `a` assignments as `[experience, variant]`.
    ///
    /// Numbers are written by Tailor's host-free formatter (exact for integers, six
    /// decimals otherwise); [`Self::serialize_with`] writes them exactly.
    pub fn serialize(&self) -> String {
        self.serialize_with(&PlainHost)
    }

    /// [`Self::serialize`], formatting numbers with `host` (the browser's `String(n)`):
    /// every kept property value round-trips exactly.
    pub fn serialize_with(&self, host: &dyn Host) -> String {
        let n = |x: f64| Value::Number(x);
        let mut m = Map::new();
        m.insert("v", n(FORMAT_VERSION));
        if let Some(f) = self.first_seen {
            m.insert("f", n(f));
        }
        if let Some(l) = self.last_active {
            m.insert("l", n(l));
        }
        m.insert("vi", n(self.visits as f64));
        m.insert("pv", n(self.pageviews as f64));
        m.insert("n", Value::Array(self.names.iter().map(|s| s.as_str().into()).collect()));
        let mut prev = 0.0;
        let events = self
            .events
            .iter()
            .map(|e| {
                let mut row = vec![n(e.name as f64), n(e.time - prev)];
                prev = e.time;
                if e.props.as_object().is_some_and(|m| !m.is_empty()) {
                    row.push(Value::clone(&e.props));
                }
                Value::Array(row)
            })
            .collect();
        m.insert("e", Value::Array(events));
        let mut prev_day = 0;
        let rollups = self
            .rollups
            .iter()
            .map(|r| {
                let mut row = vec![n((r.day - prev_day) as f64), n(r.span as f64), n(r.name as f64), n(r.count as f64)];
                prev_day = r.day;
                if !r.combos.is_empty() {
                    row.push(Value::Array(r.combos.iter().flat_map(|(p, c)| [p.clone(), n(*c as f64)]).collect()));
                }
                Value::Array(row)
            })
            .collect();
        m.insert("r", Value::Array(rollups));
        let imps = self
            .impressions
            .iter()
            .map(|i| {
                let mut prev = i.first;
                let times = i
                    .recent
                    .iter()
                    .map(|&t| {
                        let d = t - prev;
                        prev = t;
                        n(d)
                    })
                    .collect();
                Value::Array(vec![i.experience.as_str().into(), n(i.first), Value::Array(times)])
            })
            .collect();
        m.insert("i", Value::Array(imps));
        m.insert("a", Value::Array(self.assignments.iter().map(|(e, v)| Value::Array(vec![e.as_str().into(), v.as_str().into()])).collect()));
        let body = Value::Object(m).to_json(host);
        let mut out = String::with_capacity(body.len() + 13);
        out.push_str(MAGIC);
        // The checksum as 8 lowercase hex digits, as `{:08x}` writes it (the tests forge
        // profiles with that format), without the formatting machinery.
        let sum = fnv1a32(&body);
        out.extend((0..8).rev().map(|i| char::from(b"0123456789abcdef"[(sum >> (i * 4)) as usize & 15])));
        out.push(':');
        out.push_str(&body);
        out
    }

    /// Reads a profile written by [`Self::serialize`]. Anything else (another format,
    /// a truncated or edited string, impossible values) is rejected with an error, so
    /// the caller can discard it and start afresh.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        Profile::parse_with(text, &PlainHost)
    }

    /// Reads a stored profile as a page starts: [`Self::parse_with`], then
    /// [`Self::forget_expired`]. The byte budget is applied only when the stored text
    /// exceeds it: forgetting only removes, so text within the budget still fits, and
    /// measuring it would serialize the whole profile on every page load.
    pub fn load_with(text: &str, rules: &Rules, now_ms: f64, max_bytes: usize, host: &dyn Host) -> Result<Profile, ProfileError> {
        let mut p = Profile::parse_with(text, host)?;
        p.forget_expired(rules, now_ms);
        if text.len() > max_bytes {
            p.fit_with(max_bytes, host);
        }
        Ok(p)
    }

    /// [`Self::parse`], converting numbers with `host` (exact, as written by
    /// [`Self::serialize_with`]).
    pub fn parse_with(text: &str, host: &dyn Host) -> Result<Profile, ProfileError> {
        let Some(rest) = text.strip_prefix(MAGIC) else { return err("missing the tp1: header") };
        let (Some(sum), Some(body)) = (rest.get(..8), rest.get(9..)) else { return err("truncated header") };
        if rest.as_bytes().get(8) != Some(&b':') || u32::from_str_radix(sum, 16).ok() != Some(fnv1a32(body)) {
            return err("checksum mismatch");
        }
        let mut v = json::parse_with_host(body, host).map_err(|e| ProfileError { message: e.to_string() })?;
        // The events are moved out, not cloned: their properties become the profile's.
        let rows = match &mut v {
            Value::Object(m) => m.get_mut("e").map(std::mem::take),
            _ => None,
        };
        let Some(m) = v.as_object() else { return err("not an object") };
        for (k, _) in m.iter() {
            if !["v", "f", "l", "vi", "pv", "n", "e", "r", "i", "a"].contains(&k.as_str()) {
                return err("unknown field");
            }
        }
        if m.get("v").and_then(Value::as_f64) != Some(FORMAT_VERSION) {
            return err("unsupported format version");
        }
        let int = |v: Option<&Value>| v.and_then(Value::as_f64).filter(|x| x.fract() == 0.0 && x.is_finite());
        // Every time Tailor writes came from `Date.now()`, within ECMAScript's time
        // range (±8.64e15 ms, ±1e8 days); beyond it day arithmetic would overflow.
        let in_range = |t: f64| t.abs() <= MAX_TIME_MS;
        let time = |v: Option<&Value>| -> Result<Option<f64>, ProfileError> {
            match v {
                None => Ok(None),
                Some(x) => int(Some(x)).filter(|&t| in_range(t)).map(Some).ok_or(ProfileError { message: "bad time".into() }),
            }
        };
        let count = |v: Option<&Value>| int(v).filter(|x| *x >= 0.0 && *x <= u32::MAX as f64).map(|x| x as u32);
        let arr = |k: &str| m.get(k).and_then(Value::as_array).ok_or(ProfileError { message: format!("missing {k}") });
        let mut p = Profile::new();
        p.first_seen = time(m.get("f"))?;
        p.last_active = time(m.get("l"))?;
        p.visits = count(m.get("vi")).ok_or(ProfileError { message: "bad visits".into() })?;
        p.pageviews = count(m.get("pv")).ok_or(ProfileError { message: "bad page views".into() })?;
        for name in arr("n")? {
            match name.as_str() {
                Some(s) if !s.is_empty() => p.names.push(s.into()),
                _ => return err("bad event name"),
            }
        }
        let names = p.names.len() as u32;
        let Some(Value::Array(rows)) = rows else { return err("missing e") };
        let mut prev = 0.0;
        for row in rows {
            let Value::Array(mut r) = row else { return err("bad event") };
            let props = match r.len() {
                2 => Some(Value::Object(Map::new())),
                3 => r.pop().filter(|o| matches!(o, Value::Object(_))),
                _ => None,
            };
            let parsed = props.and_then(|props| Some((count(r.first()).filter(|&i| i < names)?, int(r.get(1)).filter(|&d| d >= 0.0)?, props)));
            let Some((name, delta, props)) = parsed else { return err("bad event") };
            prev += delta;
            if !in_range(prev) {
                return err("bad event");
            }
            let props = p.share(props);
            p.events.push_back(Event { name, time: prev, props });
        }
        let mut day = 0i64;
        for row in arr("r")? {
            let row = row.as_array().filter(|r| r.len() == 4 || r.len() == 5);
            let parsed = row.and_then(|r| {
                // Day numbers stay within ±10^9 (2.7 million years): a stored delta
                // beyond that is corrupt, and summing such deltas could overflow.
                let delta = int(r.first()).filter(|&d| (d >= 0.0 || day == 0) && d.abs() <= 1e9)? as i64;
                let span = count(r.get(1)).filter(|s| [1, 7, 28].contains(s))? as i64;
                let name = count(r.get(2)).filter(|&i| i < names)?;
                let total = count(r.get(3)).filter(|&c| c > 0)?;
                let mut combos = Vec::new();
                if let Some(c) = r.get(4) {
                    let c = c.as_array().filter(|c| c.len() % 2 == 0 && c.len() <= 2 * MAX_COMBOS)?;
                    for pair in c.chunks(2) {
                        combos.push((pair[0].as_object().map(|_| pair[0].clone())?, count(pair.get(1)).filter(|&n| n > 0)?));
                    }
                }
                let tracked: u64 = combos.iter().map(|c| c.1 as u64).sum();
                (tracked <= total as u64).then_some((delta, span, name, total, combos))
            });
            let Some((delta, span, name, total, combos)) = parsed else { return err("bad rollup") };
            day = match day.checked_add(delta) {
                Some(d) if (-MAX_DAY..=MAX_DAY).contains(&d) => d,
                _ => return err("bad rollup"),
            };
            p.rollups.push(Rollup { day, span, name, count: total, combos });
        }
        for row in arr("i")? {
            let row = row.as_array().filter(|r| r.len() == 3);
            let parsed = row.and_then(|r| {
                let exp = r[0].as_str().filter(|s| !s.is_empty())?;
                let first = int(r.get(1)).filter(|&t| in_range(t))?;
                let mut t = first;
                let mut recent = Vec::new();
                for d in r[2].as_array().filter(|a| a.len() <= MAX_CAP_IMPRESSIONS as usize)? {
                    t += int(Some(d)).filter(|&d| d >= 0.0)?;
                    recent.push(Some(t).filter(|&t| in_range(t))?);
                }
                Some(Impressions { experience: exp.into(), first, recent })
            });
            let Some(imp) = parsed else { return err("bad impressions") };
            p.impressions.push(imp);
        }
        for row in arr("a")? {
            let pair = row.as_array().filter(|r| r.len() == 2).and_then(|r| Some((r[0].as_str()?.to_string(), r[1].as_str()?.to_string())));
            let Some(pair) = pair else { return err("bad assignment") };
            p.assignments.push(pair);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rules;
    use crate::rules::time::{days_from_civil, HOUR_MS, MINUTE_MS};

    const T0: f64 = 1_772_323_200_000.0; // 2026-03-01T00:00:00Z, a Sunday

    fn rules() -> Rules {
        parse_rules(
            r#"{"version": 1, "events": {
                "view_item": {"keep": ["category"]},
                "add_to_cart": {"keep": ["category", "price"]},
                "purchase": {"retention": "400d"},
                "page_view": {},
                "search": {"keep": ["q"], "retention": "7d"}},
              "experiences": [{"id": "x", "slot": "s", "cap": {"impressions": 3, "per": "1d"}, "variants": [{"id": "a"}]}]}"#,
        )
        .unwrap()
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(Map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()))
    }

    #[test]
    fn keeps_only_declared_events_and_kept_properties() {
        let r = rules();
        let mut p = Profile::new();
        assert!(p.record_event(&r, "view_item", &obj(&[("category", "shoes".into()), ("email", "a@b.c".into())]), T0));
        assert!(!p.record_event(&r, "secret", &obj(&[]), T0));
        assert_eq!(p.events().len(), 1);
        assert_eq!(*p.events()[0].props, obj(&[("category", "shoes".into())]));
        assert_eq!(p.names(), ["view_item"]);
    }

    #[test]
    fn owned_properties_are_kept_exactly_as_borrowed_ones() {
        let r = rules();
        let (mut a, mut b) = (Profile::new(), Profile::new());
        let cases = [
            r#"{"category": "shoes", "price": 5, "email": "a@b.c"}"#,
            r#"{"price": 1, "category": "hats", "price": 2}"#,
            r#"{"other": 1}"#,
            r#"[1, 2]"#,
            r#"{"category": {"nested": [1]}}"#,
        ];
        for (i, text) in cases.iter().enumerate() {
            let v = crate::json::parse(text).unwrap();
            for name in ["add_to_cart", "view_item", "nope"] {
                let t = T0 + i as f64 * 1000.0;
                assert_eq!(a.record_event(&r, name, &v, t), b.record_event_owned(&r, name, v.clone(), t));
            }
        }
        assert_eq!(a, b);
        assert_eq!(*a.events()[0].props, obj(&[("category", "shoes".into()), ("price", 5.0.into())]));
        assert_eq!(*a.events()[2].props, obj(&[("category", "hats".into()), ("price", 2.0.into())]));
        // Equal kept properties share one object.
        assert!(Rc::ptr_eq(&a.events()[4].props, &a.events()[5].props));
    }

    #[test]
    fn visits_page_views_and_cohort() {
        let r = rules();
        let mut p = Profile::new();
        assert_eq!(p.attributes(T0).len(), 2);
        p.record_page_view(&r, &Value::Null, T0);
        p.record_page_view(&r, &Value::Null, T0 + 29.0 * MINUTE_MS);
        p.record_event(&r, "view_item", &Value::Null, T0 + 58.0 * MINUTE_MS); // still the same visit
        p.record_page_view(&r, &Value::Null, T0 + 89.0 * MINUTE_MS); // 31 min later: a new one
        assert_eq!((p.visits(), p.pageviews()), (2, 3));
        assert_eq!(p.count("page_view", 0.0), 3);
        assert_eq!(p.cohort().as_deref(), Some("2026-W09"));
        assert_eq!(p.first_seen_days(T0 + 2.5 * DAY_MS), Some(2.0));
    }

    #[test]
    fn old_events_are_rolled_up_not_lost() {
        let r = rules();
        let mut p = Profile::new();
        p.set_ring_capacity(10);
        for i in 0..50 {
            let cat = if i % 2 == 0 { "shoes" } else { "hats" };
            p.record_event(&r, "view_item", &obj(&[("category", cat.into())]), T0 + i as f64 * HOUR_MS);
        }
        assert_eq!(p.events().len(), 10);
        assert_eq!(p.count("view_item", 0.0), 50);
        let rolled: u32 = p.rollups().iter().map(|r| r.count).sum();
        assert_eq!(rolled, 40);
        assert_eq!(p.rollups()[0].combos, vec![(obj(&[("category", "shoes".into())]), 12), (obj(&[("category", "hats".into())]), 12)]);
        // Windows: the day of the window start counts whole.
        assert_eq!(p.count("view_item", T0 + 24.0 * HOUR_MS + 1.0), 26);
    }

    #[test]
    fn rollups_coarsen_with_age_without_losing_counts() {
        let r = rules();
        let mut p = Profile::new();
        p.set_ring_capacity(1);
        for d in 0..200 {
            p.record_event(&r, "view_item", &obj(&[("category", "shoes".into())]), T0 + d as f64 * DAY_MS);
        }
        p.prune(&r, T0 + 200.0 * DAY_MS, BYTE_BUDGET);
        assert_eq!(p.count("view_item", 0.0), 200);
        let spans: Vec<i64> = p.rollups().iter().map(|r| r.span).collect();
        assert!(spans.contains(&28) && spans.contains(&7) && spans.contains(&1), "{spans:?}");
        for w in p.rollups().windows(2) {
            assert!(w[0].end_ms() <= w[1].start_ms(), "overlap {:?} {:?}", w[0], w[1]);
            assert_eq!(w[1].day % w[1].span, 0);
        }
        assert!(p.rollups().len() < 60, "{}", p.rollups().len());
    }

    #[test]
    fn retention_and_undeclared_events_are_pruned() {
        let r = rules();
        let mut p = Profile::new();
        p.record_event(&r, "search", &obj(&[("q", "boots".into())]), T0);
        p.record_event(&r, "search", &obj(&[("q", "hats".into())]), T0 + 6.0 * DAY_MS);
        p.record_event(&r, "view_item", &Value::Null, T0);
        p.prune(&r, T0 + 7.5 * DAY_MS, BYTE_BUDGET);
        assert_eq!(p.count("search", 0.0), 1);
        let narrower = parse_rules(r#"{"version": 1, "events": {"search": {"keep": ["q"]}}}"#).unwrap();
        p.prune(&narrower, T0 + 7.5 * DAY_MS, BYTE_BUDGET);
        assert_eq!(p.names(), ["search"]);
        assert_eq!(p.count("view_item", 0.0), 0);
    }

    #[test]
    fn impressions_and_assignments() {
        let r = rules();
        let mut p = Profile::new();
        for i in 0..3 {
            p.record_impression("x", "a", T0 + i as f64 * HOUR_MS);
        }
        p.record_impression("gone", "b", T0);
        assert_eq!(p.impressions_after(Some("x"), T0), 2);
        assert_eq!(p.impressions_after(None, T0 - 1.0), 4);
        assert_eq!(p.assignment("x"), Some("a"));
        p.prune(&r, T0 + 2.0 * DAY_MS, BYTE_BUDGET);
        assert_eq!(p.assignment("gone"), None);
        let x = p.impressions("x").unwrap();
        assert_eq!((x.first, x.recent.len()), (T0, 0));
    }

    #[test]
    fn serialization_round_trips_and_rejects_foreign_data() {
        let r = rules();
        let mut p = Profile::new();
        p.set_ring_capacity(5);
        for i in 0..20 {
            p.record_event(&r, "add_to_cart", &obj(&[("category", "shoes".into()), ("price", (19.99 + i as f64).into())]), T0 + i as f64 * 7.0 * HOUR_MS);
        }
        p.record_page_view(&r, &Value::Null, T0 + 200.0 * HOUR_MS);
        p.record_impression("x", "a", T0);
        p.record_impression("x", "a", T0 + 1000.0);
        let text = p.serialize_with(&crate::host::NativeHost);
        assert!(text.starts_with("tp1:"));
        let mut back = Profile::parse_with(&text, &crate::host::NativeHost).unwrap();
        back.set_ring_capacity(5);
        assert_eq!(back, p);
        assert_eq!(p.size_bytes(), p.serialize().len());

        assert!(Profile::parse("").is_err());
        assert!(Profile::parse("{\"v\":1}").is_err());
        assert!(Profile::parse(&text[..text.len() - 1]).is_err());
        let tampered = text.replacen("\"vi\":", "\"vi\":1", 1);
        assert_eq!(Profile::parse(&tampered).unwrap_err().message, "checksum mismatch");
        // A well-formed envelope around impossible content is still rejected.
        let body = r#"{"v":1,"vi":1,"pv":1,"n":["a"],"e":[[3,0]],"r":[],"i":[],"a":[]}"#;
        let forged = format!("tp1:{:08x}:{body}", fnv1a32(body));
        assert_eq!(Profile::parse(&forged).unwrap_err().message, "bad event");
        let body = r#"{"v":2,"vi":1,"pv":1,"n":[],"e":[],"r":[],"i":[],"a":[]}"#;
        assert!(Profile::parse(&format!("tp1:{:08x}:{body}", fnv1a32(body))).is_err());
        // Rollup day deltas that would overflow when summed (a debug build panics on
        // the overflow; the .wasm would wrap to nonsense days).
        let body = r#"{"v":1,"vi":1,"pv":1,"n":["a"],"e":[],"r":[[9e18,1,0,1],[9e18,1,0,1]],"i":[],"a":[]}"#;
        assert_eq!(Profile::parse(&format!("tp1:{:08x}:{body}", fnv1a32(body))).unwrap_err().message, "bad rollup");
    }

    /// Found by fuzzing (`fuzz/corpus/profile/regression-huge-times`): a stored profile
    /// with times or rollup days beyond any `Date` made day arithmetic overflow (a
    /// panic with overflow checks, wrapped-round days in the .wasm). It is rejected as
    /// impossible content, like any other forged value.
    #[test]
    fn times_beyond_any_date_are_rejected() {
        let r = rules();
        for (body, message) in [
            (r#"{"v":1,"vi":1,"pv":1,"n":["a"],"e":[[0,1780000000000],[0,8.64e111]],"r":[],"i":[],"a":[]}"#, "bad event"),
            (r#"{"v":1,"vi":1,"pv":1,"n":["a"],"e":[],"r":[[-1e300,1,0,1]],"i":[],"a":[]}"#, "bad rollup"),
            (r#"{"v":1,"vi":1,"pv":1,"n":["a"],"e":[],"r":[[9e18,1,0,1],[9e18,1,0,1]],"i":[],"a":[]}"#, "bad rollup"),
            (r#"{"v":1,"f":1e300,"vi":1,"pv":1,"n":[],"e":[],"r":[],"i":[],"a":[]}"#, "bad time"),
            (r#"{"v":1,"vi":1,"pv":1,"n":[],"e":[],"r":[],"i":[["x",0,[1e300]]],"a":[]}"#, "bad impressions"),
        ] {
            let text = format!("tp1:{:08x}:{body}", fnv1a32(body));
            assert_eq!(Profile::load_with(&text, &r, T0, BYTE_BUDGET, &PlainHost).unwrap_err().message, message, "{body}");
        }
        // The edge of the range still loads.
        let body = r#"{"v":1,"f":-8640000000000000,"vi":1,"pv":1,"n":["a"],"e":[[0,8640000000000000]],"r":[[-100000000,1,0,1]],"i":[],"a":[]}"#;
        assert!(Profile::parse(&format!("tp1:{:08x}:{body}", fnv1a32(body))).is_ok());
    }

    /// The budget holds for the text actually stored: prices computed in JavaScript
    /// (`0.1 * 3`) print with 17 digits in the browser, six decimals in the plain
    /// formatter, so measuring with the wrong host overshoots the budget.
    #[test]
    fn the_byte_budget_holds_for_the_host_that_serializes() {
        let r = rules();
        let js = crate::host::NativeHost;
        let mut p = Profile::new();
        for i in 0..1000 {
            let price = (i % 97) as f64 * 1.1 + 0.1 * 3.0;
            p.record_event(&r, "add_to_cart", &obj(&[("category", "shoes".into()), ("price", price.into())]), T0 + i as f64 * MINUTE_MS);
        }
        // A budget between the two measures of the same profile.
        let (plain_len, js_len) = (p.size_bytes(), p.serialize_with(&js).len());
        assert!(js_len > plain_len + 5_000, "{plain_len} {js_len}");
        let budget = (plain_len + js_len) / 2;
        let mut plain = p.clone();
        plain.prune(&r, T0 + DAY_MS, budget);
        assert!(plain.size_bytes() <= budget);
        assert!(plain.serialize_with(&js).len() > budget, "the plain measure understates what the browser stores");
        p.prune_with(&r, T0 + DAY_MS, budget, &js);
        assert!(p.serialize_with(&js).len() <= budget, "{}", p.serialize_with(&js).len());
        assert_eq!(p.count("add_to_cart", 0.0), 1000);
    }

    /// Loading skips the byte budget for stored text within it (web `loadProfile`):
    /// that holds only if forgetting never makes the text longer, at any age, with
    /// the same or narrower rules. And the pruned text is what `serialize_with` writes.
    #[test]
    fn forgetting_never_lengthens_the_stored_text() {
        let r = rules();
        let narrower = parse_rules(r#"{"version": 1, "events": {"search": {"keep": ["q"]}, "view_item": {"keep": []}}}"#).unwrap();
        let mut p = Profile::new();
        for i in 0..3000 {
            let t = T0 + i as f64 * 37.0 * MINUTE_MS;
            match i % 4 {
                0 => {
                    p.record_page_view(&r, &Value::Null, t);
                }
                1 => {
                    p.record_event(&r, "view_item", &obj(&[("category", ["shoes", "hats"][i % 3 % 2].into())]), t);
                }
                2 => {
                    p.record_event(&r, "search", &obj(&[("q", "boots".into())]), t);
                }
                _ => {
                    p.record_event(&r, "add_to_cart", &obj(&[("price", (i as f64 * 0.37).into())]), t);
                }
            }
            if i % 500 == 499 {
                let text = p.prune_with(&r, t, BYTE_BUDGET, &crate::host::NativeHost);
                assert_eq!(text, p.serialize_with(&crate::host::NativeHost));
                for (rules, later) in [(&r, 0.0), (&r, 40.0 * DAY_MS), (&r, 400.0 * DAY_MS), (&narrower, DAY_MS)] {
                    let mut q = Profile::parse_with(&text, &crate::host::NativeHost).unwrap();
                    q.forget_expired(rules, t + later);
                    let after = q.serialize_with(&crate::host::NativeHost).len();
                    assert!(after <= text.len(), "{after} > {} at +{later} ms", text.len());
                }
            }
        }
    }

    /// A year of heavy browsing (200 events a day) stays under 64 KiB, and the year's
    /// counts are still answerable from rollups.
    #[test]
    fn a_year_of_heavy_browsing_fits_in_64_kib() {
        let r = rules();
        let mut p = Profile::new();
        let start = days_from_civil(2026, 1, 1) as f64 * DAY_MS;
        let cats = ["shoes", "hats", "bags", "coats", "socks", "belts"];
        let (mut views, mut carts, mut purchases) = (0u64, 0u64, 0u64);
        let mut seed = 12345u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 8
        };
        for day in 0..365 {
            for i in 0..200 {
                let t = start + day as f64 * DAY_MS + 8.0 * HOUR_MS + i as f64 * 4.0 * MINUTE_MS;
                let cat: Value = cats[rnd() as usize % cats.len()].into();
                match i % 20 {
                    0..=9 => {
                        p.record_page_view(&r, &Value::Null, t);
                    }
                    10..=16 => {
                        p.record_event(&r, "view_item", &obj(&[("category", cat)]), t);
                        views += 1;
                    }
                    17 | 18 => {
                        let price = (rnd() % 20_000) as f64 / 100.0;
                        p.record_event(&r, "add_to_cart", &obj(&[("category", cat), ("price", price.into())]), t);
                        carts += 1;
                    }
                    _ => {
                        p.record_event(&r, "purchase", &obj(&[("total", 10.0.into())]), t);
                        purchases += 1;
                    }
                }
            }
            p.prune(&r, start + (day + 1) as f64 * DAY_MS, BYTE_BUDGET);
        }
        let now = start + 365.0 * DAY_MS;
        let text = p.serialize();
        assert!(text.len() < 65_536, "{} bytes", text.len());
        assert_eq!(p.count("view_item", now - 365.0 * DAY_MS), views);
        assert_eq!(p.count("add_to_cart", 0.0), carts);
        assert_eq!(p.count("purchase", 0.0), purchases);
        assert_eq!(p.count("page_view", 0.0), 365 * 100);
        assert_eq!(p.pageviews(), 365 * 100);
        assert_eq!(p.visits(), 365);
        assert!(p.events().len() >= RING_FLOOR);
        // Recent days keep per-category detail.
        assert!(p.rollups().iter().rev().take(5).any(|r| !r.combos.is_empty()));
        let back = Profile::parse(&text).unwrap();
        assert_eq!(back.count("view_item", 0.0), views);

        // A tighter budget folds raw events down to the floor, then drops the oldest
        // property detail first: counts survive, recent detail too.
        let mut tight = p.clone();
        tight.prune(&r, now, 20_000);
        assert!(tight.size_bytes() <= 20_000, "{}", tight.size_bytes());
        assert_eq!(tight.events().len(), RING_FLOOR);
        assert_eq!(tight.count("view_item", 0.0), views);
        assert_eq!(tight.count("add_to_cart", 0.0), carts);
        assert!(tight.rollups()[0].combos.is_empty());
        assert!(tight.rollups().iter().rev().take(4).any(|r| !r.combos.is_empty()));
        // An absurd budget gives up history but terminates, keeping the counters.
        tight.prune(&r, now, 300);
        assert!(tight.size_bytes() <= 300, "{}", tight.size_bytes());
        assert_eq!((tight.visits(), tight.pageviews()), (365, 365 * 100));
    }
}
