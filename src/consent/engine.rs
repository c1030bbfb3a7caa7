//! The consent state machine. See the parent module for the rules it implements.

use super::config::ConsentConfig;
use super::ledger::{LedgerRecord, PurposeEntry};
use super::record::{Decision, Record, CHANNELS};
use super::signal::{Adapter, Signal};
use super::{hex, rfc3339, Effect, Method, Purpose, PurposeState, Source, State, IDENTIFIER_KEY, RECORD_KEY};
use crate::json::{Map, Value};

/// Index of each live signal in [`CHANNELS`].
const TCF: usize = 0;
const GPP: usize = 1;
const CONSENT_MODE: usize = 2;
const COOKIECONSENT: usize = 3;
const KLARO: usize = 4;

/// What a live signal said on this page view.
#[derive(Debug, Clone, Copy)]
struct Voice {
    /// `NotAsked` is TCF's "no answer yet where GDPR applies": nothing may be granted.
    state: State,
    at: u64,
}

/// A ledger record to append when the call finishes.
struct Entry {
    method: Source,
    decided: [Option<State>; 2],
    /// Effective states right after this decision.
    states: [PurposeState; 2],
    gpc_override: bool,
}

/// What happened during one call.
#[derive(Default)]
struct Step {
    entries: Vec<Entry>,
    /// A granted decision lapsed (expiry, notice change, discarded record).
    lost: [bool; 2],
    /// A decision lapsed: ask again if the purpose ends up not asked.
    ask: [bool; 2],
    dirty: bool,
}

/// The consent engine of one page view: the persisted record plus the signals heard
/// on this page. Every mutating method takes the time and 32 fresh random bytes (bytes
/// 0–15 make ledger record ids, bytes 16–31 a new identifier when one is issued) and
/// returns the [`Effect`]s to carry out, in order.
#[derive(Debug, Clone)]
pub struct ConsentEngine {
    config: ConsentConfig,
    record: Record,
    voices: [[Option<Voice>; 2]; 5],
    gpc_seen: Option<bool>,
    tc_string: Option<String>,
    gpp_string: Option<String>,
    /// Effective states as last reported, to detect changes.
    last: [State; 2],
}

