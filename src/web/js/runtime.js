// The page runtime: loads the rules, reads the page context, asks the core to decide
// every slot and applies the decisions to the DOM; under consent, captures the
// visitor's interactions into the on-device profile. It never throws into the host
// page: every failure leaves the default content and one console message.
import { Engine, TailorError, pageInputs, utf8, version } from "./api.js";
import { createStorage, PURPOSE_PREFIXES, purposeList, wipePurposes, recordWithdrawal, storedKeys, PROFILE_KEY, ID_KEY } from "./storage.js";
import { startConsent } from "./consent.js";
import { firstRound } from "./first.js";
import { startCapture } from "./capture.js";
import { doc, mark, own, pageUnitOrNone } from "./dom.js";
import { consentLinks, MAX_PENDING } from "./consent-links.js";
import { SLOT, slotSelector, createVeil, applyContent } from "./slots.js";
import { domReady, loadRules, rulesOrigin } from "./rules-source.js";

const GOALS_KEY = `${PURPOSE_PREFIXES.measurement}goals`;
/** Profile writes are batched: at most one every 250 ms, plus a flush on pagehide. */
const WRITE_DELAY_MS = 250;
/** A .wasm that has not arrived by then has failed (withdrawal never waits for it). */
const WASM_TIMEOUT_MS = 15_000;

// A new task: start-up work is split into tasks of a few milliseconds each, so that the
// page stays responsive while the full module takes over (no long task).
const nextTask = () => (typeof globalThis.scheduler?.yield === "function" ? globalThis.scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0)));

// `promise`, or the error `late()` if it has not settled within `ms`.
function withTimeout(promise, ms, late) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(late()), ms)))]).finally(() => clearTimeout(timer));
}

function safely(cb, arg) {
  try {
    cb(arg);
  } catch (e) {
    console.error("Tailor: a listener threw", e);
  }
}

function asTailorError(e, code) {
  return e instanceof TailorError ? e : new TailorError(code, `Tailor: ${e?.message ?? e}`);
}

/**
 * Starts Tailor on the current page. Options: `rules` (an object, JSON text, a URL or
 * the id of an inline JSON script), `consent` (the consent configuration),
 * `wasmReady` (a promise the script tag passes while the .wasm compiles),
 * `antiFlickerMs` (default 500; 0 hides nothing and applies decisions whenever they
 * arrive), `allowAutomation` (enrol automated browsers and visitors who never
 * interact; default false). Returns the page API.
 *
 * Anti-flicker: until the first decisions, slots (never the page) are hidden with
 * `visibility: hidden`, which keeps their box, so nothing around them moves. After
 * `antiFlickerMs` the defaults show; decisions that arrive later do not replace what
 * the visitor is already reading: the slots keep their default content for this page
 * view (`decide(slot).late` is true) until the next navigation or consent change.
 */
