// Consent in the page: the core's consent engine (src/consent/) fed with the page's
// signals (GPC, IAB TCF and GPP, Google Consent Mode, cookieconsent, Klaro), its
// effects carried out (persist the record, delete a purpose's keys, notify), and every
// change shared with the origin's other tabs (BroadcastChannel, `storage` as fallback).
// Tailor only ever reads these signals; it never writes a TC or GPP string and never
// calls gtag('consent', …).
import * as core from "../../../pkg/wasm/tailor.js";
import { TailorError, utf8 } from "./api.js";
import { own, randomBytes } from "./dom.js";
import { PURPOSE_PREFIXES, purposeList, wipePurposes, RECORD_KEY, WITHDRAWN, recordWithdrawal, withdrawalNoted } from "./storage.js";

export { RECORD_KEY, recordWithdrawal, withdrawalNoted };

const CHANNEL = "tailor:consent";
const TICK_MS = 60_000;

function random32() {
  return randomBytes(32);
}

function coreCall(fn) {
  try {
    return fn();
  } catch (e) {
    if (typeof e !== "string") throw e;
    // A configuration the core refused comes as a JSON array of problems.
    let problems = null;
    try {
      problems = JSON.parse(e);
    } catch {
      problems = null;
    }
    if (Array.isArray(problems)) {
      const list = problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`).join("; ");
      throw new TailorError("CONSENT_INVALID", `Tailor: invalid consent configuration: ${list}`, problems);
    }
    throw new TailorError("CONSENT_INVALID", `Tailor: ${e}`);
  }
}

const DEFAULT_CONFIG = { purposes: { personalization: { text: "" }, measurement: { text: "" } } };

/**
 * Starts consent handling. `config` is the consent configuration (see README);
 * `hooks.purge(purposes)` must drop in-memory data of purposes no longer granted,
 * `hooks.changed(state)` is told about every change (after storage is updated).
 */
export function startConsent(storage, config = DEFAULT_CONFIG, hooks = {}) {
  const listeners = { change: [], ask: [] };
  // Purposes the host was told to ask about again (expiry, notice change). An "ask"
  // listener registered later (the host's code usually subscribes after start-up, where
  // an expired or outdated decision is found) still hears it while they are not asked.
  const askPending = new Set();
  const timers = new Set();
  const cleanups = [];
  let lastRecord = storage.get(RECORD_KEY); // the only read before consent
  // `categories` (CMP category/service names per purpose) is for the adapters here;
  // the rest is the core's configuration, validated there. Own properties only: a
  // polluted Object.prototype adds nothing to it.
  if (config === null || typeof config !== "object") config = DEFAULT_CONFIG;
  const categories = own(config, "categories");
  const coreConfig = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "categories"));
  const configText = JSON.stringify(coreConfig);
  let engine = coreCall(() => new core.Consent(configText, utf8(lastRecord), Date.now(), random32()));
  // Set when the consent engine itself failed (not a refused argument): from then on
  // nothing is granted on this page, and a withdrawal deletes the purposes' data and the
  // record (which can no longer be updated): the visitor is asked again next time.
  let failed = null;
  let channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;

  function failsafe(e) {
    if (!failed) {
      failed = e;
      grantCache = {};
      // Detached, never freed: no later call or finalizer touches a failed engine.
      try {
        engine.__destroy_into_raw?.();
      } catch {
        /* already detached */
      }
      console.error(`Tailor: consent handling failed (${e?.message ?? e}); nothing is granted on this page, and a withdrawal deletes the stored data and the consent record`);
      safeHook("purge", ["personalization", "measurement"]);
    }
  }

  // Runs `fn` with the consent engine; a failure of the engine (anything but a refusal
  // of the arguments, which coreCall turns into a TailorError) switches to failsafe().
  function guarded(fn, fallback) {
    if (failed) return fallback;
    try {
      return coreCall(fn);
    } catch (e) {
      if (e instanceof TailorError) throw e;
      failsafe(e);
      return fallback;
    }
  }

  // The runtime's hooks must not stop a withdrawal half-way: one that throws is reported.
  function safeHook(name, arg) {
    try {
      hooks[name]?.(arg);
    } catch (e) {
      console.error(`Tailor: the consent ${name} hook threw`, e);
    }
  }

  const DENIED = { state: "denied", source: "failure", at: null, expires_at: null };
  function state() {
    if (failed) return { personalization: { ...DENIED }, measurement: { ...DENIED }, gpc_honored: false, error: String(failed?.message ?? failed) };
    return guarded(() => JSON.parse(engine.state(Date.now())), null) ?? state();
  }

  // granted() sits on the per-event path: answers are cached until the engine changes
  // (every change goes through run(), resync() or reset(), which drop the cache) or,
  // for a grant, until it expires.
  let grantCache = {};
  function granted(purpose) {
    const now = Date.now();
    const hit = grantCache[purpose];
    if (hit && now < hit.until) return hit.value;
    const value = guarded(() => engine.isGranted(purpose, now), false);
    const until = value ? (state()[purpose]?.expires_at ?? now) : Infinity;
    grantCache[purpose] = { value, until };
    return value;
  }

  function notify(kind, payload) {
    for (const cb of listeners[kind]) {
      try {
        cb(payload);
      } catch (e) {
        console.error("Tailor: a consent listener threw", e);
      }
    }
  }

  // Carries out the core's effects, in order. Returns whether anything changed.
  function run(effectsJson, { broadcast = true } = {}) {
    grantCache = {};
    const effects = JSON.parse(effectsJson);
    let changed = false;
    for (const e of effects) {
      if (e.type === "delete") {
        safeHook("purge", [e.purpose]);
        for (const k of e.keys) storage.remove(k);
        // Found by name only: deleting a purpose's data never reads it.
        for (const key of storage.names(e.prefix)) storage.remove(key);
        changed = true;
      } else if (e.type === "persist") {
        storage.set(e.key, e.value);
        if (e.key === RECORD_KEY) lastRecord = e.value;
        changed = true;
      } else if (e.type === "changed") {
        changed = true;
      } else if (e.type === "ask_again") {
        for (const p of e.purposes) askPending.add(p);
        notify("ask", e.purposes);
      } else if (e.type === "record_discarded") {
        console.warn(`Tailor: the stored consent record was unreadable and has been discarded (${e.message})`);
      }
    }
    if (changed) {
      const s = state();
      safeHook("changed", s);
      notify("change", s);
      if (broadcast) channel?.postMessage({ type: "consent" });
    }
    return changed;
  }

  // A withdrawal: the consent engine logs it and its effects delete the data. If the
  // engine cannot, the data and the record are deleted here all the same.
  function withdraw(purposes, list) {
    const effects = guarded(() => engine.revoke(purposesArg(purposes), Date.now(), random32()), null);
    if (effects !== null) return run(effects);
    safeHook("purge", list);
    wipePurposes(storage, list);
    storage.remove(RECORD_KEY);
    lastRecord = null;
    channel?.postMessage({ type: "consent" });
    notify("change", state());
    return true;
  }

  // Without a consent record nothing may be stored, and a refused purpose has no data:
  // keys planted under their prefixes (by another script, a restored backup, an older
  // bug) are deleted by name, unread. A purpose merely waiting for its CMP's answer (a
  // returning visitor whose choice the CMP announces again) keeps its data.
  function sweep() {
    const s = state();
    wipePurposes(storage, Object.keys(PURPOSE_PREFIXES).filter((p) => lastRecord === null || s[p].state === "denied"));
  }

  // Another tab changed consent: rebuild from the stored record, drop what is no longer
  // granted from memory (that tab already deleted the storage).
  function resync() {
    const record = storage.get(RECORD_KEY);
    if (record === lastRecord) return;
    const before = { personalization: granted("personalization"), measurement: granted("measurement") };
    lastRecord = record;
    if (!failed) {
      try {
        engine.free?.();
      } catch {
        /* a failed engine cannot be freed; it is let go */
      }
    }
    failed = null;
    engine = guarded(() => new core.Consent(configText, utf8(record), Date.now(), random32()), engine);
    grantCache = {};
    guarded(() => engine.startupEffects()); // already carried out by the tab that wrote the record
    const lost = Object.keys(before).filter((p) => before[p] && !granted(p));
    if (lost.length) safeHook("purge", lost);
    const s = state();
    safeHook("changed", s);
    notify("change", s);
  }

  // Logs the withdrawals noted by recordWithdrawal() where no consent engine ran (the
  // .wasm still loading or failed, in this tab or another): a purpose still granted is
  // revoked now (with a failed engine, its data and the record go); the notes are then
  // removed.
  function settleWithdrawals() {
    const noted = storage.names(WITHDRAWN);
    if (!noted.length) return;
    const purposes = purposeList(noted.map((k) => k.slice(WITHDRAWN.length))).filter((p) => failed || granted(p));
    if (purposes.length) withdraw(purposes, purposes);
    for (const key of noted) storage.remove(key);
  }

  channel?.addEventListener("message", resync);
  // Another tab changed the record, or noted a withdrawal it could not log yet.
  const onStorage = (e) => {
    if (e.key === RECORD_KEY || e.key === null) resync();
    if (e.key === null || e.key?.startsWith(WITHDRAWN)) settleWithdrawals();
  };
  addEventListener("storage", onStorage);
  cleanups.push(() => removeEventListener("storage", onStorage));

  function signal(kind, data) {
    try {
      const effects = guarded(() => engine.signal(kind, JSON.stringify(data ?? null), Date.now(), random32()), null);
      if (effects !== null) run(effects);
    } catch (e) {
      console.error(`Tailor: could not read the ${kind} signal (${e.message ?? e})`);
    }
  }

  function every(ms, fn) {
    const id = setInterval(fn, ms);
    timers.add(id);
    return id;
  }

  // Signals are read as own properties too: `Object.prototype.gpc = false` must not
  // switch GPC off.
  const signals = own(config, "signals") ?? {};
  const enabled = (name) => own(signals, name);
  run(engine.startupEffects(), { broadcast: false });
  sweep();
  if (enabled("gpc") !== false && typeof navigator !== "undefined" && "globalPrivacyControl" in navigator) {
    signal("gpc", navigator.globalPrivacyControl === true);
  }
  if (enabled("tcf")) cleanups.push(watchTcf((data) => signal("tcf", data), every));
  if (enabled("gpp")) cleanups.push(watchGpp((data) => signal("gpp", data), every));
  if (enabled("consent_mode")) cleanups.push(watchConsentMode((data) => signal("consent_mode", data)));
  if (enabled("cookieconsent")) cleanups.push(watchCookieConsent((data) => signal("cookieconsent", data), own(categories, "cookieconsent")));
  if (enabled("klaro")) cleanups.push(watchKlaro((data) => signal("klaro", data), own(categories, "klaro"), every));
  every(TICK_MS, () => {
    const effects = guarded(() => engine.tick(Date.now(), random32()), null);
    if (effects !== null) run(effects);
  });

  const purposesArg = (p) => JSON.stringify(Array.isArray(p) ? p : [p]);
  const unavailable = (what) => new TailorError("CONSENT_FAILED", `Tailor: consent.${what}() cannot run: consent handling failed on this page (${failed?.message ?? failed})`);
  return {
    /** Grants purposes ("personalization", "measurement" or an array). */
    grant(purposes, method = "api") {
      const effects = guarded(() => engine.grant(purposesArg(purposes), method, Date.now(), random32()), null);
      if (effects === null) throw unavailable("grant");
      run(effects);
      return state();
    },
    /**
     * Withdraws purposes: their data is deleted before this returns, in every tab soon
     * after, whatever state the consent engine is in.
     */
    revoke(purposes) {
      withdraw(purposes, purposeList(purposes));
      return state();
    },
    /** Explicit per-purpose choices, e.g. { personalization: true, measurement: false }. */
    decide(choices, method = "custom") {
      const list = Object.keys(choices ?? {}).filter((p) => choices[p] === false);
      const effects = guarded(() => engine.decide(JSON.stringify(choices), method, Date.now(), random32()), null);
      if (effects === null) {
        if (list.length) withdraw(list, purposeList(list));
        throw unavailable("decide");
      }
      run(effects);
      return state();
    },
    /**
     * Logs the withdrawals noted by recordWithdrawal() before consent handling ran:
     * a purpose still granted is revoked now; the notes are then removed.
     */
    settleWithdrawals,
    /** Each purpose's state ("granted" | "denied" | "not_asked"), source and expiry; gpc_honored. */
    state,
    granted,
    /**
     * "change" (state) or "ask" (purposes whose decision expired or whose notice
     * changed; a listener added later still hears it once while they remain not asked).
     */
    on(event, cb) {
      if (!listeners[event]) throw new TailorError("UNKNOWN_EVENT", `Tailor: unknown consent event ${JSON.stringify(event)}`);
      listeners[event].push(cb);
      if (event === "ask") {
        const s = state();
        const still = [...askPending].filter((p) => s[p].state === "not_asked");
        if (still.length) {
          queueMicrotask(() => {
            if (!listeners.ask.includes(cb)) return;
            try {
              cb(still);
            } catch (e) {
              console.error("Tailor: a consent listener threw", e);
            }
          });
        }
      }
      return () => listeners[event].splice(listeners[event].indexOf(cb) >>> 0, 1);
    },
    /** The hash-chained ledger of consent decisions, as JSON text. */
    export() {
      return guarded(() => engine.exportLedger(), null);
    },
    /** Re-reads the record written by another tab (also done on BroadcastChannel/storage). */
    resync,
    /** Erases the consent record too (tailor.forget()); consent handling starts afresh. */
    reset() {
      storage.remove(RECORD_KEY);
      lastRecord = null;
      askPending.clear();
      if (!failed) {
        try {
          engine.free?.();
        } catch {
          /* let go */
        }
      }
      failed = null;
      engine = guarded(() => new core.Consent(configText, undefined, Date.now(), random32()), engine);
      grantCache = {};
      guarded(() => engine.startupEffects());
      channel?.postMessage({ type: "consent" });
      const s = state();
      safeHook("changed", s);
      notify("change", s);
    },
    /** Stops every listener and timer. */
    stop() {
      for (const id of timers) clearInterval(id);
      for (const c of cleanups) c?.();
      channel?.close();
      channel = null;
    },
  };
}

// --- IAB TCF v2.2 and GPP: the CMP's API, here or in an ancestor frame ------------------

// How the two IAB APIs are called: `__tcfapi(command, 2, callback, parameter)` and
// `__gpp(command, callback, parameter)`; across origins, `{ __tcfapiCall }` /
// `{ __gppCall }` messages answered by `{ __tcfapiReturn }` / `{ __gppReturn }`.
const CMP_APIS = {
  __tcfapi: { version: 2, local: (fn, command, callback, parameter) => fn(command, 2, callback, parameter) },
  __gpp: { version: "1.1", local: (fn, command, callback, parameter) => fn(command, callback, parameter) },
};

// The CMP API `name` in this window, or in the ancestor frame found through its
// `${name}Locator` frame: called directly when that frame is same-origin, through the
// postMessage protocol otherwise (`remote`). Returns { call, remote } or null, where
// call(command, callback, parameter, once) returns a function that forgets the
// callback (an answer that never came); a call made `once` forgets it at the answer.
function findCmpApi(name) {
  const { version, local } = CMP_APIS[name];
  const direct = (fn) => ({ call: (command, callback, parameter) => (local(fn, command, callback, parameter), () => {}), remote: false });
  if (typeof window[name] === "function") return direct(window[name]);
  let frame = window;
  while (frame) {
    try {
      if (frame.frames[`${name}Locator`]) break;
    } catch {
      /* cross-origin access to frames is allowed; ignore anything else */
    }
    if (frame === window.top) {
      frame = null;
      break;
    }
    frame = frame.parent;
  }
  if (!frame) return null;
  try {
    if (typeof frame[name] === "function") return direct((...args) => frame[name](...args));
  } catch {
    /* a cross-origin ancestor: postMessage below */
  }
  const callbacks = new Map();
  addEventListener("message", (event) => {
    let data = event.data;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch {
        return;
      }
    }
    const ret = data?.[`${name}Return`];
    if (event.source === frame && ret && callbacks.has(ret.callId)) callbacks.get(ret.callId)(ret.returnValue, ret.success);
  });
  const call = (command, callback, parameter, once = false) => {
    const callId = `tailor-${Math.random().toString(36).slice(2)}`;
    callbacks.set(callId, once ? (...a) => (callbacks.delete(callId), callback(...a)) : callback);
    frame.postMessage({ [`${name}Call`]: { command, parameter, version, callId } }, "*");
    return () => callbacks.delete(callId);
  };
  return { call, remote: true };
}

// How often a cross-origin frame asks its ancestor's CMP again (see watchCmp).
const REMOTE_CHECK_MS = 1000;

// Runs `attach` now, and if the CMP is not there yet, every 250 ms for 10 s until it
// is. Returns the polling timer (null when attached at once).
function attachWhenReady(attach, every) {
  if (attach()) return null;
  let tries = 0;
  const poll = every(250, () => {
    if (attach() || ++tries > 40) clearInterval(poll);
  });
  return poll;
}

// Registers with the CMP API `name` once and keeps the registration: every later
// change (a withdrawal too) arrives at `onAnswer(data)` (answers with `success` only).
//
// Through postMessage, a CMP's bridge may answer only the registration itself and
// drop every later change: the IAB's own TCF stub does (it forgets the asking frame
// once the call returns), so a withdrawal would never reach a cross-origin frame.
// There, the CMP is also asked again every second: a registration, which the CMP
// answers at once with its current data, removed as soon as it answers. One question
// at a time (one left unanswered for 5 s is given up), and an answer the same as the
// last one passed on (by `keyOf`) is not passed on again.
function watchCmp(name, keyOf, onAnswer, every) {
  let listenerId = null;
  let api = null;
  let last = null;
  const pass = (data, again) => {
    const key = keyOf(data);
    if (again && key === last) return;
    last = key;
    onAnswer(data);
  };
  let asking = null; // { forget, checks } while a question is unanswered
  const askAgain = () => {
    if (asking && ++asking.checks < 5) return;
    asking?.forget();
    asking = { checks: 0 };
    asking.forget = api.call("addEventListener", (data, success) => {
      asking = null;
      if (data?.listenerId != null) api.call("removeEventListener", () => {}, data.listenerId, true);
      if (success && data) pass(data, true);
    }, undefined, true);
  };
  const attach = () => {
    api = findCmpApi(name);
    if (!api) return false;
    api.call("addEventListener", (data, success) => {
      if (!success || !data) return;
      if (data.listenerId != null) listenerId = data.listenerId;
      pass(data, false);
    });
    if (api.remote) every(REMOTE_CHECK_MS, askAgain);
    return true;
  };
  // A CMP loaded after Tailor is looked for again for a while. Until it answers, where
  // GDPR applies, nothing is granted (the core's rule).
  const poll = attachWhenReady(attach, every);
  return () => {
    if (poll) clearInterval(poll);
    if (api && listenerId != null) api.call("removeEventListener", () => {}, listenerId);
  };
}

// TCF: every TCData goes to the core, which acts only on loaded + tcloaded or
// useractioncomplete.
function watchTcf(onData, every) {
  const keyOf = (d) => JSON.stringify([d.tcString, d.gdprApplies, d.cmpStatus, d.eventStatus]);
  return watchCmp("__tcfapi", keyOf, onData, every);
}

// GPP: only ping data whose signalStatus is "ready" goes to the core.
function watchGpp(onData, every) {
  const keyOf = ({ pingData: p }) => JSON.stringify([p?.gppString, p?.applicableSections, p?.signalStatus]);
  return watchCmp("__gpp", keyOf, (event) => event.pingData?.signalStatus === "ready" && onData(event.pingData), every);
}

// --- Google Consent Mode v2 (read only) ----------------------------------------------

// Only gtag('consent', 'update', …) counts: that is how a CMP relays the visitor's
// choice (on the page where it is made, and on later pages from its own storage).
// gtag('consent', 'default', …) is the site's setting before any choice: a granted
// default would be consent by default (which strict mode forbids), and a denied
// default, heard before the CMP's update on every page load, would delete a returning
// visitor's profile each time. Tailor's own defaults (not asked) apply instead.
function consentModeFrom(entries, state) {
  for (const entry of entries) {
    // gtag() pushes its `arguments` object: ["consent", "update", {...}].
    if (entry && typeof entry === "object" && entry[0] === "consent" && entry[1] === "update" && entry[2]) {
      for (const k of ["personalization_storage", "analytics_storage"]) {
        if (entry[2][k] === "granted" || entry[2][k] === "denied") state[k] = entry[2][k] === "granted";
      }
    }
  }
  return state;
}

function watchConsentMode(onData) {
  const dataLayer = (window.dataLayer = window.dataLayer || []);
  const state = consentModeFrom(dataLayer, {});
  if (Object.keys(state).length) onData({ ...state });
  // See later gtag('consent', 'update', …) calls as they are pushed; the host's push
  // (and GTM's, if it replaces it) still runs first and unchanged.
  const push = dataLayer.push;
  dataLayer.push = function (...items) {
    const result = push.apply(this, items);
    const before = JSON.stringify(state);
    consentModeFrom(items, state);
    if (JSON.stringify(state) !== before) onData({ ...state });
    return result;
  };
  return () => {
    if (dataLayer.push !== push) dataLayer.push = push;
  };
}

// --- vanilla-cookieconsent v3 ---------------------------------------------------------

function watchCookieConsent(onData, categories = { personalization: "personalization", measurement: "analytics" }) {
  const read = () => {
    const cc = window.CookieConsent;
    if (!cc?.validConsent?.()) return;
    onData({
      personalization: categories.personalization ? cc.acceptedCategory(categories.personalization) : undefined,
      measurement: categories.measurement ? cc.acceptedCategory(categories.measurement) : undefined,
    });
  };
  read();
  for (const ev of ["cc:onConsent", "cc:onChange"]) addEventListener(ev, read);
  return () => {
    for (const ev of ["cc:onConsent", "cc:onChange"]) removeEventListener(ev, read);
  };
}

// --- Klaro! ---------------------------------------------------------------------------

function watchKlaro(onData, services = { personalization: "tailor-personalization", measurement: "tailor-measurement" }, every) {
  let manager = null;
  const read = () => {
    if (!manager?.confirmed) return;
    onData({
      personalization: services.personalization ? manager.getConsent(services.personalization) : undefined,
      measurement: services.measurement ? manager.getConsent(services.measurement) : undefined,
    });
  };
  // Only saved consents count: Klaro also notifies "consents" for every toggle in its
  // modal, before the visitor saves (or closes the modal without saving).
  const watcher = { update: (_, name) => name === "saveConsents" && read() };
  const attach = () => {
    try {
      // Throws while Klaro is loaded but not set up yet (no configuration).
      manager = window.klaro?.getManager?.();
    } catch {
      manager = null;
    }
    if (!manager) return false;
    manager.watch(watcher);
    read();
    return true;
  };
  const poll = attachWhenReady(attach, every);
  return () => {
    if (poll) clearInterval(poll);
    manager?.unwatch?.(watcher);
  };
}
