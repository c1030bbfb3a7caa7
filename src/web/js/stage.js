// The script tag's first stage: what the page's first decision needs, and nothing more.
// It hides the slots, loads the rules, decides every slot that compiled rules let the
// small inlined module decide (first.js), shows them, and after the next paint loads the
// full module (tailor.full.js and tailor_bg.wasm), which takes over without changing
// what the visitor sees (runtime.js, `handoff`).
//
// Until then it answers the page API itself: calls are held in the runtime's own
// format, and a withdrawal (consent.revoke(), forget(), a consent link) deletes the
// stored data at once, by key name, without either module, the rules or the network.
// It writes nothing else.
import { TailorError } from "./errors.js";
import { createStorage, ID_KEY, RECORD_KEY, purposeList, recordWithdrawal, storedKeys, wipePurposes } from "./storage.js";
import { firstRound, prepareModule } from "./first.js";
import { pageInputs } from "./page.js";
import { doc, mark, pageUnitOrNone } from "./dom.js";
import { consentLinks, MAX_PENDING } from "./consent-links.js";
import { SLOT, createVeil, applyContent, slotSelector } from "./slots.js";
import { compiledFile, domReady, loadRules } from "./rules-source.js";

/** The full module is loaded at the latest this long after the start (or the anti-flicker timeout, if longer). */
const FULL_AT_LATEST_MS = 1000;

const EVENTS = ["decision", "error", "dropped"];
/** Where the first stage running on this page is kept (see RUNNING in runtime.js). */
const STAGE = Symbol.for("tailor.stage");

/**
 * Starts the first stage. Options: `rules`, `consent`, `antiFlickerMs`,
 * `allowAutomation` (as start() takes them), `firstModule` (the module, base64),
 * `version`, and `loadFull()`: resolves to `takeOver(handoff)`, which starts the full
 * module with what this stage leaves it and returns the page API. Returns the page API
 * (which, once the full module runs, calls it).
 */
