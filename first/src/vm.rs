//! The compiled rules and their evaluation.
//!
//! # Format (version 1)
//!
//! Little-endian; `uN` is an unsigned LEB128 number, `f64` eight bytes, `str` a `uN`
//! length then UTF-8 bytes, and an absent time or duration is NaN. Whatever the
//! compiler can resolve is resolved there: bucket ranges, dates, durations, hash seeds
//! (as FNV states), the number a string literal equals, `utm.<name>` as the query
//! parameter `utm_<name>`, and the tables the channel is derived from (carried only
//! when a condition reads `channel`).
//!
//! ```text
//! "TLC1"
//! audiences    uN count, then per named audience: uN length, condition code
//! global cap   uN impressions (0xFFFFFFFF: no cap), f64 window (ms)
//! channel      uN length, then the lists of `context::channel_lists` (empty when no
//!              condition reads `channel`)
//! slots        uN count, then per slot: uN length, uN candidates, then each candidate
//!              (in the order they are tried: priority, then document) as below
//! ```
//!
//! A candidate: `uN experience` (its index in the document), `u8 flags` (1 = this
//! module can decide it, 2 = one variant for everyone: no allocation). An experience
//! this module cannot decide ends there (and is the slot's last candidate: the slot
//! waits when it is reached). Otherwise it goes on: `str id`, `uN length` + audience
//! condition code (empty: everyone), `f64 start`, `f64 end`, `f64 lifetime`,
//! `uN impressions` (0xFFFFFFFF: no cap) + `f64 window`, `uN hash version` (any but 1
//! and 2: never allocated), `uN hash prefix` and `str hash suffix` (the FNV state
//! before the unit and the text after it: [`crate::hash::hash_from`]), `f64 holdout`,
//! `uN` the FNV state of `seed + ":holdout"`, then `uN length` + the variants, each
//! `str id`, `f64 range start`, `f64 range end`.
//!
//! Condition code is a tree in prefix form; see [`op`]. Attribute ids are in [`attr`].
//!
//! Behavioural conditions ([`op::BEHAVIOUR`] for `$event` and `$since`,
//! [`op::SCENARIO`]) read the stored profile as the full engine has it after loading:
//! events and rollups past their event's retention (or of events the rules no longer
//! declare) are left out, rollups are coarsened to the span their age gives them, and
//! when this page view is counted and the rules declare `page_view`, the page view's
//! own event (at `now` rounded, its kept properties from the runtime's
//! `{path: location.pathname}`) is recorded last. `$event`'s count and `$since`'s
//! elapsed time (infinite for an event never seen) are then tested by a value node,
//! exactly as an attribute is: `count` and the `$since` bounds are compiled as value
//! conditions on a number. A `where` filter is condition code whose attributes are the
//! event's kept properties ([`attr::PROP`]), read from their JSON text when asked.
//! What the module cannot tell waits: a kept property it cannot read exactly (an
//! escaped string, a fraction; an object or array makes the whole filter unknown, as
//! GrowthBook can throw on one), a filter over rollups whose merge on loading would
//! drop property combinations, a full ring (recording this page view would fold the
//! oldest event into a rollup).
//!
//! Texts are UTF-8 bytes throughout (`&[u8]`): what the module compares, hashes and
//! searches needs no validation, so none is compiled in.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::Cell;

use crate::context;
use crate::hash::hash_from;
use crate::profile::{property, round, span_for, Counts, Profile, Rollup, Stored, EMPTY, RING_CAPACITY};
use crate::time::{floor, iso_week_text, DAY_MS};