impl ConsentEngine {
    /// Starts from the stored consent record (`None` on a first visit). Decisions that
    /// expired or whose notice text or rules revision changed return to not asked
    /// (logged, storage deleted if they were grants, [`Effect::AskAgain`]). A record
    /// that cannot be read is discarded ([`Effect::RecordDiscarded`]) and both
    /// purposes' storage is deleted, since nothing says it was consented to.
    /// Never emits [`Effect::Changed`] for the initial state: read [`Self::state`].
    pub fn new(
        config: ConsentConfig,
        stored_record: Option<&str>,
        now_ms: u64,
        random: [u8; 32],
    ) -> (ConsentEngine, Vec<Effect>) {
        let mut step = Step::default();
        let mut effects = Vec::new();
        let record = match stored_record.map(|text| Record::parse(text, now_ms)) {
            None => Record::new(),
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                effects.push(Effect::RecordDiscarded(e));
                let mut r = Record::new();
                r.data = [true; 2]; // unknown: purge whatever may be there
                step.lost = [true; 2];
                step.dirty = true;
                r
            }
        };
        let mut voices = [[None; 2]; 5];
        if config.tcf.is_some_and(|t| t.gdpr_applies) {
            voices[TCF] = [Some(Voice { state: State::NotAsked, at: now_ms }); 2];
        }
        // A refusal a live signal gave on an earlier page, or in another tab (whose
        // record this tab reloads), stands until that signal answers on this page: the
        // most restrictive voice wins. A remembered grant never counts.
        for (channel, seen) in record.seen.iter().enumerate() {
            for (voice, state) in voices[channel].iter_mut().zip(seen) {
                if *state == Some(State::Denied) {
                    *voice = Some(Voice { state: State::Denied, at: now_ms });
                }
            }
        }
        let mut engine = ConsentEngine {
            config,
            record,
            voices,
            gpc_seen: None,
            tc_string: None,
            gpp_string: None,
            last: [State::NotAsked; 2],
        };
        let now_ms = engine.clock(now_ms);
        engine.last = Purpose::ALL.map(|p| engine.purpose_state(p, now_ms).state);
        engine.expire(now_ms, &mut step);
        engine.check_notice(now_ms, &mut step);
        effects.extend(engine.finish(now_ms, &random, step));
        effects.retain(|e| !matches!(e, Effect::Changed { .. }));
        (engine, effects)
    }

    /// Records the visitor's explicit choices (`true` grants), e.g. a custom choice
    /// granting one purpose and refusing the other. One ledger record. A grant of
    /// personalization while a GPC opt-out is remembered overrides it and is logged
    /// with `gpc_override: true`. An `AcceptAll` that refuses a purpose, or a
    /// `RejectAll` that grants one, is logged as `Custom`.
    pub fn decide(
        &mut self,
        choices: &[(Purpose, bool)],
        method: Method,
        now_ms: u64,
        random: [u8; 32],
    ) -> Vec<Effect> {
        self.choose(choices, method.source(), now_ms, random)
    }

    /// Grants `purposes` (see [`Self::decide`]).
    pub fn grant(&mut self, purposes: &[Purpose], method: Method, now_ms: u64, random: [u8; 32]) -> Vec<Effect> {
        let choices: Vec<_> = purposes.iter().map(|&p| (p, true)).collect();
        self.choose(&choices, method.source(), now_ms, random)
    }

    /// Withdraws consent for `purposes`: they become denied (method `revocation`) and
    /// their storage is deleted by the returned effects.
    pub fn revoke(&mut self, purposes: &[Purpose], now_ms: u64, random: [u8; 32]) -> Vec<Effect> {
        let choices: Vec<_> = purposes.iter().map(|&p| (p, false)).collect();
        self.choose(&choices, Source::Revocation, now_ms, random)
    }

    /// Applies a signal read from the page. Signals not enabled in the configuration,
    /// and TCF/GPP events that are not final yet, are ignored. An answer identical to
    /// the last one remembered is not logged again.
    pub fn apply_signal(&mut self, signal: Signal, now_ms: u64, random: [u8; 32]) -> Vec<Effect> {
        let now_ms = self.clock(now_ms);
        let mut step = Step::default();
        self.expire(now_ms, &mut step);
        let flag = |b: Option<bool>| b.map(|g| if g { State::Granted } else { State::Denied });
        let c = &self.config;
        let (gpc, tcf, gpp, consent_mode) = (c.gpc, c.tcf, c.gpp, c.consent_mode);
        let adapters = [c.cookieconsent, c.klaro];
        match signal {
            Signal::Gpc(on) if gpc => {
                self.gpc_seen = Some(on);
                if on {
                    self.observe_gpc(now_ms, &mut step);
                }
            }
            Signal::Tcf(data) => {
                if let Some(verdicts) = tcf.and_then(|t| data.verdicts(t.vendor_id)) {
                    self.tc_string = Some(data.tc_string).filter(|s| !s.is_empty());
                    self.hear(TCF, verdicts, now_ms, &mut step);
                }
            }
            Signal::Gpp(data) if gpp && data.signal_status == "ready" => {
                self.gpp_string = Some(data.gpp_string).filter(|s| !s.is_empty());
                self.hear(GPP, [data.us_opt_out.then_some(State::Denied), None], now_ms, &mut step);
            }
            Signal::ConsentMode { personalization_storage, analytics_storage } if consent_mode => {
                self.hear(CONSENT_MODE, [flag(personalization_storage), flag(analytics_storage)], now_ms, &mut step);
            }
            Signal::Adapter { adapter, personalization, measurement } => {
                let (channel, on) = match adapter {
                    Adapter::CookieConsent => (COOKIECONSENT, adapters[0]),
                    Adapter::Klaro => (KLARO, adapters[1]),
                };
                if on {
                    self.hear(channel, [flag(personalization), flag(measurement)], now_ms, &mut step);
                }
            }
            _ => {}
        }
        self.finish(now_ms, &random, step)
    }

    /// Applies expiry at `now_ms`: call it on a timer and when the page becomes
    /// visible again, so a long-lived page stops processing when consent lapses.
    pub fn tick(&mut self, now_ms: u64, random: [u8; 32]) -> Vec<Effect> {
        let now_ms = self.clock(now_ms);
        let mut step = Step::default();
        self.expire(now_ms, &mut step);
        self.finish(now_ms, &random, step)
    }

    /// The effective state of `purpose` at `now_ms` (expiry already applied, even
    /// before [`Self::tick`] runs).
    pub fn purpose_state(&self, purpose: Purpose, now_ms: u64) -> PurposeState {
        let i = purpose.index();
        let (mut deny, mut withhold, mut grant) = (None, None, None);
        let mut fallback = PurposeState {
            state: self.config.defaults[i],
            source: Source::Default,
            decided_at: None,
            expires_at: None,
        };
        if let Some(d) = &self.record.choice[i] {
            let at = Some(d.at);
            match d.exp.map(|exp| self.deadline(d.at, exp)) {
                Some(end) if now_ms < end => {
                    let ps = PurposeState { state: d.state, source: d.source, decided_at: at, expires_at: Some(end) };
                    if d.state == State::Denied {
                        deny = Some(ps);
                    } else {
                        grant = Some(ps);
                    }
                }
                Some(end) => {
                    fallback = PurposeState {
                        state: State::NotAsked,
                        source: Source::Expiry,
                        decided_at: Some(end),
                        expires_at: None,
                    }
                }
                None => {
                    fallback =
                        PurposeState { state: State::NotAsked, source: d.source, decided_at: at, expires_at: None }
                }
            }
        }
        if purpose == Purpose::Personalization {
            deny = deny.or(self.gpc_refusal(now_ms));
        }
        for (c, voice) in self.voices.iter().enumerate() {
            let Some(v) = voice[i] else { continue };
            let decided_at = (v.state != State::NotAsked).then_some(v.at);
            let ps = PurposeState { state: v.state, source: CHANNELS[c], decided_at, expires_at: None };
            let slot = match v.state {
                State::Denied => &mut deny,
                State::NotAsked => &mut withhold,
                State::Granted => &mut grant,
            };
            *slot = slot.or(Some(ps));
        }
        deny.or(withhold).or(grant).unwrap_or(fallback)
    }

    /// Whether processing for `purpose` is allowed at `now_ms`.
    pub fn is_granted(&self, purpose: Purpose, now_ms: u64) -> bool {
        self.purpose_state(purpose, now_ms).state == State::Granted
    }

    /// Whether a GPC opt-out is in force: the host can show "Opt-out preference signal
    /// honored". False once an explicit grant has overridden it.
    pub fn gpc_honored(&self, now_ms: u64) -> bool {
        self.gpc_refusal(now_ms).is_some()
    }

    /// `{ "personalization": { "state", "source", "decided_at", "expires_at" },
    ///    "measurement": { … }, "gpc_honored": bool }`, times in ms since the epoch or
    /// null.
    pub fn state(&self, now_ms: u64) -> Value {
        let time = |t: Option<u64>| t.map_or(Value::Null, |t| Value::Number(t as f64));
        let mut m = Map::new();
        for p in Purpose::ALL {
            let s = self.purpose_state(p, now_ms);
            let mut o = Map::new();
            o.insert("state", s.state.name().into());
            o.insert("source", s.source.name().into());
            o.insert("decided_at", time(s.decided_at));
            o.insert("expires_at", time(s.expires_at));
            m.insert(p.name(), o.into());
        }
        m.insert("gpc_honored", self.gpc_honored(now_ms).into());
        Value::Object(m)
    }

    /// The ledger export (see [`super::ledger`]), verifiable with
    /// [`super::verify_ledger`].
    pub fn export_ledger(&self) -> String {
        super::to_json(&self.record.ledger.to_value())
    }

    /// The consent record as stored under [`RECORD_KEY`].
    pub fn record_json(&self) -> String {
        self.record.to_json()
    }

    /// When a decision made at `at` lapses: its stored expiry, cut short if the
    /// configured lifetime has since been shortened.
    fn deadline(&self, at: u64, exp: u64) -> u64 {
        exp.min(at.saturating_add(self.config.lifetime_ms))
    }

    /// The GPC refusal in force, if any: remembered, not lapsed, not overridden by a
    /// live explicit grant.
    fn gpc_refusal(&self, now: u64) -> Option<PurposeState> {
        let (at, exp) = self.record.gpc?;
        let end = self.deadline(at, exp);
        let overridden = matches!(&self.record.choice[0],
            Some(d) if d.gpc_override && d.state == State::Granted && d.exp.is_some_and(|e| now < self.deadline(d.at, e)));
        (now < end && !overridden).then_some(PurposeState {
            state: State::Denied,
            source: Source::Gpc,
            decided_at: Some(at),
            expires_at: Some(end),
        })
    }

    /// `now`, or the time of the last ledger record if the clock went back since:
    /// ledger times never go backwards (a verifier refuses that), and a decision is
    /// bound to its record's time.
    fn clock(&self, now: u64) -> u64 {
        self.record.ledger.last_time().map_or(now, |last| now.max(last))
    }

    fn choose(&mut self, choices: &[(Purpose, bool)], source: Source, now: u64, random: [u8; 32]) -> Vec<Effect> {
        let now = self.clock(now);
        // "Accept all" that refuses something, or "reject all" that grants something,
        // is a custom choice: logged as such, a ledger record never contradicts its
        // method (a verifier refuses one that does).
        let source = match source {
            Source::AcceptAll if choices.iter().any(|&(_, g)| !g) => Source::Custom,
            Source::RejectAll if choices.iter().any(|&(_, g)| g) => Source::Custom,
            s => s,
        };
        let mut step = Step::default();
        self.expire(now, &mut step);
        let mut decided = [None; 2];
        let mut any_override = false;
        for &(p, granted) in choices {
            let i = p.index();
            let state = if granted { State::Granted } else { State::Denied };
            // After `expire`, a remembered GPC opt-out is one still in force.
            let gpc_override = granted && p == Purpose::Personalization && self.record.gpc.is_some();
            any_override |= gpc_override;
            self.record.choice[i] = Some(Decision {
                state,
                source,
                at: now,
                exp: Some(now.saturating_add(self.config.lifetime_ms)),
                text: self.config.text_sha256[i].clone(),
                rev: self.config.rules_revision.clone(),
                gpc_override,
            });
            decided[i] = Some(state);
        }
        if decided != [None; 2] {
            self.log(&mut step, source, decided, any_override, now);
        }
        self.finish(now, &random, step)
    }

    /// Lapses choices and the GPC memory whose time has come.
    fn expire(&mut self, now: u64, step: &mut Step) {
        let mut decided = [None; 2];
        for p in Purpose::ALL {
            let i = p.index();
            let Some(d) = &self.record.choice[i] else { continue };
            let Some(end) = d.exp.map(|exp| self.deadline(d.at, exp)) else { continue };
            if now >= end {
                step.lost[i] |= d.state == State::Granted;
                step.ask[i] = true;
                decided[i] = Some(State::NotAsked);
                self.record.choice[i] = Some(Decision::lapsed(Source::Expiry, end));
            }
        }
        if let Some((at, exp)) = self.record.gpc {
            let end = self.deadline(at, exp);
            if now >= end {
                self.record.gpc = None;
                step.ask[0] = true;
                decided[0] = Some(State::NotAsked);
                self.record.choice[0].get_or_insert_with(|| Decision::lapsed(Source::Expiry, end));
            }
        }
        if decided != [None; 2] {
            self.log(step, Source::Expiry, decided, false, now);
        }
        // GPC still sent on this page: the lapsed opt-out is seen again at once.
        if self.gpc_seen == Some(true) {
            self.observe_gpc(now, step);
        }
    }

    /// Returns decisions made under another notice text or rules revision to not asked.
    fn check_notice(&mut self, now: u64, step: &mut Step) {
        let mut decided = [None; 2];
        for p in Purpose::ALL {
            let i = p.index();
            let Some(d) = &self.record.choice[i] else { continue };
            let stale = d.text != self.config.text_sha256[i] || d.rev != self.config.rules_revision;
            if d.state != State::NotAsked && stale {
                step.lost[i] |= d.state == State::Granted;
                step.ask[i] = true;
                decided[i] = Some(State::NotAsked);
                self.record.choice[i] = Some(Decision::lapsed(Source::NoticeChange, now));
            }
        }
        if decided != [None; 2] {
            self.log(step, Source::NoticeChange, decided, false, now);
        }
    }

    /// GPC seen: remember the opt-out unless it already is.
    fn observe_gpc(&mut self, now: u64, step: &mut Step) {
        if self.record.gpc.is_none() {
            self.record.gpc = Some((now, now.saturating_add(self.config.lifetime_ms)));
            self.log(step, Source::Gpc, [Some(State::Denied), None], false, now);
        }
    }

    /// A live signal answered; logged when the answer differs from the last one seen.
    fn hear(&mut self, channel: usize, states: [Option<State>; 2], now: u64, step: &mut Step) {
        for (voice, state) in self.voices[channel].iter_mut().zip(states) {
            if voice.map(|v| v.state) != state {
                *voice = state.map(|state| Voice { state, at: now });
            }
        }
        if self.record.seen[channel] != states {
            self.record.seen[channel] = states;
            self.log(step, CHANNELS[channel], states, false, now);
        }
    }

    fn log(&self, step: &mut Step, method: Source, decided: [Option<State>; 2], gpc_override: bool, now: u64) {
        let states = Purpose::ALL.map(|p| self.purpose_state(p, now));
        step.entries.push(Entry { method, decided, states, gpc_override });
    }

    /// Turns the new effective states into effects: delete what lost its grant, issue
    /// an identifier for a fresh personalization grant, append the ledger, persist.
    fn finish(&mut self, now: u64, random: &[u8; 32], mut step: Step) -> Vec<Effect> {
        let mut effects = Vec::new();
        let (mut changed, mut ask) = (Vec::new(), Vec::new());
        let mut identifier = None;
        let mut dirty = step.dirty;
        // The entries hold the states as they were logged, so appending them first
        // changes nothing in them.
        for (n, e) in core::mem::take(&mut step.entries).into_iter().enumerate() {
            let record = self.ledger_record(e, record_id(random, n), now);
            self.record.ledger.append(record);
            dirty = true;
        }
        if dirty {
            self.record.ledger.prune(self.config.ledger_limit, self.record.oldest_basis());
            // Past the pruning allowance a grant can lose its ledger record; a grant
            // the ledger does not show is never kept (the next page view would refuse
            // it), so it lapses here and the host asks again.
            for p in Purpose::ALL {
                let i = p.index();
                let granted = self.record.choice[i].as_ref().is_some_and(|d| d.state == State::Granted);
                if granted && !self.record.choice_has_basis(p) {
                    self.record.choice[i] = Some(Decision::lapsed(Source::Expiry, now));
                    step.lost[i] = true;
                    step.ask[i] = true;
                }
            }
        }
        for p in Purpose::ALL {
            let i = p.index();
            let s = self.purpose_state(p, now);
            let refused = s.state == State::Denied && s.source != Source::Default;
            // A pending CMP answer at load is not a loss: the data waits for it.
            let lost = self.last[i] == State::Granted || refused || step.lost[i];
            if self.record.data[i] && s.state != State::Granted && lost {
                effects.push(Effect::Delete { purpose: p, keys: p.storage_keys() });
                self.record.data[i] = false;
                dirty = true;
            }
            if s.state == State::Granted && !self.record.data[i] {
                // The record says nothing is stored for this purpose, so anything found
                // under its keys (left by a partial clean-up that removed only the record)
                // belongs to no consent: it is cleared before the purpose is used, never
                // adopted by the new grant.
                effects.push(Effect::Delete { purpose: p, keys: p.storage_keys() });
                self.record.data[i] = true;
                dirty = true;
                if p == Purpose::Personalization {
                    // Fresh random bytes only: nothing links it to an earlier identifier.
                    identifier = Some(hex(&random[16..]));
                }
            }
            if s.state != self.last[i] {
                changed.push(p);
            }
            if step.ask[i] && s.state == State::NotAsked {
                ask.push(p);
            }
            self.last[i] = s.state;
        }
        // The identifier goes first: a record claiming data that never got written
        // would keep a later grant from issuing one.
        if let Some(value) = identifier {
            effects.push(Effect::Persist { key: IDENTIFIER_KEY, value });
        }
        if dirty {
            effects.push(Effect::Persist { key: RECORD_KEY, value: self.record.to_json() });
        }
        if !changed.is_empty() {
            effects.push(Effect::Changed { purposes: changed });
        }
        if !ask.is_empty() {
            effects.push(Effect::AskAgain { purposes: ask });
        }
        effects
    }

    fn ledger_record(&self, e: Entry, id: String, now: u64) -> LedgerRecord {
        let c = &self.config;
        LedgerRecord {
            seq: 0,
            id,
            time: rfc3339(now),
            method: e.method,
            purposes: [0, 1].map(|i| PurposeEntry {
                decided: e.decided[i],
                state: e.states[i].state,
                source: e.states[i].source,
                expires: e.states[i].expires_at.map(rfc3339),
            }),
            gpc: self.gpc_seen,
            tc_string: self.tc_string.clone(),
            gpp_string: self.gpp_string.clone(),
            notice_version: c.notice_version.clone(),
            text_sha256: c.text_sha256.clone(),
            rules_revision: c.rules_revision.clone(),
            sdk_version: crate::VERSION.into(),
            gpc_override: e.gpc_override,
            prev: String::new(),
        }
    }
}

/// The id of the `n`th ledger record of a call: random bytes 0–15 as hex for the
/// first; for the rare second (expiry and a decision in one call) a SHA-256 of those
/// bytes and `n`, so ids stay unpredictable and distinct.
fn record_id(random: &[u8; 32], n: usize) -> String {
    if n == 0 {
        return hex(&random[..16]);
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(&random[..16]);
    h.update([n as u8]);
    hex(&h.finalize()[..16])
}
