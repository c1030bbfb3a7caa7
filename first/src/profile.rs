//! Reads what a first decision needs from a stored profile (`tp1:<checksum>:<json>`,
//! as the full engine writes it): visits, page views, first and last activity,
//! impressions and sticky assignments. Events and rollups are skipped unread.
//!
//! The checksum is verified as the full engine verifies it; a profile that fails it
//! is discarded by both (the visitor starts afresh). A profile this reader cannot
//! follow exactly (escaped strings, numbers that are not integers) is
//! [`Stored::Unreadable`]: the slots that depend on it wait for the full engine.

use alloc::vec::Vec;

use crate::hash::fnv1a32;

/// One experience's impressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen<'a> {
    /// The experience id.
    pub experience: &'a str,
    /// First impression ever (ms).
    pub first: f64,
    /// Recent impression times (ms), oldest first.
    pub recent: Vec<f64>,
}

/// The parts of a profile a first decision reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile<'a> {
    /// First activity (ms).
    pub first_seen: Option<f64>,
    /// Last activity (ms).
    pub last_active: Option<f64>,
    /// Visits so far.
    pub visits: f64,
    /// Page views so far.
    pub pageviews: f64,
    /// Impressions per experience.
    pub impressions: Vec<Seen<'a>>,
    /// Sticky assignments: (experience, variant).
    pub assignments: Vec<(&'a str, &'a str)>,
}

/// Inactivity that ends a visit (the full engine's `VISIT_GAP_MS`).
pub const VISIT_GAP_MS: f64 = 30.0 * 60_000.0;

impl Profile<'_> {
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

    /// Impressions strictly between `from` and `until`, of one experience or of all.
    pub fn impressions_between(&self, experience: Option<&str>, from: f64, until: f64) -> u32 {
        self.impressions
            .iter()
            .filter(|i| experience.map_or(true, |e| e == i.experience))
            .map(|i| i.recent.iter().filter(|&&t| t > from && t < until).count() as u32)
            .sum()
    }
}

/// `Math.round` for the times the profile keeps.
fn round(x: f64) -> f64 {
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
    let Some(rest) = text.strip_prefix("tp1:") else {
        return Stored::Fresh;
    };
    let (Some(sum), Some(body)) = (rest.get(..8), rest.get(9..)) else {
        return Stored::Fresh;
    };
    if rest.as_bytes()[8] != b':' || parse_hex(sum) != Some(fnv1a32(body)) {
        return Stored::Fresh;
    }
    let mut r = Reader {
        s: body.as_bytes(),
        i: 0,
        text: body,
    };
    match r.profile() {
        Some(p) if r.at_end() => Stored::Read(p),
        _ => Stored::Unreadable,
    }
}

fn parse_hex(s: &str) -> Option<u32> {
    s.bytes().try_fold(0u32, |acc, b| {
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
    text: &'a str,
}

impl<'a> Reader<'a> {
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
    fn string(&mut self) -> Option<&'a str> {
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
        self.text.get(start..self.i - 1)
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
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.s.get(self.i).copied() {
            v = v * 10 + (d - b'0') as i64;
            self.i += 1;
            if self.i - start > 15 {
                return None;
            }
        }
        if self.i == start || matches!(self.s.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(if neg { -(v as f64) } else { v as f64 })
    }

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
            _ => {
                while matches!(self.s.get(self.i), Some(c) if !matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
                {
                    self.i += 1;
                }
                Some(())
            }
        }
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
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(p);
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            match key {
                "f" => p.first_seen = Some(self.integer()?),
                "l" => p.last_active = Some(self.integer()?),
                "vi" => p.visits = self.integer()?,
                "pv" => p.pageviews = self.integer()?,
                "i" => self.array(|r| {
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
                "a" => self.array(|r| {
                    r.eat(b'[')?;
                    let e = r.string()?;
                    r.eat(b',')?;
                    let v = r.string()?;
                    r.eat(b']')?;
                    p.assignments.push((e, v));
                    Some(())
                })?,
                _ => self.skip_value()?,
            }
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(p);
            }
        }
    }
}