/// Condition opcodes. Condition nodes come first; value nodes test the value an
/// enclosing [`op::TEST`] read.
pub mod op {
    /// Always true.
    pub const TRUE: u8 = 0;
    /// Always false.
    pub const FALSE: u8 = 1;
    /// `uN n`, then n conditions: all true.
    pub const AND: u8 = 2;
    /// `uN n`, then n conditions: any true.
    pub const OR: u8 = 3;
    /// One condition, negated.
    pub const NOT: u8 = 4;
    /// `uN audience`: the named audience's condition.
    pub const AUDIENCE: u8 = 5;
    /// An attribute (see [`super::attr`]), then one value node.
    pub const TEST: u8 = 6;
    /// `$event` or `$since`: `u8 flags` (1 the rules record page views as `page_view`
    /// events, 2 keeping their `path`, 4 the event measured is `page_view`, 8 `$since`
    /// rather than `$event`), `str name`, `f64 retention` (ms; infinite for none),
    /// `f64 window` (ms; NaN for none), `uN length` + `where` condition code (empty:
    /// every event), then one value node, tested against the number of matching events
    /// in the window (`$event`) or the time since the last one (`$since`). False
    /// without a profile.
    pub const BEHAVIOUR: u8 = 7;
    /// `$scenario`: `u8 flags` (1 and 2 as [`BEHAVIOUR`]'s), `f64 within` (ms;
    /// infinite for none), `uN n` (at most 8), then n steps and the `notFollowedBy` step (name
    /// `""` for none), each `str name`, `f64 retention`, `uN length` + `where` code.
    /// False without a profile.
    pub const SCENARIO: u8 = 8;
    /// `uN n`, then n value nodes: all true.
    pub const V_AND: u8 = 16;
    /// One value node, negated.
    pub const V_NOT: u8 = 17;
    /// `str s`, `u8 forms` (1 `s` is `"null"`, 2 `"true"`, 4 `"false"`), `f64 n` (the
    /// integer below 10^15 whose `String` is `s`; NaN for none): `v + "" === s`.
    pub const EQ_STR: u8 = 18;
    /// `f64 n`: `v * 1 === n`.
    pub const EQ_NUM: u8 = 19;
    /// `u8 kind` (0 `>`, 1 `>=`, 2 `<`, 3 `<=`), `u8 has-string` then `str s`, `f64 n`:
    /// JavaScript's relational comparison with `s` (a string literal, whose number is
    /// `n`) or with the number `n`.
    pub const CMP: u8 = 24;
    /// `u8 kinds`, `uN length` + strings (`str` each), `uN length` + numbers (`f64`
    /// each): whether the value is of one of the kinds (bit 0 null, 1 the empty
    /// string, 2 another string, 3 zero or NaN, 4 another number, 5 false, 6 true), or
    /// one of the strings (bit 7 of `kinds`: ignoring ASCII case), or one of the
    /// numbers. What `$eq`, `$in`, `$exists`, `$type` and boolean literals compile to.
    pub const ONE_OF: u8 = 26;
    /// Always true (value).
    pub const V_TRUE: u8 = 28;
    /// Always false (value).
    pub const V_FALSE: u8 = 29;
}

/// Attribute ids: the context's and the profile's attributes conditions can read.
pub mod attr {
    /// Fixed attributes, in id order (0 = `page.url` …).
    pub const NAMES: [&str; 16] = [
        "page.url",
        "page.host",
        "page.path",
        "referrer.url",
        "referrer.host",
        "channel",
        "device.type",
        "language",
        "language_primary",
        "time.hour",
        "time.weekday",
        "time.weekday_name",
        "visits",
        "pageviews",
        "cohort",
        "first_seen_days",
    ];
    /// Always missing (null).
    pub const MISSING: u32 = 16;
    /// `str name`: the query parameter `name`.
    pub const QUERY: u32 = 17;
    /// `str name`: in a `where` filter, the event's kept property `name`. (`utm.<name>`
    /// is compiled as the query parameter `utm_<name>`.)
    pub const PROP: u32 = 19;
}

/// What one slot shows, as far as this module can tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Undecided here: the full engine decides (an experience this module cannot
    /// evaluate, or an input it cannot read exactly, came first).
    Wait,
    /// No experience: the page's default content.
    Default,
    /// An experience (index in the document) shows a variant (index).
    Shown {
        /// Experience index.
        experience: u32,
        /// Variant index.
        variant: u32,
        /// From the profile's sticky assignment.
        sticky: bool,
    },
    /// The visitor is in the experience's holdout: default content, slot reserved.
    Holdout {
        /// Experience index.
        experience: u32,
    },
}

/// The page's plain inputs (as the full engine's `PageInputs`), as UTF-8 bytes.
#[derive(Debug, Clone, Default)]
pub struct Page<'a> {
    /// `location.href`.
    pub url: &'a [u8],
    /// `location.hostname`.
    pub host: &'a [u8],
    /// `location.pathname`.
    pub path: &'a [u8],
    /// Decoded query parameters in order.
    pub query: Vec<(&'a [u8], &'a [u8])>,
    /// `document.referrer`.
    pub referrer: &'a [u8],
    /// `navigator.userAgent`.
    pub user_agent: &'a [u8],
    /// `navigator.language`.
    pub language: &'a [u8],
    /// Local hour, 0–23.
    pub hour: u8,
    /// Local weekday, 0 = Sunday.
    pub weekday: u8,
    /// `innerWidth` (0 when unknown).
    pub viewport_width: u32,
}