export function start(options = {}, handoff = null) {
  if (typeof document === "undefined") {
    throw new TailorError("NO_DOCUMENT", "Tailor: start() needs a browser page; on a server, use Engine to decide");
  }
  // One Tailor per page: a second start() (hot reload, React StrictMode, a second tag)
  // gets the running instance; stop() it first to start afresh.
  // A page rewritten by document.open() keeps its global and document but not its root
  // element: the instance left behind is stopped, and a new one starts.
  const held = globalThis[RUNNING];
  if (held && held.root !== doc.documentElement()) held.api.stop();
  const running = held?.root === doc.documentElement() ? held.api : null;
  if (running && running.status().state !== "stopped") {
    console.warn(`Tailor: start() was called while Tailor already runs on this page (status "${running.status().state}"); returning the running instance (call tailor.stop() first to start again)`);
    return running;
  }
  // Options are read as own properties: a polluted Object.prototype adds none.
  options = { rules: own(options, "rules"), consent: own(options, "consent"), antiFlickerMs: own(options, "antiFlickerMs"), allowAutomation: own(options, "allowAutomation"), wasmReady: own(options, "wasmReady"), loadInspector: own(options, "loadInspector") };
  const listeners = { decision: [], error: [], dropped: [] };
  // `handoff`: what the script tag's first stage (stage.js) leaves to this full module:
  // its storage, page unit, held calls, veil, the slots' remembered defaults and the
  // first decisions it showed. The visitor sees no change when the full module takes
  // over.
  const h = handoff ?? {};
  const decisions = new Map();
  const defaults = h.defaults ?? new WeakMap();
  const storage = h.storage ?? createStorage();
  // Allocation identity for this page view only, when nothing may be stored. Without
  // working randomness, nobody is enrolled: a shared constant would link visitors.
  const pageUnit = h.pageUnit ?? pageUnitOrNone();
  const allowAutomation = options.allowAutomation === true;
  const automated = navigator.webdriver === true && !allowAutomation;
  const antiFlickerMs = Number.isFinite(options.antiFlickerMs) && options.antiFlickerMs >= 0 ? options.antiFlickerMs : 500;
  let interacted = allowAutomation;
  let engine = null;
  let consent = null;
  let capture = null;
  let started = false; // the first decisions were made (or start failed)
  // Commands and track() calls made before the rules and consent were known, in order.
  const pending = h.pending ?? [];
  const impressions = new Map(); // slot → "experience\u0000variant" recorded on this page view
  let viewStart = h.viewStart ?? Date.now(); // this page view's own impressions do not count against caps
  let flushTimer = null;
  let dirty = false;
  let pageViewRecorded = false;
  // Events queued by track() for the core (see record()), and whether a profile is loaded.
  const trackQueue = [];
  let declaredEvents = null;
  let profileLoaded = false;
  // Anti-flicker: the veil hiding every slot until the first decisions (slots.js), and
  // whether the first decisions came too late to replace the defaults already shown.
  const veil = h.veil ?? createVeil(antiFlickerMs === 0);
  let late = h.late ?? false;
  // The first decision (first.js), made from compiled rules while the .wasm loads: the
  // compiled file, the slots it decided (the engine's later decision of the same slot
  // is never "late"), whether it read the profile, and whether a withdrawal since
  // forbids that.
  const compiled = h.compiled ?? null;
  const firstShown = new Set();
  for (const d of h.decisions ?? []) {
    decisions.set(d.slot, d);
    firstShown.add(d.slot);
  }
  let firstUsedProfile = h.firstUsedProfile ?? false;
  let firstWithdrawn = h.firstWithdrawn ?? false;

  // What start-up came to: "starting", "ready" (rules loaded, slots decided) or
  // "failed" (rules missing, unreachable or invalid, or the engine failed): status().
  let state = "starting";
  let failure = null;

  function report(error) {
    console.error(error.message);
    for (const cb of listeners.error) safely(cb, error);
  }

  function fail(error) {
    state = "failed";
    failure ??= error;
    report(error);
  }

  // Every call into the engine goes through here. A failure inside it (a trap such as
  // a stack overflow, or a host function that threw) may leave the engine unusable, so
  // it is dropped for this page: slots keep what they show, nothing more is captured
  // or stored, and withdrawal, which never needs the engine, keeps working.
  function core(what, fn, fallback) {
    if (!engine) return fallback;
    try {
      return fn(engine.core);
    } catch (e) {
      engineFailed(e, what);
      return fallback;
    }
  }

  function engineFailed(e, what) {
    engine?.fail(e);
    engine = null;
    trackQueue.length = 0;
    profileLoaded = false;
    goalsLoaded = false;
    cancelWrites();
    goalsDirty = false;
    stopCapture();
    fail(new TailorError("ENGINE_FAILED", `Tailor: the engine failed while ${what} (${e?.message ?? e}); the page keeps its current content and nothing more is recorded; consent and withdrawal still work`));
  }

  // Why an event was not stored, once per reason and event name: in the console and to
  // on("dropped") listeners. The event itself is never kept.
  const droppedSeen = new Set();
  function dropped(name, reason, message) {
    noteEvent(name, null, false, message);
    const key = `${reason}\u0000${name}`;
    if (droppedSeen.has(key)) return;
    droppedSeen.add(key);
    console.info(`Tailor: track(${JSON.stringify(name)}) was not stored: ${message} (said once per event name)`);
    for (const cb of listeners.dropped) safely(cb, { name, reason, message });
  }

  // --- the inspector (tailor.inspect.js, loaded only when opened) ---------------------

  // Slot → a decision forced in the inspector: a preview on this page, never recorded
  // (no impression, exposure or sticky assignment) and gone on reload.
  const forced = new Map();
  // The inspector's "fresh profile": decisions made as for a new visitor (no profile,
  // this page view's own identity), without touching the real profile.
  let freshEngine = null;
  let rulesSource = null;
  // The last events this page was asked to track, kept in memory for the inspector only
  // while it is open.
  let recentEvents = null;
  const inspectorWatchers = new Set();
  function noteEvent(name, props, stored, why) {
    if (!recentEvents) return;
    recentEvents.push({ name, props: stored ? props : null, at: Date.now(), stored, why });
    if (recentEvents.length > 20) recentEvents.shift();
    for (const w of inspectorWatchers) safely(w, "event");
  }

  const personalization = () => consent?.granted("personalization") === true;
  const measurement = () => consent?.granted("measurement") === true;
  // Measurement (exposures and goals) is kept apart from the profile.
  let goalsLoaded = false;
  let goalNames = null; // the rules' goals, read once
  let goalsDirty = false;
  const exposures = new Map(); // slot → "experience\u0000variant" exposed on this page view

  // `granted`: whether the stored identifier may be read (the first decision passes
  // what the stored consent record says, before consent handling runs).
  function unit(granted = personalization()) {
    if (automated) return ""; // not enrolled in experiments
    return (granted && storage.get(ID_KEY)) || pageUnit;
  }

  // --- slots -------------------------------------------------------------------------

  // What the page shows when the decision came after the anti-flicker timeout: the
  // default, with the decision that was not applied in the explanation.
  function keptDefault(d) {
    if (!late || (!d.variant && !d.holdout) || firstShown.has(d.slot)) return d;
    const would = d.holdout ? `hold the visitor out of "${d.experience}"` : `show "${d.experience}" variant "${d.variant}"`;
    return { ...defaultShown(d, `the decision to ${would} came after the ${antiFlickerMs} ms anti-flicker timeout, when the default was already showing; the next navigation or consent change decides again`, "late", { timeoutMs: antiFlickerMs, wouldShow: { experience: d.experience, variant: d.variant, holdout: d.holdout } }), late: true };
  }

  // Decision `d` as the default it leaves on the page: why in the summary, and the
  // details under `explanation[key]`.
  function defaultShown(d, why, key, details) {
    const none = { experience: null, variant: null, holdout: false, sticky: false };
    return { ...d, ...none, content: null, summary: `${d.slot}: default content kept: ${why}`, explanation: { ...d.explanation, ...none, [key]: details } };
  }

  // Applies a decision to one element; returns the error when it could not be shown.
  function applyTo(el, d) {
    try {
      applyContent(defaults, el, d);
      return null;
    } catch (e) {
      const error = e instanceof TailorError ? e : new TailorError("APPLY_FAILED", `Tailor: could not apply slot "${d.slot}" (${e.message})`);
      report(error);
      return error;
    }
  }

  // What the page shows when a decision could not be applied (a missing template, an
  // unsafe slot): the default, and decide()/explain() say so.
  function notShown(d, error) {
    return defaultShown(d, error.message.replace(/^Tailor: /, ""), "notApplied", { code: error.code, message: error.message, wouldShow: { experience: d.experience, variant: d.variant } });
  }

  function apply(list) {
    for (const raw of list) applyDecision(raw);
    // Our own changes to the slots are not new slots.
    slotWatch?.takeRecords();
    veil.revealAll();
    scheduleImpressions();
  }

  function applyDecision(raw) {
    let d = forced.get(raw.slot) ?? keptDefault(raw);
    const previous = decisions.get(d.slot);
    const els = doc.querySelectorAll(slotSelector(d.slot));
    for (const el of els) {
      const error = applyTo(el, d);
      if (error && d.variant) {
        // Every element of the slot goes back to the default, so the page shows what
        // decide() says.
        d = notShown(d, error);
        for (const other of els) applyTo(other, d);
        break;
      }
    }
    decisions.set(d.slot, d);
    const changed = !previous || previous.experience !== d.experience || previous.variant !== d.variant || previous.holdout !== d.holdout || !previous.late !== !d.late;
    if (changed) for (const cb of listeners.decision) safely(cb, d);
  }

  // --- the first decision --------------------------------------------------------------

  // Decides, with the small module, every slot the compiled rules let it decide, and
  // shows them; the others stay hidden for the engine. Reads, never writes. (The script
  // tag's first stage, stage.js, makes the page's first one before this module loads;
  // this one runs again when a withdrawal comes before the engine.)
  function firstDecision() {
    if (engine || stopped || late || !compiled) return;
    let round;
    try {
      round = firstRound(h.firstModule, compiled, storage, options.consent, context(), unit, viewStart, firstWithdrawn);
    } catch (e) {
      console.warn(`Tailor: no first decision (${e.message}); the slots wait for the full engine`);
      return;
    }
    firstUsedProfile = round.usedProfile;
    const decided = round.list.filter(Boolean);
    for (const d of decided) {
      applyDecision(d);
      firstShown.add(d.slot);
    }
    slotWatch?.takeRecords();
    if (decided.length === round.list.length) veil.revealAll();
    else veil.revealOnly(firstShown);
    mark("first");
  }

  // Slots added after the decisions (a single-page app rendering its next view, a
  // lazily loaded section) get the current decision as soon as they are in the page.
  const slotWatch = typeof MutationObserver === "function" ? new MutationObserver(slotsAdded) : null;
  slotWatch?.observe(doc.documentElement(), { childList: true, subtree: true });

  function slotsAdded(records) {
    let added = false;
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        const els = n.matches(`[${SLOT}]`) ? [n, ...n.querySelectorAll(`[${SLOT}]`)] : n.querySelectorAll(`[${SLOT}]`);
        for (const el of els) {
          if (!veil.settled && veil.inline && !firstShown.has(el.getAttribute(SLOT))) veil.hideSlot(el);
          const d = decisions.get(el.getAttribute(SLOT));
          if (!d) continue;
          applyTo(el, d);
          added = true;
        }
      }
    }
    slotWatch.takeRecords();
    if (added) scheduleImpressions();
  }

  // Impressions are counted a moment after the decisions are applied, so that a
  // single-page app has rendered its new view: a slot that is not in the page then
  // was not seen.
  let impressionTimer = null;
  function scheduleImpressions() {
    if (impressionTimer === null) {
      impressionTimer = setTimeout(() => {
        impressionTimer = null;
        recordImpressions();
      }, 0);
    }
  }

  // Impressions feed caps, lifetimes and sticky assignment: only under consent, only
  // for slots in the page that showed their decision (not a late one), once per page
  // view, and only once the visitor has interacted (unless automation is allowed).
  // Under measurement the same shown variants are exposures, which goals are
  // attributed to.
  function recordImpressions() {
    if (!engine || !interacted || automated) return;
    const profile = personalization() && core("reading the profile", (c) => c.hasProfile(), false);
    const measured = measurement() && goalsLoaded;
    if (!profile && !measured) return;
    const now = Date.now();
    for (const d of decisions.values()) {
      if (!d.variant || d.holdout || d.forced || !doc.querySelector(slotSelector(d.slot))) continue;
      const key = `${d.experience}\u0000${d.variant}`;
      if (profile && impressions.get(d.slot) !== key) {
        impressions.set(d.slot, key);
        core("recording an impression", (c) => c.impression(d.experience, d.variant, now));
        markDirty();
      }
      if (measured && exposures.get(d.slot) !== key) {
        exposures.set(d.slot, key);
        core("recording an exposure", (c) => c.expose(d.experience, d.variant, now));
        markGoalsDirty();
      }
    }
  }

  // --- measurement ---------------------------------------------------------------------

  function markGoalsDirty() {
    goalsDirty = true;
    if (flushTimer === null) flushTimer = setTimeout(flush, WRITE_DELAY_MS);
  }

  function useGoals() {
    if (!engine || goalsLoaded) return;
    const discarded = core("loading the goals", (c) => c.loadGoals(storage.get(GOALS_KEY) ?? undefined, Date.now()));
    if (!engine) return;
    if (discarded) {
      console.warn(`Tailor: the stored goals could not be read (${discarded}); starting afresh`);
      storage.remove(GOALS_KEY);
    }
    goalsLoaded = true;
    syncCapture();
    touchVisit();
  }

  // This page view, as a touchpoint of a visit (measurement: attribution by channel);
  // nothing when the rules name no goal.
  function touchVisit() {
    if (!engine || !goalsLoaded || !measurement() || automated) return;
    if (core("recording the visit", (c) => c.touch(JSON.stringify(context()), Date.now()), false)) markGoalsDirty();
  }

  function dropGoals() {
    try {
      engine?.core.dropGoals();
    } catch (e) {
      engineFailed(e, "dropping the goals");
    }
    goalsLoaded = false;
    goalsDirty = false;
    exposures.clear();
    syncCapture();
  }

  // A goal event counts for the variants seen before it, under measurement only, and
  // not for automated browsers or visitors who never interacted.
  function convertGoal(name, now) {
    if (!engine || !goalsLoaded || !measurement() || !interacted || automated) return;
    // A goal also credits the visits (touchpoints) before it: written even when no
    // exposure was attributed; any other event changes nothing.
    goalNames ??= new Set(JSON.parse(core("reading the goals", (c) => c.goalNames(), "[]")));
    if (!goalNames.has(name)) return;
    core("counting a goal", (c) => c.convert(name, now), 0);
    markGoalsDirty();
  }

  function context() {
    return pageInputs({
      url: location.href,
      referrer: doc.referrer(),
      userAgent: navigator.userAgent,
      language: navigator.language,
      viewportWidth: innerWidth,
    });
  }

  function redecide() {
    if (!engine) return;
    drainTrack();
    const list = core("deciding", () => (freshEngine ? freshEngine.decide(context(), pageUnit, Date.now(), Date.now()) : engine.decide(context(), unit(), Date.now(), viewStart)));
    if (list) apply(list);
  }

  // --- the profile -------------------------------------------------------------------

  function markDirty() {
    dirty = true;
    if (flushTimer === null) flushTimer = setTimeout(flush, WRITE_DELAY_MS);
  }

  function cancelWrites() {
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    dirty = false;
  }

  // Writes the profile if it changed, then re-decides with it (not when the page is
  // being left: nobody would see the result).
  function flush(leaving = false) {
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    if ((!dirty && !goalsDirty) || !engine) return;
    drainTrack();
    // Another tab may have withdrawn consent a moment ago: check the record first.
    consent?.resync();
    if (goalsDirty && measurement() && goalsLoaded) {
      const goals = core("saving the goals", (c) => c.goalsText());
      if (goals) storage.set(GOALS_KEY, goals);
    }
    goalsDirty = false;
    if (!dirty) return;
    dirty = false;
    if (!personalization() || !core("reading the profile", (c) => c.hasProfile(), false)) return;
    const text = core("saving the profile", (c) => c.profileText(Date.now()));
    if (text) storage.set(PROFILE_KEY, text);
    if (!leaving) redecide();
  }

  function dropProfile() {
    trackQueue.length = 0; // withdrawn: queued events are never stored
    if (firstUsedProfile && !engine && !stopped) {
      // Withdrawn before the engine arrived: the first decision is made again without
      // the profile, once the stored data is gone.
      firstWithdrawn = true;
      queueMicrotask(firstDecision);
    }
    profileLoaded = false;
    cancelWrites();
    syncCapture();
    // Withdrawal must not depend on the engine: a failing one is simply let go.
    try {
      engine?.core.dropProfile();
    } catch (e) {
      engineFailed(e, "dropping the profile");
    }
    impressions.clear();
    pageViewRecorded = false;
  }

  // The tab is hidden or the page is left: the last engaged seconds are recorded,
  // then everything pending is written at once.
  function leave() {
    capture?.hidden();
    flush(true);
  }
  const onVisibility = () => (doc.visibilityState() === "hidden" ? leave() : capture?.visible());

  // Capture (declarative clicks and forms, scroll depth, engaged time, navigations)
  // runs while either purpose is granted: record() keeps events in the profile only
  // under personalization, and counts goals only under measurement.
  function syncCapture() {
    const wanted = engine !== null && (personalization() || measurement());
    if (wanted && !capture) capture = startCapture({ record });
    else if (!wanted) stopCapture();
  }

  function stopCapture() {
    capture?.stop();
    capture = null;
  }

  function useProfile() {
    if (!engine || core("reading the profile", (c) => c.hasProfile(), true)) return;
    const discarded = core("loading the profile", (c) => c.loadProfile(utf8(storage.get(PROFILE_KEY)), Date.now()));
    if (!engine) return;
    profileLoaded = true;
    if (discarded) {
      console.warn(`Tailor: the stored profile could not be read (${discarded}); starting a new one`);
      storage.remove(PROFILE_KEY);
    }
    syncCapture();
    if (!pageViewRecorded) {
      pageViewRecorded = true;
      record("page_view", { path: location.pathname });
    }
  }

  function consentChanged() {
    if (personalization()) useProfile();
    else dropProfile();
    if (measurement()) useGoals();
    else dropGoals();
    // A choice the visitor makes on this page may change what the slots show.
    if (started) late = false;
    redecide();
  }

  // track() is on the host's hot path: events the rules declare are queued here and
  // handed to the core in one crossing per task (drainTrack), before anything reads
  // the profile (a decision, a write, the inventory).

  function drainTrack() {
    if (!trackQueue.length) return;
    const batch = trackQueue.splice(0);
    if (profileLoaded) core("recording events", (c) => c.trackBatch(JSON.stringify(batch)));
  }

  // Stores an event in the profile (under personalization) and counts it as a goal
  // (under measurement). `fromHost`: a track() call, whose drops are explained.
  function record(name, props, now = Date.now(), fromHost = false) {
    convertGoal(name, now);
    // Dropped, never buffered.
    if (!engine) {
      if (fromHost) dropped(name, "no_rules", "Tailor has no working rules on this page (see the error above)");
      return false;
    }
    if (!personalization() || !profileLoaded) {
      if (fromHost) dropped(name, "no_consent", "personalization consent is not granted, and nothing is kept before or without it");
      return false;
    }
    if (name === "page_view") {
      drainTrack();
      core("recording a page view", (c) => c.pageView(JSON.stringify(props ?? {}), now));
      markDirty();
      return true;
    }
    declaredEvents ??= new Set(JSON.parse(core("reading the events", (c) => c.eventNames(), "[]")));
    if (!declaredEvents.has(name)) {
      if (fromHost) dropped(name, "undeclared", `the rules declare no event ${JSON.stringify(name)} (add it under "events")`);
      return false;
    }
    // A copy: the host may reuse its object; what it said at the call is what counts.
    trackQueue.push([name, props ? { ...props } : {}, now]);
    noteEvent(name, props ? { ...props } : {}, true, null);
    if (trackQueue.length === 1) queueMicrotask(drainTrack);
    markDirty();
    return true;
  }

  function interact() {
    if (interacted) return;
    interacted = true;
    recordImpressions();
  }

  // A single-page-app navigation is a new page view: engaged time and scroll depth
  // restart, impressions count again, and a late first decision no longer holds.
  // URL changes re-decide even without consent (contextual rules need no profile).
  function navigated() {
    capture?.navigated();
    impressions.clear();
    exposures.clear();
    viewStart = Date.now();
    late = false;
    if (personalization()) record("page_view", { path: location.pathname });
    touchVisit();
    redecide();
  }
  const urlWatch = watchUrl(navigated);

  // --- the API -----------------------------------------------------------------------

  const api = {
    /** Resolves once the first decisions are applied (or the defaults kept). */
    ready: null,
    /** Runs a queued command: `["method", ...args]`, or `["consent.grant", …]`. */
    push(command) {
      try {
        if (!Array.isArray(command)) throw new TailorError("UNKNOWN_COMMAND", 'Tailor: a queued command must be an array such as ["track", "signup"]');
        const [name, ...args] = command;
        const [head, tail] = String(name).split(".", 2);
        const target = tail === undefined ? api : api[head];
        const method = tail === undefined ? head : tail;
        if (!target || typeof target[method] !== "function" || name === "push") {
          throw new TailorError("UNKNOWN_COMMAND", `Tailor: unknown command ${JSON.stringify(name)}`);
        }
        return target[method](...args);
      } catch (e) {
        report(asTailorError(e, "COMMAND_FAILED"));
      }
    },
    /** Subscribes to "decision" or "error"; returns an unsubscribe function. */
    on(event, cb) {
      if (!listeners[event]) throw new TailorError("UNKNOWN_EVENT", `Tailor: unknown event ${JSON.stringify(event)}`);
      listeners[event].push(cb);
      for (const d of event === "decision" ? decisions.values() : []) safely(cb, d);
      return () => listeners[event].splice(listeners[event].indexOf(cb) >>> 0, 1);
    },
    /**
     * The decision for a slot, or null before ready / for an unknown slot: a plain
     * object with its summary and explanation (built now, from the decision's facts).
     */
    decide(slot) {
      const d = decisions.get(slot);
      return d ? (typeof d.toJSON === "function" ? d.toJSON() : d) : null;
    },
    /** Why a slot shows what it shows: a one-line summary and the full explanation. */
    explain(slot) {
      const d = decisions.get(slot);
      return d ? { summary: d.summary, ...d.explanation } : null;
    },
    /**
     * Records an interaction, keeping only the properties the rules list under the
     * event's `keep`. Without personalization consent nothing is kept: the event is
     * dropped, never buffered. Returns whether it was stored; before the rules and
     * the consent record are loaded the call is held (with its time) and returns
     * undefined: it is stored then only if consent was already given.
     */
    track(name, props) {
      if (typeof name !== "string" || name === "") {
        throw new TailorError("BAD_EVENT", "Tailor: track(name, props) needs a non-empty event name");
      }
      if (props !== undefined && (props === null || typeof props !== "object")) {
        throw new TailorError("BAD_EVENT", `Tailor: track("${name}", props): props must be an object`);
      }
      if (started || stopped) {
        if (consent) return record(name, props, Date.now(), true);
        // Started without consent handling (a refused configuration): dropped.
        dropped(name, "no_consent_handling", "consent handling is not running on this page (see the error above)");
        return false;
      }
      // The .wasm or the rules are still loading: held with its time, and stored then
      // only if a purpose was granted when it was made (consent known now, or the stored
      // record when consent handling starts; see replayConsent). A later withdrawal
      // discards it: nothing seen before a grant, or withdrawn, is ever kept.
      if (consent && !personalization() && !measurement()) {
        dropped(name, "no_consent", "personalization consent is not granted, and nothing is kept before or without it");
        return false;
      }
      if (pending.length >= MAX_PENDING) {
        dropped(name, "overflow", `more than ${MAX_PENDING} calls were made before Tailor was ready`);
        return false;
      }
      pending.push(["track", name, JSON.parse(JSON.stringify(props ?? {})), Date.now()]);
      return undefined;
    },
    version,
    /** Consent: grant, revoke, decide, state, on("change" | "ask"), export. */
    consent: {
      grant: (purposes, method) => consentCall("grant", purposes, method),
      revoke: (purposes) => consentCall("revoke", purposes),
      decide: (choices, method) => consentCall("decide", choices, method),
      state: () => consentCall("state"),
      on: (event, cb) => consentCall("on", event, cb),
      export: () => consentCall("export"),
    },
    /**
     * Erases every byte Tailor holds on this device, the consent record included, at
     * once: before the .wasm, the rules or the consent engine are there, and whatever
     * state they are in.
     */
    forget() {
      try {
        consent?.revoke(["personalization", "measurement"]);
        dropProfile();
        dropGoals();
        consent?.reset();
      } catch (e) {
        report(asTailorError(e, "CONSENT_FAILED"));
      } finally {
        for (const key of storage.names()) storage.remove(key);
        // Consent handling that starts later must not write a record back from calls
        // made before this one, nor store events held before it.
        if (!consent) pending.length = 0;
      }
    },
    /**
     * What measurement counted on this device, or null without measurement consent:
     * `{ conversions: [{ goal, experience, variant, count }], credit: [{ goal, model,
     * channel, credit }], touchpoints: [{ at, channel, source, medium, campaign, shown }] }`
     * (credit per attribution model and channel; see docs/runtime.md). Nothing is sent:
     * the host may forward these counts to its own analytics.
     */
    goals() {
      return engine && goalsLoaded && measurement() ? JSON.parse(core("reading the goals", (c) => c.goalsReport(), "null")) : null;
    },
    /**
     * Opens the inspector, loaded on demand (tailor.inspect.js beside the SDK): every
     * slot's decision and why, the candidates that lost, consent, the last events, and
     * for this page only a forced variant or a fresh profile. `?tailor-debug` in the
     * page's URL opens it too. Resolves once it is open.
     */
    inspect() {
      inspector ??= (options.loadInspector ?? loadInspector)();
      return inspector
        .then((m) => {
          recentEvents ??= [];
          m.open(inspectorHandle);
        })
        .catch((e) => {
          inspector = null;
          report(new TailorError("INSPECTOR_FAILED", `Tailor: the inspector could not open (${e?.message ?? e})`));
        });
    },
    /** Every storage key Tailor holds, its purpose and size, and what the profile contains. */
    inventory() {
      return {
        ...storedKeys(storage),
        profile: engine ? (drainTrack(), JSON.parse(core("reading the profile", (c) => c.profileSummary(Date.now()), "null"))) : null,
        goals: api.goals(),
        consent: consent ? consent.state() : null,
      };
    },
    /**
     * Where Tailor stands on this page: `{ state, error, consent }`. `state` is
     * "starting" (the .wasm or the rules are still loading), "ready" (the slots are
     * decided), "failed" (rules missing, unreachable or invalid, or the engine failed:
     * `error` is the TailorError, with `problems` for invalid rules; the slots keep
     * their default content) or "stopped". `consent` is whether consent handling runs
     * (withdrawal works in every state). `firstDecided`: how many slots the first-decision
     * module decided from compiled rules before the engine arrived.
     */
    status() {
      return { state: stopped ? "stopped" : state, error: failure, consent: consent !== null, firstDecided: firstShown.size };
    },
    /**
     * Stops Tailor on this page: listeners, observers, timers and the slots' hiding
     * style are removed, pending writes are made, and start() may run again. What the
     * slots show stays. Stored data is kept (use consent.revoke() or forget() to erase).
     */
    stop() {
      if (stopped) return;
      stopped = true;
      if (globalThis[RUNNING]?.api === api) delete globalThis[RUNNING];
      flush(true);
      clearTimeout(timer);
      veil.revealAll();
      urlWatch();
      slotWatch?.disconnect();
      clearTimeout(impressionTimer);
      dropProfile();
      dropGoals();
      stopCapture();
      // Consent handling stops too: later consent calls on this instance only withdraw
      // (see consentCall), and the next start() reads what they noted.
      consent?.stop();
      consent = null;
      doc.removeEventListener("click", declarativeConsent);
      removeEventListener("pagehide", leave);
      doc.removeEventListener("visibilitychange", onVisibility);
      for (const type of INTERACTIONS) removeEventListener(type, interact, { capture: true });
    },
  };
  /** The same as stop(). */
  api.destroy = api.stop;
  let stopped = false;

  let inspector = null;
  // The rules document as the page runtime read it (a compiled file's own document).
  function rulesDocument() {
    try {
      const r = typeof rulesSource === "string" ? JSON.parse(rulesSource) : rulesSource;
      return own(r, "tailor") === "compiled-rules" ? own(r, "rules") : r;
    } catch {
      return null;
    }
  }
  // What the inspector may do: read what the page API reads, and preview on this page.
  const inspectorHandle = {
    api,
    rules: rulesDocument,
    slots: () => [...decisions.keys()],
    events: () => (recentEvents ?? []).slice(),
    fresh: () => freshEngine !== null,
    /** Calls `cb(what)` on every change the panel shows; returns an unsubscribe function. */
    watch(cb) {
      inspectorWatchers.add(cb);
      const offs = [api.on("decision", () => cb("decision")), consent ? api.consent.on("change", () => cb("consent")) : () => {}];
      return () => {
        inspectorWatchers.delete(cb);
        for (const off of offs) off();
      };
    },
    /** Shows `variant` of `experience` in `slot` on this page (null: the decision again). */
    force(slot, experience, variant) {
      if (experience === null) forced.delete(slot);
      else {
        const e = (rulesDocument()?.experiences ?? []).find((x) => x.id === experience && x.slot === slot);
        const v = e?.variants?.find((x) => x.id === variant);
        if (!v) throw new TailorError("UNKNOWN_VARIANT", `Tailor: slot "${slot}" has no experience "${experience}" with a variant "${variant}"`);
        const summary = `${slot}: "${experience}" variant "${variant}" forced in the inspector (a preview on this page: not recorded, gone on reload)`;
        forced.set(slot, { slot, experience, variant, content: v.content ?? null, holdout: false, sticky: false, forced: true, summary, explanation: { slot, experience, variant, forced: true } });
      }
      redecide();
      for (const w of inspectorWatchers) safely(w, "decision");
    },
    /** Closing: forced variants and the fresh profile end, and events are no longer kept. */
    reset() {
      const previewing = forced.size > 0 || freshEngine !== null;
      forced.clear();
      freshEngine = null;
      recentEvents = null;
      if (previewing) redecide();
    },
    /** Decides as for a new visitor with no profile (true), or as usual (false). */
    useFreshProfile(on) {
      freshEngine = on && rulesSource ? new Engine(rulesSource) : null;
      redecide();
      for (const w of inspectorWatchers) safely(w, "decision");
    },
  };

  function consentCall(name, ...args) {
    if (consent) return consent[name](...args);
    if (name === "state" || name === "export") return null;
    if (name === "revoke") {
      // Withdrawal never waits: what is stored for the purposes goes now, by key name,
      // without the .wasm, the rules or the network. Without consent handling (not yet,
      // or not at all on this page), the withdrawal is also noted beside the consent
      // record, so that it holds on the next page and in other tabs; a consent engine
      // logs it when it starts or hears of it.
      wipe(purposeList(args[0]));
      recordWithdrawal(storage, purposeList(args[0]));
      dropHeldTracks();
    }
    if (!started && !stopped) {
      if (pending.length < MAX_PENDING || name === "revoke") pending.push([`consent.${name}`, ...args]);
      return undefined;
    }
    // Stopped, or started without consent handling (the .wasm did not load, or the
    // consent configuration was refused): nothing can be granted, but a withdrawal
    // still deletes what earlier visits stored for those purposes.
    const why = stopped ? "Tailor was stopped on this page" : "consent handling did not start (see the error above)";
    report(new TailorError("CONSENT_UNAVAILABLE", `Tailor: consent.${name}() cannot run: ${why}${name === "revoke" ? "; the stored data of the revoked purposes was deleted" : ""}`));
    return name === "on" ? () => {} : undefined;
  }

  // Held track() calls are discarded by any withdrawal before they could be stored.
  function dropHeldTracks() {
    const kept = pending.filter(([name]) => name !== "track");
    pending.length = 0;
    pending.push(...kept);
  }

  // Deletes the stored data of `purposes` (by key prefix, without reading it), and
  // what is in memory for them, when the consent engine is not there to do it.
  function wipe(purposes) {
    if (purposes.includes("personalization")) dropProfile();
    if (purposes.includes("measurement")) dropGoals();
    wipePurposes(storage, purposes);
  }

  function startConsentHandling() {
    consent = startConsent(storage, options.consent, {
      // Runs before the purpose's keys are deleted: nothing in memory may write them back.
      purge: (purposes) => {
        if (purposes.includes("personalization")) dropProfile();
        if (purposes.includes("measurement")) dropGoals();
        dropHeldTracks();
      },
      changed: () => engine && !stopped && consentChanged(),
    });
  }

  // Replays, in the order they were made, the consent calls held until consent
  // handling started. A held track() stays held (for the rules) only if a purpose was
  // granted at its place in that order; a withdrawal after it discards it (the purge
  // hook), and a grant after it does not reach back.
  function replayConsent() {
    const held = pending.splice(0);
    for (const [name, ...args] of held) {
      if (name === "track") {
        if (personalization() || measurement()) pending.push([name, ...args]);
        else dropped(args[0], "no_consent", "personalization consent is not granted, and nothing is kept before or without it");
        continue;
      }
      try {
        consent[name.slice("consent.".length)](...args);
      } catch (e) {
        report(asTailorError(e, "COMMAND_FAILED"));
      }
    }
  }

  // track() calls held with their own time: stored only if consent was given by then
  // (nothing waits for a later grant).
  function replayTracks() {
    for (const [name, ...args] of pending.splice(0)) {
      if (name === "track") record(args[0], args[1], args[2], true);
    }
  }

  // Footer links and buttons: <a data-tailor-consent="revoke">, "grant" or "forget".
  const declarativeConsent = consentLinks(api, report);
  doc.addEventListener("click", declarativeConsent);

  addEventListener("pagehide", leave);
  doc.addEventListener("visibilitychange", onVisibility);
  const INTERACTIONS = ["pointerdown", "keydown", "touchstart", "wheel"];
  for (const type of INTERACTIONS) addEventListener(type, interact, { once: true, passive: true, capture: true });

  // Hidden from now on (the constructed sheet also covers slots parsed later); the
  // defaults show after antiFlickerMs if nothing was decided by then.
  // Taken over from the first stage: the time left of its anti-flicker timeout.
  veil.hide();
  const timer = veil.settled
    ? null
    : setTimeout(
        () => {
          if (started) return;
          late = true;
          veil.revealAll();
        },
        h.deadline === undefined ? antiFlickerMs : Math.max(0, h.deadline - Date.now()),
      );

  // Start-up, in an order where withdrawal never waits: consent handling starts as soon
  // as the .wasm is there, without waiting for the rules (a hanging rules request must
  // not hold a revoke() back); the engine follows when the rules arrive.
  async function run() {
    try {
      // The first stage's errors are of its own copy of TailorError: made ours again.
      const rulesPromise = h.rules?.catch((e) => Promise.reject(new TailorError(e.code ?? "START_FAILED", e.message, e.problems))) ?? loadRules(options.rules);
      rulesPromise.catch(() => {});
      await withTimeout(options.wasmReady, WASM_TIMEOUT_MS, () => new TailorError("START_FAILED", `Tailor: the .wasm did not arrive within ${WASM_TIMEOUT_MS / 1000} s; the slots keep their default content (withdrawal still works)`));
      mark("wasm");
      if (stopped) return;
      try {
        startConsentHandling();
      } catch (e) {
        report(asTailorError(e, "CONSENT_FAILED"));
      }
      mark("consent");
      if (consent) {
        // Withdrawals noted before consent handling ran (on an earlier page closed before
        // it could, or on this one) are logged first, once; the calls held on this page
        // then replay in order, so a grant made after a withdrawal stands.
        consent.settleWithdrawals();
        replayConsent();
      }
      try {
        const rules = await rulesPromise;
        await domReady();
        await nextTask();
        mark("rules");
        if (stopped) return;
        veil.hide(); // where constructed style sheets are missing
        try {
          engine = new Engine(rules);
          rulesSource = rules;
        } catch (e) {
          const origin = rulesOrigin(options.rules);
          if (e instanceof TailorError && origin) e.message = e.message.replace(/^Tailor: invalid rules/, `Tailor: invalid rules in ${origin}`);
          throw e;
        }
        mark("engine");
      } catch (e) {
        fail(asTailorError(e, "START_FAILED"));
      }
      if (engine) {
        await nextTask();
        if (stopped) return;
        if (personalization()) useProfile();
        if (measurement()) useGoals();
        await nextTask();
        if (stopped) return;
      }
      replayTracks();
      redecide();
      if (engine && state === "starting") state = "ready";
      mark("decided");
    } catch (e) {
      fail(asTailorError(e, "START_FAILED"));
    } finally {
      started = true;
      // ?tailor-debug opens the inspector, whatever the start came to (a failure too).
      if (!stopped && /[?&]tailor-debug(=|&|$)/.test(location.search)) api.inspect();
      clearTimeout(timer);
      if (!stopped) veil.revealAll();
      // Without consent handling, calls held until now get the answer later calls get:
      // withdrawals still delete, the rest is refused (track() dropped).
      for (const [name, ...args] of pending.splice(0)) {
        if (name.startsWith("consent.")) consentCall(name.slice("consent.".length), ...args);
        else if (name === "track") dropped(args[0], "no_consent_handling", "consent handling is not running on this page (see the error above)");
      }
    }
  }

  api.ready = run().then(api.status, api.status);
  Object.defineProperty(globalThis, RUNNING, { value: { api, root: doc.documentElement() }, configurable: true });
  return api;
}