export function startFirstStage({ rules, consent: config, antiFlickerMs, allowAutomation, firstModule, version, loadFull }) {
  // One Tailor per page, as start() keeps it: a second tag gets the running one; a page
  // rewritten by document.open() stops the one left behind.
  const root = doc.documentElement();
  const held = globalThis[STAGE];
  if (held && held.root !== root) held.api.stop();
  else if (held && held.api.status().state !== "stopped") {
    console.warn(`Tailor: tailor.min.js was loaded again while Tailor already runs on this page (status "${held.api.status().state}"); using the running instance (call tailor.stop() first to start again)`);
    return held.api;
  }
  // The rules first: everything else is done while they are on their way.
  const rulesPromise = loadRules(rules);
  const storage = createStorage();
  const pageUnit = pageUnitOrNone();
  const automated = navigator.webdriver === true && allowAutomation !== true;
  const unit = (granted) => (automated ? "" : (granted && storage.get(ID_KEY)) || pageUnit);
  const flickerMs = Number.isFinite(antiFlickerMs) && antiFlickerMs >= 0 ? antiFlickerMs : 500;
  const viewStart = Date.now();
  const deadline = viewStart + flickerMs;
  const veil = createVeil(flickerMs === 0);
  const defaults = new WeakMap();
  const decisions = new Map();
  // Calls held for the full module, in the runtime's format; subscriptions, replayed on it.
  const pending = [];
  const subscriptions = [];
  let late = false;
  let compiled = null;
  let usedProfile = false;
  let withdrawn = false;
  let stopped = false;
  let failure = null;
  let full = null; // the full module's API, once it runs
  let loading = false;
  let resolveReady;

  const report = (error) => console.error(error.message);

  // Hidden from now on; the defaults show after the anti-flicker timeout.
  veil.hide();
  const timer = veil.settled
    ? null
    : setTimeout(() => {
        late = true;
        veil.revealAll();
      }, flickerMs);

  // The first decision to show a slot's default content.
  const defaultOf = (slot) => ({ slot, experience: null, variant: null, holdout: false, sticky: false, content: null, summary: `${slot}: default content (first decision)`, explanation: { first: true } });

  // Shows decision `d` in every element of its slot, or, when it cannot (the full
  // module says why), puts back the default.
  function show(d) {
    const els = doc.querySelectorAll(slotSelector(d.slot));
    try {
      for (const el of els) applyContent(defaults, el, d);
      return true;
    } catch {
      for (const el of els) applyContent(defaults, el, defaultOf(d.slot));
      return false;
    }
  }

  const page = () => pageInputs({ url: location.href, referrer: doc.referrer(), userAgent: navigator.userAgent, language: navigator.language, viewportWidth: innerWidth });

  function decide() {
    if (stopped || late || full || !compiled) return;
    let round;
    try {
      round = firstRound(firstModule, compiled, storage, config, page(), unit, viewStart, withdrawn);
    } catch (e) {
      console.warn(`Tailor: no first decision (${e.message}); the slots wait for the full engine`);
      return;
    }
    usedProfile = round.usedProfile;
    round.list.forEach((d, i) => {
      const slot = compiled.slots[i];
      // Decided again after a withdrawal: a slot the module can no longer decide shows
      // its default, never what the withdrawn profile chose.
      if (!d && decisions.has(slot)) d = defaultOf(slot);
      if (d && show(d)) decisions.set(slot, d);
    });
    if (decisions.size === round.list.length) veil.revealAll();
    else veil.revealOnly(new Set(decisions.keys()));
    mark("first");
  }

  // A withdrawal before the full module runs: the purposes' stored data goes now, and
  // is noted for the consent engine; held events go too.
  function withdraw(purposes) {
    purposes = purposeList(purposes);
    wipePurposes(storage, purposes);
    recordWithdrawal(storage, purposes);
    forgetProfile(purposes.includes("personalization"));
    const kept = pending.filter(([name]) => name !== "track");
    pending.length = 0;
    pending.push(...kept);
  }

  // The first decision read the profile that is now gone: decided again without it.
  function forgetProfile(personalization) {
    if (personalization && usedProfile) {
      withdrawn = true;
      queueMicrotask(decide);
    }
  }

  const hold = (name) => (...args) => {
    if (full) return name.split(".").reduce((o, k) => o[k], full)(...args);
    if (pending.length < MAX_PENDING) pending.push([name, ...args]);
    return undefined;
  };
  const ask = (name, fallback) => (...args) => (full ? full[name](...args) : fallback(...args));

  const api = {
    ready: new Promise((resolve) => (resolveReady = resolve)),
    push(command) {
      if (full) return full.push(command);
      try {
        if (!Array.isArray(command)) throw new TailorError("UNKNOWN_COMMAND", 'Tailor: a queued command must be an array such as ["track", "signup"]');
        const [name, ...args] = command;
        const [head, tail] = String(name).split(".", 2);
        const target = tail === undefined ? api : api[head];
        const method = tail === undefined ? head : tail;
        if (!target || typeof target[method] !== "function" || name === "push") throw new TailorError("UNKNOWN_COMMAND", `Tailor: unknown command ${JSON.stringify(name)}`);
        return target[method](...args);
      } catch (e) {
        report(e instanceof TailorError ? e : new TailorError("COMMAND_FAILED", `Tailor: ${e?.message ?? e}`));
      }
    },
    on(event, cb) {
      if (full) return full.on(event, cb);
      if (!EVENTS.includes(event)) throw new TailorError("UNKNOWN_EVENT", `Tailor: unknown event ${JSON.stringify(event)}`);
      let off = null;
      const subscribe = (f) => (off = f.on(event, cb));
      subscriptions.push(subscribe);
      return () => (off ? off() : subscriptions.splice(subscriptions.indexOf(subscribe) >>> 0, 1));
    },
    decide: ask("decide", (slot) => decisions.get(slot) ?? null),
    explain: ask("explain", (slot) => {
      const d = decisions.get(slot);
      return d ? { summary: d.summary, ...d.explanation } : null;
    }),
    track: ask("track", (name, props) => {
      if (typeof name !== "string" || name === "") throw new TailorError("BAD_EVENT", "Tailor: track(name, props) needs a non-empty event name");
      if (props !== undefined && (props === null || typeof props !== "object")) throw new TailorError("BAD_EVENT", `Tailor: track("${name}", props): props must be an object`);
      if (stopped || pending.length >= MAX_PENDING) {
        console.info(`Tailor: track(${JSON.stringify(name)}) was not stored: ${stopped ? "Tailor was stopped on this page" : `more than ${MAX_PENDING} calls were made before Tailor was ready`}`);
        return false;
      }
      // Held with its time: stored only if a purpose was granted by then (runtime.js).
      pending.push(["track", name, JSON.parse(JSON.stringify(props ?? {})), Date.now()]);
      return undefined;
    }),
    version: () => (full ? full.version() : version),
    consent: {
      grant: hold("consent.grant"),
      decide: hold("consent.decide"),
      on: hold("consent.on"),
      state: () => (full ? full.consent.state() : null),
      export: () => (full ? full.consent.export() : null),
      revoke(purposes) {
        if (full) return full.consent.revoke(purposes);
        withdraw(purposes);
        pending.push(["consent.revoke", purposes]);
      },
    },
    forget: ask("forget", () => {
      for (const key of storage.names()) storage.remove(key);
      forgetProfile(true);
      pending.length = 0;
    }),
    goals: ask("goals", () => null),
    // The inspector belongs to the full module: opened once it runs.
    inspect: () => (full ? full.inspect() : api.ready.then(() => full?.inspect())),
    inventory: ask("inventory", () => ({ ...storedKeys(storage), profile: null, goals: null, consent: null })),
    status: ask("status", () => ({ state: stopped ? "stopped" : failure ? "failed" : "starting", error: failure, consent: false, firstDecided: decisions.size })),
    stop: ask("stop", () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      added?.disconnect();
      veil.revealAll();
      doc.removeEventListener("click", links);
      resolveReady(api.status());
    }),
  };
  api.destroy = (...args) => api.stop(...args);

  Object.defineProperty(globalThis, STAGE, { value: { api, root }, configurable: true });
  const links = consentLinks(api, report);
  doc.addEventListener("click", links);
  // Without constructed style sheets, slots added while undecided are hidden one by one.
  const added = veil.inline && typeof MutationObserver === "function" ? new MutationObserver(hideAdded) : null;
  added?.observe(root, { childList: true, subtree: true });
  function hideAdded() {
    if (full || veil.settled) return added.disconnect();
    for (const el of doc.querySelectorAll(`[${SLOT}]`)) if (!decisions.has(el.getAttribute(SLOT))) veil.hideSlot(el);
  }

  // The full module: loaded after the first decision has been painted (or at the latest
  // FULL_AT_LATEST_MS, so that consent managers' signals are never long unheard), then
  // handed everything this stage holds, at once.
  async function loadFullModule() {
    if (loading || stopped) return;
    if (doc.documentElement() !== root) return api.stop(); // the page was rewritten
    loading = true;
    let takeOver;
    try {
      takeOver = await loadFull();
    } catch (e) {
      failure = new TailorError("START_FAILED", `Tailor: the full module could not load (${e?.message ?? e}); the slots keep what they show, and withdrawal still works`);
      report(failure);
      veil.revealAll(); // nothing else will decide the slots left to it
      resolveReady(api.status());
      return;
    }
    if (stopped || doc.documentElement() !== root) return api.stop();
    clearTimeout(timer);
    added?.disconnect();
    doc.removeEventListener("click", links);
    try {
      full = takeOver({ storage, pageUnit, pending, veil, defaults, decisions: [...decisions.values()], compiled, firstModule, firstUsedProfile: usedProfile, firstWithdrawn: withdrawn, viewStart, rules: rulesPromise, late, deadline });
    } catch (e) {
      failure = new TailorError("START_FAILED", `Tailor: could not start (${e?.message ?? e})`);
      report(failure);
      veil.revealAll();
      resolveReady(api.status());
      return;
    }
    for (const subscribe of subscriptions.splice(0)) subscribe(full);
    full.ready.then(resolveReady);
  }
  const afterPaint = () => {
    requestAnimationFrame(() => setTimeout(loadFullModule, 0));
    setTimeout(loadFullModule, 100); // no frames in a background tab
  };
  setTimeout(loadFullModule, Math.max(flickerMs, FULL_AT_LATEST_MS));

  // While the rules are on their way: the module compiles off the main thread, and the
  // first reads of localStorage (which opens the origin's storage) and of the URL are done.
  prepareModule(firstModule);
  storage.get(RECORD_KEY);
  page();
  rulesPromise
    .then(async (r) => {
      compiled = compiledFile(r);
      if (!compiled) {
        console.info('Tailor: these rules are not compiled, so the slots wait for the full engine; `tailor compile rules.json` gives the script a first decision in a few milliseconds (see the README, "Compiling rules")');
        return;
      }
      await domReady();
      decide();
    })
    .catch(() => {}) // the full module reports what went wrong with the rules
    // With nothing decided here, the full module is the page's first decision: loaded
    // at once; else after the first decision is painted.
    .finally(() => (decisions.size ? afterPaint() : loadFullModule()));
  return api;
}