impl<'a> Page<'a> {
    /// The first query parameter called `name`.
    fn param(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.query.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Everything a round of first decisions reads.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The page.
    pub page: Page<'a>,
    /// `None` without a profile (no personalization consent); otherwise what storage
    /// held.
    pub profile: Option<Stored<'a>>,
    /// Whether the full engine counts this page view in the profile before deciding.
    pub count_page_view: bool,
    /// The allocation unit (empty: not enrolled in experiments).
    pub unit: &'a [u8],
    /// Now (ms).
    pub now: f64,
    /// When this page view started (ms).
    pub view_start: f64,
}

/// Why compiled rules could not be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BadProgram;

/// Three-valued truth: `None` is unknown.
type Tri = Option<bool>;

fn and(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or(a: Tri, b: Tri) -> Tri {
    not(and(not(a), not(b)))
}

fn not(a: Tri) -> Tri {
    a.map(|b| !b)
}

/// A cursor over the program's bytes.
#[derive(Clone)]
struct Bytes<'p> {
    b: &'p [u8],
    i: usize,
}

impl<'p> Bytes<'p> {
    fn new(b: &'p [u8]) -> Self {
        Bytes { b, i: 0 }
    }
    fn try_u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.i)?;
        self.i += 1;
        Some(v)
    }
    fn try_un(&mut self) -> Option<u32> {
        let (mut v, mut shift) = (0u32, 0);
        while shift < 35 {
            let b = self.try_u8()?;
            v |= ((b & 0x7f) as u32).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
        None
    }
    fn try_take(&mut self, n: usize) -> Option<&'p [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn try_f64(&mut self) -> Option<f64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.try_take(8)?);
        Some(f64::from_le_bytes(a))
    }
    /// A `uN` length, then that many bytes: a `str`, condition code, a slot.
    fn try_code(&mut self) -> Option<&'p [u8]> {
        let n = self.try_un()? as usize;
        self.try_take(n)
    }
    // While deciding, damage is a trap (see [`bad`]).
    fn u8(&mut self) -> u8 {
        self.try_u8().unwrap_or_else(|| bad())
    }
    fn un(&mut self) -> u32 {
        self.try_un().unwrap_or_else(|| bad())
    }
    fn f64(&mut self) -> f64 {
        self.try_f64().unwrap_or_else(|| bad())
    }
    fn code(&mut self) -> &'p [u8] {
        self.try_code().unwrap_or_else(|| bad())
    }
}

/// Damaged compiled rules met while deciding. They come from `tailor compile`, so this
/// is a bug or tampering, not an input to answer: a panic (in the `.wasm`, an
/// `unreachable` trap, which the runtime takes as "no first decision").
#[cold]
fn bad() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("damaged compiled rules");
}

/// Compiled rules, read: the parts each slot's walk needs at hand.
pub struct Program<'p> {
    audiences: Vec<&'p [u8]>,
    global_cap: (u32, f64),
    channel_lists: &'p [u8],
    slots: Vec<&'p [u8]>,
}

impl<'p> Program<'p> {
    /// Reads compiled rules: their outline (a program cut short or with bytes past its
    /// end is refused here; damage inside a slot when the slot is decided).
    pub fn read(bytes: &'p [u8]) -> Result<Program<'p>, BadProgram> {
        let mut b = Bytes::new(bytes);
        let mut read = || {
            (b.try_take(4)? == b"TLC1").then_some(())?;
            let mut audiences = Vec::new();
            for _ in 0..b.try_un()? {
                audiences.push(b.try_code()?);
            }
            let global_cap = (b.try_un()?, b.try_f64()?);
            let channel_lists = b.try_code()?;
            let mut slots = Vec::new();
            for _ in 0..b.try_un()? {
                slots.push(b.try_code()?);
            }
            (b.i == bytes.len()).then_some(Program {
                audiences,
                global_cap,
                channel_lists,
                slots,
            })
        };
        read().ok_or(BadProgram)
    }

    /// The number of slots (decisions come in this order).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Decides every slot it can, one outcome per slot. Panics on damage inside a
    /// slot (see [`Program::read`]; in the `.wasm`, a trap).
    pub fn decide(&self, inputs: &Inputs) -> Vec<Outcome> {
        let r = Round::new(self, inputs);
        self.slots.iter().map(|slot| r.slot(&mut Bytes::new(slot))).collect()
    }
}

/// A value conditions compare: what the context's and profile's attributes and the
/// events' kept properties can be.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    Null,
    Str(&'a [u8]),
    Num(f64),
    Bool(bool),
}

/// What a `where` filter reads: an event's kept properties.
#[derive(Clone, Copy)]
enum Props<'a> {
    /// A stored property object (JSON text, empty for none).
    Json(&'a [u8]),
    /// This page view's own event: `{path: <the page's path>}`.
    Path,
}

/// The profile as a round sees it.
#[derive(Clone, Copy)]
enum Prof<'r> {
    /// No profile (no personalization consent): no profile attributes, caps skipped.
    Absent,
    /// A profile this module cannot read exactly.
    Unknown,
    /// The profile's counters, this page view counted (its events, rollups,
    /// impressions and assignments are read from [`Round::stored`]).
    Known(&'r Counts),
}

/// State of one round.
struct Round<'p, 'i> {
    p: &'p Program<'p>,
    inputs: &'i Inputs<'i>,
    /// The profile's counters with this page view counted (`None`: absent or unknown,
    /// see `unknown_profile`).
    profile: Option<Counts>,
    unknown_profile: bool,
    channel: &'static str,
    device: &'static str,
    referrer_host: Vec<u8>,
    language_primary: Vec<u8>,
    cohort: ([u8; 24], usize),
    /// Per named audience: 0 not yet, 1 false, 2 true, 3 unknown, 4 being evaluated.
    memo: Vec<Cell<u8>>,
    /// Variants decided for earlier slots: at least, and at most (a slot left to the
    /// full engine may or may not show one).
    shown: Cell<(u32, u32)>,
    /// A `where` filter read an object or array property (which GrowthBook may throw
    /// on): its verdict is unknown.
    nested: Cell<bool>,
}

/// `text` lower-cased (ASCII).
fn lower(text: &[u8]) -> Vec<u8> {
    let mut v = text.to_vec();
    v.make_ascii_lowercase();
    v
}

impl<'p, 'i> Round<'p, 'i> {
    fn new(p: &'p Program<'p>, inputs: &'i Inputs<'i>) -> Self {
        let page = &inputs.page;
        let param = |k: &[u8]| page.param(k);
        let (profile, unknown_profile) = match &inputs.profile {
            None => (None, false),
            Some(Stored::Unreadable) => (None, true),
            Some(Stored::Fresh) => (Some(Counts::default()), false),
            // Only the counters: lists are read from the stored profile.
            Some(Stored::Read(p)) => (Some(p.counts), false),
        };
        let profile = profile.map(|mut p| {
            if inputs.count_page_view {
                p.count_page_view(inputs.now);
            }
            p
        });
        let cohort = profile.as_ref().and_then(|p| p.first_seen).map_or(([0; 24], 0), iso_week_text);
        let language = page.language;
        Round {
            p,
            inputs,
            profile,
            unknown_profile,
            channel: context::channel_bytes(&param, page.url, page.referrer, p.channel_lists),
            device: context::device_type_bytes(page.user_agent, page.viewport_width),
            referrer_host: lower(&page.referrer[{
                let (from, to) = context::url_host_span(page.referrer);
                from..to
            }]),
            language_primary: lower(&language[..language.iter().position(|&c| c == b'-').unwrap_or(language.len())]),
            cohort,
            memo: vec![Cell::new(0); p.audiences.len()],
            shown: Cell::new((0, 0)),
            nested: Cell::new(false),
        }
    }