/**
 * Where the Tailor running on this page is kept (start() returns it again): on the
 * global object, since every copy of the script (a second tag, the npm module and the
 * tag) has its own module scope. Non-enumerable, under a registered symbol, with the
 * root element of the document it runs in.
 */
const RUNNING = Symbol.for("tailor.running");

// The inspector, a module of its own beside this one (tailor.full.js or the npm
// package's dist/): it costs a page nothing until it is opened.
const loadInspector = () => import("./tailor.inspect.js");

// Calls `onChange` after history.pushState/replaceState and popstate change the URL
// (single-page apps). Returns a function that restores the originals.
function watchUrl(onChange) {
  let last = location.href;
  const check = () => {
    if (location.href !== last) {
      last = location.href;
      onChange();
    }
  };
  const originals = { pushState: history.pushState, replaceState: history.replaceState };
  for (const name of Object.keys(originals)) {
    history[name] = function (...args) {
      const result = originals[name].apply(this, args);
      try {
        check();
      } catch (e) {
        console.error("Tailor: could not follow a navigation", e);
      }
      return result;
    };
  }
  addEventListener("popstate", check);
  // Routers that kept a reference to pushState before Tailor loaded still show up
  // through the Navigation API where the browser has it.
  globalThis.navigation?.addEventListener?.("currententrychange", check);
  return () => {
    Object.assign(history, originals);
    removeEventListener("popstate", check);
    globalThis.navigation?.removeEventListener?.("currententrychange", check);
  };
}
