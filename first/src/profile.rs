//! Reads what a first decision needs from a stored profile (`tp1:<checksum>:<json>`,
//! as the full engine writes it): visits, page views, first and last activity, event
//! names, raw events (delta-decoded times and the text of their property objects),
//! rollups (days, spans, counts and property combinations), impressions and sticky
//! assignments.
//!
//! The checksum is verified as the full engine verifies it; a profile that fails it
//! is discarded by both (the visitor starts afresh). A profile this reader cannot
//! follow exactly is [`Stored::Unreadable`]: the slots that depend on it wait for the
//! full engine. That covers escaped names and ids, numbers that are not integers
//! where the format has integers, fields the format does not have, text longer than
//! the byte budget (the full engine would fold it on loading), and rollups out of the
//! order the full engine keeps them in (by day then name, each day a multiple of its
//! span). Kept property objects stay JSON text, read only when a `where` filter asks
//! for one of their values.

use alloc::vec::Vec;

use crate::hash::{fnv_feed_utf8, FNV_OFFSET};
use crate::vm::Val;

/// One experience's impressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen<'a> {
    /// The experience id.
    pub experience: &'a [u8],
    /// First impression ever (ms).
    pub first: f64,
    /// Recent impression times (ms), oldest first.
    pub recent: Vec<f64>,
}

/// One raw event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Index into [`Profile::names`].
    pub name: u32,
    /// When it happened (ms).
    pub time: f64,
    /// Its kept properties, as JSON object text (empty: none).
    pub props: &'a [u8],
}

/// Counts of one event name over a run of days, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup<'a> {
    /// First day covered (days since 1970-01-01, UTC), a multiple of `span`.
    pub day: i64,
    /// Days covered: 1, 7 or 28.
    pub span: i64,
    /// Index into [`Profile::names`].
    pub name: u32,
    /// Occurrences.
    pub count: f64,
    /// Occurrences per property combination (JSON object text, count).
    pub combos: Vec<(&'a [u8], f64)>,
}

/// A profile's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    /// First activity (ms).
    pub first_seen: Option<f64>,
    /// Last activity (ms).
    pub last_active: Option<f64>,
    /// Visits so far.
    pub visits: f64,
    /// Page views so far.
    pub pageviews: f64,
}

/// The parts of a profile a first decision reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile<'a> {
    /// Visits, page views, first and last activity.
    pub counts: Counts,
    /// Impressions per experience.
    pub impressions: Vec<Seen<'a>>,
    /// Sticky assignments: (experience, variant).
    pub assignments: Vec<(&'a [u8], &'a [u8])>,
    /// Interned event names.
    pub names: Vec<&'a [u8]>,
    /// Raw events, oldest first.
    pub events: Vec<Event<'a>>,
    /// Rollups of older events, by day then name.
    pub rollups: Vec<Rollup<'a>>,
}

/// Inactivity that ends a visit (the full engine's `VISIT_GAP_MS`).
pub const VISIT_GAP_MS: f64 = 30.0 * 60_000.0;

/// Raw events the full engine keeps before folding the oldest into rollups (its
/// `RING_CAPACITY`).
pub const RING_CAPACITY: usize = 1000;

/// The stored profile's byte budget (the full engine's `BYTE_BUDGET`): a longer text
/// is folded when the full engine loads it.
pub const BYTE_BUDGET: usize = 60 * 1024;

/// A profile with nothing in it (a fresh visitor's).
pub static EMPTY: Profile<'static> = Profile {
    counts: Counts {
        first_seen: None,
        last_active: None,
        visits: 0.0,
        pageviews: 0.0,
    },
    impressions: Vec::new(),
    assignments: Vec::new(),
    names: Vec::new(),
    events: Vec::new(),
    rollups: Vec::new(),
};

impl Counts {
    /// Counts a page view at `now` as the full engine's `record_page_view` does.
    pub fn count_page_view(&mut self, now: f64) {
        let now = round(now);
        self.pageviews += 1.0;
        if self.first_seen.is_none() {
            self.first_seen = Some(now);
        }
        match self.last_active {
            Some(last) if now - last <= VISIT_GAP_MS && now >= last - VISIT_GAP_MS => {}
            _ => self.visits += 1.0,
        }
        self.last_active = Some(self.last_active.map_or(now, |l| l.max(now)));
    }
}

impl Profile<'_> {
    /// Impressions strictly between `from` and `until`, of one experience or of all.
    pub fn impressions_between(&self, experience: Option<&[u8]>, from: f64, until: f64) -> u32 {
        self.impressions
            .iter()
            .filter(|i| experience.map_or(true, |e| e == i.experience))
            .map(|i| i.recent.iter().filter(|&&t| t > from && t < until).count() as u32)
            .sum()
    }
}