    fn prof(&self) -> Prof<'_> {
        match (&self.profile, self.unknown_profile) {
            (Some(p), _) => Prof::Known(p),
            (None, true) => Prof::Unknown,
            (None, false) => Prof::Absent,
        }
    }

    /// Where events, rollups, impressions and assignments are read: the stored
    /// profile, or an empty one (a fresh profile has none).
    fn stored(&self) -> &Profile<'i> {
        match &self.inputs.profile {
            Some(Stored::Read(s)) => s,
            _ => &EMPTY,
        }
    }

    /// Reads an attribute (from `props` in a `where` filter); `None` when it cannot be
    /// known here.
    fn attribute(&self, b: &mut Bytes<'p>, props: Option<Props<'i>>) -> Option<Val<'_>> {
        let id = b.un();
        let page = &self.inputs.page;
        let prof = self.prof();
        let profile_num = |f: fn(&Counts) -> Option<f64>| match prof {
            Prof::Absent => Some(Val::Null),
            Prof::Unknown => None,
            Prof::Known(p) => Some(f(p).map_or(Val::Null, Val::Num)),
        };
        match id {
            0 => Some(Val::Str(page.url)),
            1 => Some(Val::Str(page.host)),
            2 => Some(Val::Str(page.path)),
            3 => Some(Val::Str(page.referrer)),
            4 => Some(Val::Str(&self.referrer_host)),
            5 => Some(Val::Str(self.channel.as_bytes())),
            6 => Some(Val::Str(self.device.as_bytes())),
            7 => Some(Val::Str(page.language)),
            8 => Some(Val::Str(&self.language_primary)),
            9 => Some(Val::Num(page.hour as f64)),
            10 => Some(Val::Num(page.weekday as f64)),
            11 => Some(Val::Str(context::WEEKDAYS[page.weekday as usize % 7].as_bytes())),
            12 => profile_num(|p| Some(p.visits)),
            13 => profile_num(|p| Some(p.pageviews)),
            14 => match prof {
                Prof::Known(p) if p.first_seen.is_some() => Some(Val::Str(&self.cohort.0[..self.cohort.1])),
                _ => profile_num(|_| None),
            },
            15 => match prof {
                Prof::Known(p) => Some(p.first_seen.map_or(Val::Null, |f| {
                    Val::Num(floor((self.inputs.now - f) / DAY_MS).max(0.0))
                })),
                _ => profile_num(|_| None),
            },
            attr::MISSING => Some(Val::Null),
            attr::QUERY => {
                let name = b.code();
                Some(page.param(name).map_or(Val::Null, Val::Str))
            }
            attr::PROP => {
                let name = b.code();
                match props.unwrap_or_else(|| bad()) {
                    Props::Path => Some(if name == b"path" { Val::Str(page.path) } else { Val::Null }),
                    Props::Json(text) => property(text, name).unwrap_or_else(|()| {
                        self.nested.set(true);
                        None
                    }),
                }
            }
            _ => bad(),
        }
    }

    /// Evaluates one condition node (over an event's kept properties in a `where`
    /// filter).
    fn cond(&self, b: &mut Bytes<'p>, depth: u32, props: Option<Props<'i>>) -> Tri {
        if depth > 64 {
            bad();
        }
        let opc = b.u8();
        // A `where` filter tests properties only: the compiler writes nothing else
        // there, and a filter that measured again would recurse without end.
        if props.is_some() && matches!(opc, op::AUDIENCE | op::BEHAVIOUR | op::SCENARIO) {
            bad();
        }
        match opc {
            op::TRUE => Some(true),
            op::FALSE => Some(false),
            op::AND => {
                let n = b.un();
                let mut acc = Some(true);
                for _ in 0..n {
                    acc = and(acc, self.cond(b, depth + 1, props));
                }
                acc
            }
            op::OR => {
                // GrowthBook: an empty $or passes.
                let n = b.un();
                let mut acc = Some(n == 0);
                for _ in 0..n {
                    acc = or(acc, self.cond(b, depth + 1, props));
                }
                acc
            }
            op::NOT => not(self.cond(b, depth + 1, props)),
            op::AUDIENCE => self.audience(b.un() as usize, depth),
            op::TEST => {
                let v = self.attribute(b, props);
                let r = self.value(b, v, depth + 1);
                if v.is_none() {
                    None
                } else {
                    r
                }
            }
            op::BEHAVIOUR => {
                let flags = b.u8();
                let name = b.code();
                let (keep, window) = (b.f64(), b.f64());
                let filter = b.code();
                let (m, absent) = match self.prof() {
                    Prof::Known(_) => {
                        let m = self.measure(flags, name, keep, window, filter, false);
                        // Either way the full engine may have it (see `folds`): told only
                        // when both agree.
                        (if self.folds(flags) && self.measure(flags, name, keep, window, filter, true) != m { None } else { m }, false)
                    }
                    Prof::Unknown => (None, false),
                    Prof::Absent => (None, true),
                };
                let r = self.value(b, m.map(Val::Num), depth + 1);
                if absent {
                    Some(false)
                } else {
                    m.and(r)
                }
            }
            op::SCENARIO => {
                let flags = b.u8();
                let within = b.f64();
                let n = b.un() as usize;
                let mut steps: [(&[u8], f64, &[u8]); 9] = [(&[], 0.0, &[]); 9];
                for step in steps.get_mut(..=n).unwrap_or_else(|| bad()) {
                    *step = (b.code(), b.f64(), b.code());
                }
                match self.prof() {
                    Prof::Known(_) => {
                        let r = self.scenario(flags, within, &steps[..=n], 0);
                        if self.folds(flags) && self.scenario(flags, within, &steps[..=n], 1) != r {
                            None
                        } else {
                            r
                        }
                    }
                    Prof::Unknown => None,
                    Prof::Absent => Some(false),
                }
            }
            _ => bad(),
        }
    }

    /// A named audience, memoised (the compiler rejects reference cycles).
    fn audience(&self, i: usize, depth: u32) -> Tri {
        let memo = self.memo.get(i).unwrap_or_else(|| bad());
        let state = memo.get();
        match state {
            1 => return Some(false),
            2 => return Some(true),
            3 => return None,
            4 => bad(),
            _ => {}
        }
        memo.set(4);
        let code = self.p.audiences[i];
        let r = self.cond(&mut Bytes::new(code), depth + 1, None);
        memo.set(match r {
            Some(false) => 1,
            Some(true) => 2,
            None => 3,
        });
        r
    }

    /// Evaluates one value node against `v` (`None`: unknown value; the node is read
    /// through all the same so the cursor moves past it).
    fn value(&self, b: &mut Bytes<'p>, v: Option<Val>, depth: u32) -> Tri {
        if depth > 64 {
            bad();
        }
        let opc = b.u8();
        let r = match opc {
            op::V_AND => {
                let n = b.un();
                let mut acc = Some(true);
                for _ in 0..n {
                    acc = and(acc, self.value(b, v, depth + 1));
                }
                return acc;
            }
            op::V_NOT => return not(self.value(b, v, depth + 1)),
            op::V_TRUE => return Some(true),
            op::V_FALSE => return Some(false),
            op::EQ_STR => {
                let (s, forms, n) = (b.code(), b.u8(), b.f64());
                v.and_then(|v| match v {
                    Val::Null => Some(forms & 1 != 0),
                    Val::Str(x) => Some(x == s),
                    // `String(x)` is followed for integers below 10^15 only.
                    Val::Num(x) => (x == floor(x) && x.abs() < 1e15).then_some(x == n),
                    Val::Bool(x) => Some(forms & if x { 2 } else { 4 } != 0),
                })
            }
            op::EQ_NUM => {
                let n = b.f64();
                v.and_then(to_number).map(|x| x == n)
            }
            op::CMP => {
                let kind = b.u8();
                let s = if b.u8() == 1 { Some(b.code()) } else { None };
                let n = b.f64();
                v.and_then(|v| {
                    let ord = match (v, s) {
                        (Val::Str(x), Some(s)) => {
                            if !ascii(x) || !ascii(s) {
                                return None; // UTF-16 order is not followed here
                            }
                            Some(x.cmp(s))
                        }
                        _ => {
                            let x = to_number(v)?;
                            x.partial_cmp(&n)
                        }
                    };
                    Some(ord.is_some_and(|o| match kind {
                        0 => o.is_gt(),
                        1 => o.is_ge(),
                        2 => o.is_lt(),
                        _ => o.is_le(),
                    }))
                })
            }
            op::ONE_OF => {
                let (kinds, strings, numbers) = (b.u8(), b.code(), b.code());
                v.and_then(|v| {
                    let kind = match v {
                        Val::Null => 0,
                        Val::Str(x) => 1 + !x.is_empty() as u8,
                        Val::Num(x) => 3 + (x != 0.0 && !x.is_nan()) as u8,
                        Val::Bool(x) => 5 + x as u8,
                    };
                    if kinds >> kind & 1 != 0 {
                        return Some(true);
                    }
                    let mut k = Bytes::new(strings);
                    let mut n = Bytes::new(numbers);
                    match v {
                        // Unicode case folding is not followed here.
                        Val::Str(x) if kinds & 0x80 != 0 && !ascii(x) && !strings.is_empty() => None,
                        Val::Str(x) => {
                            while k.i < strings.len() {
                                let s = k.code();
                                if if kinds & 0x80 != 0 { x.eq_ignore_ascii_case(s) } else { x == s } {
                                    return Some(true);
                                }
                            }
                            Some(false)
                        }
                        Val::Num(x) => {
                            while n.i < numbers.len() {
                                if n.f64() == x {
                                    return Some(true);
                                }
                            }
                            Some(false)
                        }
                        _ => Some(false),
                    }
                })
            }
            _ => bad(),
        };
        r
    }

    /// Whether an event's kept properties pass a `where` filter (empty: every event).
    fn filter(&self, code: &'p [u8], props: Props<'i>) -> Tri {
        if code.is_empty() {
            return Some(true);
        }
        self.nested.set(false);
        let r = self.cond(&mut Bytes::new(code), 0, Some(props));
        if self.nested.get() { None } else { r }
    }

    /// Whether recording this page view may fold the oldest raw event into a rollup: a
    /// full ring, unless loading drops an event first (past its retention, or no longer
    /// declared), which this module cannot always tell. Measurements are then made both
    /// ways ([`Self::measure`]'s and [`Self::scenario`]'s `fold`), and told only when
    /// both agree: the oldest event rarely changes a measurement.
    fn folds(&self, flags: u8) -> bool {
        flags & 1 != 0 && self.inputs.count_page_view && self.stored().events.len() >= RING_CAPACITY
    }

    /// What a [`op::BEHAVIOUR`] node measures in the profile as the full engine has
    /// it once loaded (see the module docs): the number of matching events in the
    /// window, or (`$since`) the time since the last one, infinite if there is none;
    /// `None` when this module cannot tell.
    ///
    /// `fold`: as if recording this page view folded the oldest raw event into its
    /// day's rollup (the one that covers that day once loading has coarsened them, else
    /// a new rollup of one day), as the full engine's `fold_oldest` does.
    fn measure(&self, flags: u8, name: &[u8], keep: f64, window: f64, filter: &'p [u8], fold: bool) -> Option<f64> {
        let p = self.stored();
        let now = self.inputs.now;
        let from = now - window; // NaN without a window: no time is before it
        let since = flags & 8 != 0;
        let id = p.names.iter().position(|n| *n == name).map(|i| i as u32);
        let page_view = flags & 1 != 0 && self.inputs.count_page_view;
        // Matching events counted, the last one, and the last one whose properties
        // cannot be told.
        let (mut n, mut last, mut doubt) = (0.0, f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut see = |t: f64, props| {
            if t > now || t < from {
                return;
            }
            match self.filter(filter, props) {
                Some(true) => {
                    n += 1.0;
                    last = last.max(t);
                }
                Some(false) => {}
                None => doubt = doubt.max(t),
            }
        };
        for e in &p.events[fold as usize..] {
            // Loading forgets what is past its retention (never NaN: times are finite).
            if Some(e.name) == id && now - e.time <= keep {
                see(e.time, Props::Json(e.props));
            }
        }
        if page_view && flags & 4 != 0 {
            see(round(now), if flags & 2 != 0 { Props::Path } else { Props::Json(&[]) });
        }
        // `$since` takes the last matching raw event; rollups only without one.
        if doubt > if since { last } else { f64::NEG_INFINITY } {
            return None;
        }
        if since && last > f64::NEG_INFINITY {
            return Some(now - last);
        }
        // Rollups as loading leaves them: coarsened to the span their age gives them
        // (and merged with those that then cover the same days), sorted by day, then
        // as stored; counted whole when any part is in the window.
        let today = floor(now / DAY_MS) as i64;
        let coarse = |r: &Rollup| {
            let span = span_for(r.day, today).max(r.span);
            (r.day - r.day.rem_euclid(span), span)
        };
        let kept = |r: &Rollup| Some(r.name) == id && now - (r.day + r.span) as f64 * DAY_MS <= keep;
        let (mut best, mut best_end, mut doubt) = (i64::MIN, 0.0, i64::MIN);
        // Property combinations in the rollups coarsening merges into `day`'s.
        let combos_on = |day: i64| p.rollups.iter().filter(|q| kept(q) && coarse(q).0 == day).fold((0, 0), |(g, c), q| (g + 1, c + q.combos.len()));
        // The folded event: kept through loading, its day's rollup and whether that one
        // exists. Its properties count as one more combination, kept only while the
        // rollup has fewer than 8.
        let folded = p.events.first().filter(|e| fold && Some(e.name) == id && now - e.time <= keep).map(|e| {
            let d = floor(e.time / DAY_MS) as i64;
            let into = p.rollups.iter().position(|r| kept(r) && { let (day, span) = coarse(r); day <= d && d < day + span });
            (e, into.map_or((d, 1), |k| coarse(&p.rollups[k])), into.unwrap_or(p.rollups.len()))
        });
        for k in 0..p.rollups.len() + folded.is_some() as usize {
            let (r, (day, span)) = match (p.rollups.get(k), folded) {
                (Some(r), _) => (Some(r), coarse(r)),
                (None, Some((_, group, _))) => (None, group),
                _ => break,
            };
            let end = (day + span) as f64 * DAY_MS;
            if r.is_some_and(|r| !kept(r)) || day as f64 * DAY_MS > now || end <= from {
                continue;
            }
            let (group, combos) = combos_on(day);
            let mut m = Some(r.map_or(1.0, |r| r.count));
            if !filter.is_empty() {
                m = match r {
                    // Rollups merged by coarsening keep at most 8 property combinations:
                    // past that, what a filter finds in the merged one cannot be told.
                    Some(_) => (group < 2 || combos <= 8).then_some(0.0),
                    None => Some(0.0),
                };
                let folded_props = folded.filter(|_| r.is_none()).map(|(e, _, _)| (e.props, 1.0));
                if folded_props.is_some_and(|(props, _)| !props.is_empty() && combos >= 8) {
                    m = None;
                }
                for (props, c) in r.map_or(&[][..], |r| &r.combos[..]).iter().copied().chain(folded_props.filter(|(props, _)| !props.is_empty())) {
                    m = match self.filter(filter, Props::Json(props)) {
                        Some(true) => m.map(|m| m + c),
                        Some(false) => m,
                        None => None,
                    };
                }
            }
            let key = day * 65536 + r.map_or_else(|| folded.map_or(0, |f| f.2), |_| k) as i64; // profiles within the budget hold fewer rollups
            match m {
                None => doubt = doubt.max(key),
                Some(c) => {
                    n += c;
                    if c > 0.0 && key > best {
                        (best, best_end) = (key, end);
                    }
                }
            }
        }
        if !since {
            (doubt == i64::MIN).then_some(n)
        } else if doubt > best {
            None
        } else if best > i64::MIN {
            Some(now - (best_end - 1.0).min(now))
        } else {
            Some(f64::INFINITY)
        }
    }

    /// Whether a [`op::SCENARIO`] passes in the profile as the full engine has it once
    /// loaded: the steps matched in recording order by raw events up to now (this
    /// page view's own event last), the last within `within` of the first, and no
    /// `notFollowedBy` event after the latest complete sequence. `steps` ends with the
    /// `notFollowedBy` step. Unknown when a filter cannot tell for an event it is asked
    /// about.
    ///
    /// `first`: the first raw event kept (1: the oldest was folded into a rollup, which
    /// scenarios do not see; see [`Self::measure`]).
    fn scenario(&self, flags: u8, within: f64, steps: &[(&[u8], f64, &'p [u8])], first: usize) -> Tri {
        let p = self.stored();
        let now = self.inputs.now;
        let page_view = flags & 1 != 0 && self.inputs.count_page_view;
        let own = page_view && round(now) <= now;
        let total = p.events.len() + own as usize;
        // Event k as step s sees it: its time and properties, if it is one of the
        // step's events, kept through loading, and not after now.
        let at = |k: usize, s: usize| match p.events.get(k) {
            Some(e) => (p.names.iter().position(|n| *n == steps[s].0) == Some(e.name as usize) && now - e.time <= steps[s].1 && e.time <= now)
                .then_some((e.time, Props::Json(e.props))),
            None => (steps[s].0 == b"page_view").then_some((round(now), if flags & 2 != 0 { Props::Path } else { Props::Json(&[]) })),
        };
        let n = steps.len() - 1;
        // best[i]: the latest start of a partial sequence through step i (NaN: none).
        let mut best = [f64::NAN; 8];
        let mut complete = None;
        for k in first..total {
            for i in (0..n).rev() {
                let Some((t, props)) = at(k, i) else { continue };
                match self.filter(steps[i].2, props) {
                    None => return None,
                    Some(false) => continue,
                    Some(true) => {}
                }
                let start = if i == 0 { t } else { best[i - 1] };
                if start.is_nan() {
                    continue;
                }
                if i == n - 1 && t - start <= within {
                    complete = Some(k);
                }
                best[i] = best[i].max(start); // NaN gives way

            }
        }
        let Some(j) = complete else { return Some(false) };
        for k in j + 1..total {
            if let Some((_, props)) = at(k, n) {
                match self.filter(steps[n].2, props) {
                    Some(false) => {}
                    r => return r.map(|_| false),
                }
            }
        }
        Some(true)
    }

    /// Runs a slot's candidates through audience → schedule → caps → allocation.
    fn slot(&self, b: &mut Bytes<'p>) -> Outcome {
        for _ in 0..b.un() {
            let i = b.un();
            let flags = b.u8();
            if flags & 1 == 0 {
                return self.wait();
            }
            let id = b.code();
            let audience = b.code();
            let (start, end, lifetime) = (b.f64(), b.f64(), b.f64());
            let cap = (b.un(), b.f64());
            let (version, prefix, suffix) = (b.un(), b.un(), b.code());
            let (holdout, holdout_prefix) = (b.f64(), b.un());
            let variants = b.code();
            // The variants' ids and ranges, in order.
            let variant = |k: &mut Bytes<'p>| -> (&'p [u8], f64, f64) { (k.code(), k.f64(), k.f64()) };
            let ok = if audience.is_empty() { Some(true) } else { self.cond(&mut Bytes::new(audience), 0, None) };
            match ok {
                None => return self.wait(),
                Some(false) => continue,
                Some(true) => {}
            }
            let now = self.inputs.now;
            if now < start || now >= end {
                continue; // NaN (no bound) compares false both ways
            }
            let mut sticky = None;
            match self.prof() {
                Prof::Unknown => return self.wait(),
                Prof::Absent => {}
                Prof::Known(_) => {
                    let p = self.stored();
                    let view_start = self.inputs.view_start.min(now);
                    let first = p.impressions.iter().find(|s| s.experience == id).map(|s| s.first);
                    let lifetime_over = matches!(first, Some(f) if now >= f + lifetime); // NaN: never
                    // No cap is 0xFFFFFFFF impressions: never reached.
                    let own = p.impressions_between(Some(id), now - cap.1, view_start) >= cap.0;
                    let (n, per) = self.p.global_cap;
                    let base = p.impressions_between(None, now - per, view_start) as u64;
                    let (lo, hi) = self.shown.get();
                    let (a, b) = (base + lo as u64 >= n as u64, base + hi as u64 >= n as u64);
                    if lifetime_over || own {
                        continue;
                    }
                    if a != b {
                        return self.wait();
                    }
                    if a {
                        continue;
                    }
                    if let Some((_, v)) = p.assignments.iter().find(|(x, _)| *x == id) {
                        let mut k = Bytes::new(variants);
                        let mut at = 0;
                        while k.i < variants.len() {
                            if variant(&mut k).0 == *v {
                                sticky = Some(at);
                                break;
                            }
                            at += 1;
                        }
                    }
                }
            }
            let shown = |variant: u32, sticky| {
                let (lo, hi) = self.shown.get();
                self.shown.set((lo + 1, hi + 1));
                Outcome::Shown {
                    experience: i,
                    variant,
                    sticky,
                }
            };
            if let Some(v) = sticky {
                return shown(v, true);
            }
            if flags & 2 != 0 {
                return shown(0, false);
            }
            let unit = self.inputs.unit;
            if unit.is_empty() {
                continue;
            }
            let Some(n) = hash_from(prefix, unit, suffix, version) else {
                continue;
            };
            if holdout > 0.0 && hash_from(holdout_prefix, unit, &[], 2).unwrap_or(1.0) < holdout {
                return Outcome::Holdout { experience: i };
            }
            let mut k = Bytes::new(variants);
            let mut at = 0;
            while k.i < variants.len() {
                let (_, a, b) = variant(&mut k);
                if n >= a && n < b {
                    return shown(at, false);
                }
                at += 1;
            }
        }
        Outcome::Default
    }

    /// The slot is left to the full engine, which may show a variant there.
    fn wait(&self) -> Outcome {
        let (lo, hi) = self.shown.get();
        self.shown.set((lo, hi + 1));
        Outcome::Wait
    }
}

/// Whether `s` is ASCII (a plain loop: `is_ascii`'s word-at-a-time version is larger).
fn ascii(s: &[u8]) -> bool {
    s.iter().all(|&c| c < 0x80)
}

/// JavaScript's `ToNumber` where this module follows it exactly: null is 0, a number
/// is itself, a boolean 0 or 1, a string of at most 15 ASCII digits or an empty string is its value.
/// Any other string is unknown (`None`).
fn to_number(v: Val) -> Option<f64> {
    match v {
        Val::Null => Some(0.0),
        Val::Num(n) => Some(n),
        Val::Bool(b) => Some(b as u8 as f64),
        Val::Str(s) if s.len() <= 15 && s.iter().all(u8::is_ascii_digit) => {
            Some(s.iter().fold(0u64, |a, d| a * 10 + (d - b'0') as u64) as f64)
        }
        Val::Str(_) => None,
    }
}