/// The span of a rollup whose first day is `day` at `today` (both days since
/// 1970-01-01): 1 until its week is 5 weeks old, 7 until its 4-week block is 17 weeks
/// old, then 28. Spans nest (28 is a multiple of 7, days are multiples of the span),
/// so rollups never overlap.
pub fn span_for(day: i64, today: i64) -> i64 {
    if today - (day - day.rem_euclid(28) + 27) > 119 {
        28
    } else if today - (day - day.rem_euclid(7) + 6) > 35 {
        7
    } else {
        1
    }
}

/// `Math.round` for the times the profile keeps.
pub(crate) fn round(x: f64) -> f64 {
    let t = x as i64 as f64; // times are far inside i64
    if x - t >= 0.5 {
        t + 1.0
    } else if x - t <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// What the stored text holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored<'a> {
    /// Nothing usable: no text, or text the full engine would discard too (not
    /// `tp1:`, wrong checksum). The visitor starts with an empty profile.
    Fresh,
    /// A profile, read.
    Read(Profile<'a>),
    /// A profile whose checksum holds but that this reader cannot follow exactly.
    Unreadable,
}

/// Reads a stored profile.
pub fn read(text: &str) -> Stored<'_> {
    read_bytes(text.as_bytes())
}

/// [`read`] over UTF-8 bytes (the first module's texts stay bytes).
pub fn read_bytes(text: &[u8]) -> Stored<'_> {
    let Some(rest) = text.strip_prefix(b"tp1:") else {
        return Stored::Fresh;
    };
    let (Some(sum), Some(body)) = (rest.get(..8), rest.get(9..)) else {
        return Stored::Fresh;
    };
    if rest[8] != b':' || parse_hex(sum) != Some(fnv_feed_utf8(FNV_OFFSET, body)) {
        return Stored::Fresh;
    }
    if text.len() > BYTE_BUDGET {
        return Stored::Unreadable;
    }
    let mut r = Reader::new(body);
    match r.profile() {
        Some(p) if r.at_end() => Stored::Read(p),
        _ => Stored::Unreadable,
    }
}

fn parse_hex(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | d as u32)
    })
}

/// A JSON reader over the profile's body: just enough for the fields above, and a
/// skipper for the rest. Any surprise is `None`.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn new(s: &'a [u8]) -> Self {
        Reader { s, i: 0 }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.ws();
        self.i == self.s.len()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    /// A string without escapes (`None` for one with escapes: not followed exactly).
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match *self.s.get(self.i)? {
                b'"' => break,
                b'\\' => return None,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        self.s.get(start..self.i - 1)
    }

    /// A string, escapes allowed, skipped.
    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match *self.s.get(self.i)? {
                b'"' => break,
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        Some(())
    }

    /// A number that is an integer of at most 15 digits (the profile's times and
    /// counts); anything else is `None`.
    fn integer(&mut self) -> Option<f64> {
        self.ws();
        let neg = self.s.get(self.i) == Some(&b'-');
        self.i += neg as usize;
        let (start, mut v) = (self.i, 0i64);
        while let Some(d @ b'0'..=b'9') = self.s.get(self.i).copied() {
            v = v.wrapping_mul(10).wrapping_add((d - b'0') as i64); // used only up to 15 digits
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || n > 15 || (n > 1 && self.s.get(start) == Some(&b'0')) || matches!(self.s.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = v as f64;
        Some(if neg { -v } else { v })
    }

    /// A count: an integer from 0 to `u32::MAX`.
    fn count(&mut self) -> Option<f64> {
        self.integer().filter(|&n| (0.0..=u32::MAX as f64).contains(&n))
    }

    /// Any JSON value, skipped.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let close = if self.eat(b'{').is_some() {
                    b'}'
                } else {
                    self.eat(b'[')?;
                    b']'
                };
                if self.eat(close).is_some() {
                    return Some(());
                }
                loop {
                    if close == b'}' {
                        self.skip_string()?;
                        self.eat(b':')?;
                    }
                    self.skip_value()?;
                    if self.eat(b',').is_none() {
                        return self.eat(close);
                    }
                }
            }
            // A number, `true`, `false` or `null`: read where it matters (`integer`,
            // `property`), skipped unchecked elsewhere.
            _ => {
                while matches!(self.s.get(self.i), Some(c) if !matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
                {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// An object, skipped: its text.
    fn object(&mut self) -> Option<&'a [u8]> {
        (self.peek()? == b'{').then_some(())?;
        let start = self.i;
        self.skip_value()?;
        self.s.get(start..self.i)
    }

    /// `[a, b, …]`, calling `item` for each element.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            if self.eat(b',').is_none() {
                return self.eat(b']');
            }
        }
    }

    fn profile(&mut self) -> Option<Profile<'a>> {
        let mut p = Profile::default();
        // Every time Tailor writes is within ECMAScript's range (the full engine
        // rejects others); `integer` stops at 15 digits, inside it.
        let mut time = 0.0;
        let mut day: i64 = 0;
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(p);
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            let names = p.names.len() as f64;
            match key {
                b"v" => (self.integer()? == 1.0).then_some(())?,
                b"f" => p.counts.first_seen = Some(self.integer()?),
                b"l" => p.counts.last_active = Some(self.integer()?),
                b"vi" => p.counts.visits = self.count()?,
                b"pv" => p.counts.pageviews = self.count()?,
                b"n" => self.array(|r| {
                    p.names.push(r.string().filter(|n| !n.is_empty())?);
                    Some(())
                })?,
                b"e" => self.array(|r| {
                    r.eat(b'[')?;
                    let name = r.count().filter(|&n| n < names)? as u32;
                    r.eat(b',')?;
                    time += r.integer().filter(|&d| d >= 0.0)?;
                    (time <= 8.64e15).then_some(())?;
                    let props = match r.eat(b',') {
                        Some(()) => r.object()?,
                        None => &[],
                    };
                    r.eat(b']')?;
                    p.events.push(Event { name, time, props });
                    Some(())
                })?,
                b"r" => self.array(|r| {
                    r.eat(b'[')?;
                    let delta = r.integer().filter(|&d| (d >= 0.0 || day == 0) && d.abs() <= 1e9)?;
                    day += delta as i64;
                    r.eat(b',')?;
                    let span = r.integer().filter(|&s| s == 1.0 || s == 7.0 || s == 28.0)? as i64;
                    r.eat(b',')?;
                    let name = r.count().filter(|&n| n < names)? as u32;
                    r.eat(b',')?;
                    let count = r.count().filter(|&n| n > 0.0)?;
                    let mut combos = Vec::new();
                    let mut tracked = 0.0;
                    if r.eat(b',').is_some() {
                        r.array(|r| {
                            // A combination is a non-empty object (the full engine never
                            // keeps an empty one, and would drop one when merging).
                            let props = r.object().filter(|o| o.contains(&b'"'))?;
                            r.eat(b',')?;
                            let n = r.count().filter(|&n| n > 0.0)?;
                            tracked += n;
                            combos.push((props, n));
                            Some(())
                        })?;
                    }
                    r.eat(b']')?;
                    // Kept by day then name, each day a multiple of its span (the order
                    // rollups are measured in; the full engine writes no other).
                    let after = p.rollups.last().map_or(true, |q| (q.day, q.name) < (day, name));
                    (day.abs() <= 100_000_000 && day % span == 0 && after && combos.len() <= 8 && tracked <= count).then_some(())?;
                    p.rollups.push(Rollup { day, span, name, count, combos });
                    Some(())
                })?,
                b"i" => self.array(|r| {
                    r.eat(b'[')?;
                    let experience = r.string()?;
                    r.eat(b',')?;
                    let first = r.integer()?;
                    r.eat(b',')?;
                    let mut recent = Vec::new();
                    let mut prev = first;
                    r.array(|r| {
                        prev += r.integer()?;
                        recent.push(prev);
                        Some(())
                    })?;
                    r.eat(b']')?;
                    p.impressions.push(Seen {
                        experience,
                        first,
                        recent,
                    });
                    Some(())
                })?,
                b"a" => self.array(|r| {
                    r.eat(b'[')?;
                    let e = r.string()?;
                    r.eat(b',')?;
                    let v = r.string()?;
                    r.eat(b']')?;
                    p.assignments.push((e, v));
                    Some(())
                })?,
                // A field the format does not have: the full engine discards the profile.
                _ => return None,
            }
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(p);
            }
        }
    }
}

/// A property of a kept property object (JSON object text, empty for none), as
/// conditions see it: `Ok(Some(value))`; `Ok(None)` when this module does not follow
/// it exactly (an escaped string or key, a number that is not a plain integer);
/// `Err(())` for an object or an array, which conditions can throw on.
pub(crate) fn property<'a>(props: &'a [u8], key: &[u8]) -> Result<Option<Val<'a>>, ()> {
    let mut r = Reader::new(props);
    let mut found = Some(Val::Null);
    if props.is_empty() || r.eat(b'{').is_none() || r.eat(b'}').is_some() {
        return Ok(found);
    }
    // The last of equal keys wins, as in `JSON.parse`.
    loop {
        let Some(k) = r.string() else {
            return Ok(None);
        };
        r.eat(b':').ok_or(())?;
        r.ws();
        let start = r.i;
        let v = match r.peek().ok_or(())? {
            b'{' | b'[' if k == key => return Err(()),
            b'"' => r.string().map(Val::Str),
            _ => r.integer().map(Val::Num),
        };
        r.i = start;
        r.skip_value().ok_or(())?;
        if k == key {
            found = match &r.s[start..r.i] {
                b"true" => Some(Val::Bool(true)),
                b"false" => Some(Val::Bool(false)),
                b"null" => Some(Val::Null),
                _ => v,
            };
        }
        if r.eat(b',').is_none() {
            return Ok(found);
        }
    }
}
