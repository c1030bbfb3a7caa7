// The page runtime: loads the rules, reads the page context, asks the core to decide
// every slot and applies the decisions to the DOM. It never throws into the host
// page: every failure leaves the default content and one console message.
import { Engine, TailorError, pageInputs, version } from "./api.js";
import { sanitize, safeAttribute } from "./sanitize.js";
import { createStorage } from "./storage.js";
import { startConsent } from "./consent.js";

const SLOT = "data-tailor-slot";

function report(listeners, error) {
  console.error(error.message);
  for (const cb of listeners.error) safely(cb, error);
}

function safely(cb, arg) {
  try {
    cb(arg);
  } catch (e) {
    console.error("Tailor: a listener threw", e);
  }
}

async function loadRules(source) {
  if (source === undefined || source === null || source === "") {
    throw new TailorError("RULES_MISSING", "Tailor: no rules given (set data-rules on the script tag, or pass `rules` to start())");
  }
  if (typeof source === "object") return source;
  const inline = typeof document !== "undefined" && document.getElementById(source);
  if (inline && inline.tagName === "SCRIPT") return inline.textContent;
  let response;
  try {
    // The only request Tailor makes: no cookies, no referrer details beyond the origin.
    response = await fetch(source, { credentials: "omit", referrerPolicy: "strict-origin" });
  } catch (e) {
    throw new TailorError("RULES_UNREACHABLE", `Tailor: could not fetch rules from ${source} (${e.message})`);
  }
  if (!response.ok) {
    throw new TailorError("RULES_UNREACHABLE", `Tailor: could not fetch rules from ${source} (HTTP ${response.status})`);
  }
  return response.text();
}

function domReady() {
  if (document.readyState !== "loading") return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

function randomUnit() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Starts Tailor on the current page. Options: `rules` (an object, JSON text, a URL or
 * the id of an inline JSON script), `wasmReady` (a promise the script tag passes while
 * the .wasm compiles), `antiFlickerMs` (default 500). Returns the page API.
 */
export function start(options = {}) {
  if (typeof document === "undefined") {
    throw new TailorError("NO_DOCUMENT", "Tailor: start() needs a browser page; on a server, use Engine to decide");
  }
  const listeners = { decision: [], error: [] };
  const decisions = new Map();
  const defaults = new WeakMap();
  const hidden = new Set();
  // Allocation identity for this page view only: nothing is stored without consent.
  const unit = randomUnit();
  let engine = null;
  const storage = createStorage();
  let consent = null;
  // Consent calls made before the .wasm is ready run, in order, once it is.
  const pendingConsent = [];

  function hideUndecided() {
    for (const el of document.querySelectorAll(`[${SLOT}]`)) {
      if (!hidden.has(el) && el.style.visibility !== "hidden") {
        el.style.visibility = "hidden";
        hidden.add(el);
      }
    }
  }

  function reveal(el) {
    if (hidden.delete(el)) el.style.visibility = "";
  }

  function revealAll() {
    for (const el of [...hidden]) reveal(el);
  }

  // The page's own content and attributes of a slot, kept so that a later decision
  // (new URL, new consent) can return to them.
  function restoreDefault(el) {
    const saved = defaults.get(el);
    if (!saved) {
      const attrs = new Map([...el.attributes].filter((a) => a.name !== "style").map((a) => [a.name, a.value]));
      defaults.set(el, { nodes: [...el.childNodes].map((n) => n.cloneNode(true)), attrs });
      return;
    }
    el.replaceChildren(...saved.nodes.map((n) => n.cloneNode(true)));
    for (const a of [...el.attributes]) if (a.name !== "style" && !saved.attrs.has(a.name)) el.removeAttribute(a.name);
    for (const [name, value] of saved.attrs) if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function applyContent(el, decision) {
    restoreDefault(el);
    const content = decision.content;
    if (!content) return;
    if (content.template) {
      const tpl = document.querySelector(`template[data-tailor-variant="${CSS.escape(content.template)}"]`);
      if (!tpl) throw new TailorError("TEMPLATE_MISSING", `Tailor: slot "${decision.slot}" wants <template data-tailor-variant="${content.template}">, which is not in the page`);
      el.replaceChildren(tpl.content.cloneNode(true));
    } else if (content.html != null) {
      el.replaceChildren(sanitize(content.html));
    } else if (content.text != null) {
      el.textContent = content.text;
    }
    for (const [name, value] of Object.entries(content.attributes ?? {})) {
      if (safeAttribute(name, value)) el.setAttribute(name, value);
    }
    for (const c of content.classes?.add ?? []) el.classList.add(c);
    for (const c of content.classes?.remove ?? []) el.classList.remove(c);
  }

  function apply(list) {
    for (const d of list) {
      decisions.set(d.slot, d);
      for (const el of document.querySelectorAll(`[${SLOT}="${CSS.escape(d.slot)}"]`)) {
        try {
          applyContent(el, d);
        } catch (e) {
          report(listeners, e instanceof TailorError ? e : new TailorError("APPLY_FAILED", `Tailor: could not apply slot "${d.slot}" (${e.message})`));
        } finally {
          reveal(el);
        }
      }
      for (const cb of listeners.decision) safely(cb, d);
    }
  }

  function context() {
    return pageInputs({
      url: location.href,
      referrer: document.referrer,
      userAgent: navigator.userAgent,
      language: navigator.language,
      viewportWidth: innerWidth,
    });
  }

  const api = {
    /** Resolves once the first decisions are applied (or the defaults kept). */
    ready: null,
    /** Runs a queued command: `["method", ...args]`. */
    push(command) {
      try {
        if (!Array.isArray(command)) throw new TailorError("UNKNOWN_COMMAND", "Tailor: a queued command must be an array such as [\"track\", \"signup\"]");
        const [name, ...args] = command;
        // "consent.grant" reaches api.consent.grant.
        const [head, tail] = String(name).split(".", 2);
        const target = tail === undefined ? api : api[head];
        const method = tail === undefined ? head : tail;
        if (!target || typeof target[method] !== "function" || name === "push") {
          throw new TailorError("UNKNOWN_COMMAND", `Tailor: unknown command ${JSON.stringify(name)}`);
        }
        return target[method](...args);
      } catch (e) {
        report(listeners, e instanceof TailorError ? e : new TailorError("COMMAND_FAILED", `Tailor: ${e.message}`));
      }
    },
    /** Subscribes to "decision" or "error"; returns an unsubscribe function. */
    on(event, cb) {
      if (!listeners[event]) throw new TailorError("UNKNOWN_EVENT", `Tailor: unknown event ${JSON.stringify(event)}`);
      listeners[event].push(cb);
      for (const d of event === "decision" ? decisions.values() : []) safely(cb, d);
      return () => listeners[event].splice(listeners[event].indexOf(cb) >>> 0, 1);
    },
    /** The decision for a slot, or null before ready / for an unknown slot. */
    decide(slot) {
      return decisions.get(slot) ?? null;
    },
    /** Why a slot shows what it shows. */
    explain(slot) {
      const d = decisions.get(slot);
      return d ? d.reasons : null;
    },
    /**
     * Records an interaction. Without the visitor's consent nothing is kept: the event
     * is dropped, never buffered.
     */
    track(name) {
      if (typeof name !== "string" || name === "") {
        throw new TailorError("BAD_EVENT", "Tailor: track(name, props) needs a non-empty event name");
      }
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
    /** Erases every byte Tailor holds on this device, the consent record included. */
    forget() {
      if (!consent) return void pendingConsent.push(["forget"]);
      consent.revoke(["personalization", "measurement"]);
      consent.reset();
      for (const { key } of storage.keys()) storage.remove(key);
    },
    /** Every storage key Tailor holds, its purpose and size, and where it lives. */
    inventory() {
      const purposeOf = (k) => (k.startsWith("tailor:p:") ? "personalization" : k.startsWith("tailor:m:") ? "measurement" : "consent record");
      return {
        keys: storage.keys().map((k) => ({ ...k, purpose: purposeOf(k.key) })),
        storage: storage.fallbackReason ? "memory" : "localStorage",
        fallbackReason: storage.fallbackReason,
      };
    },
  };

  function consentCall(name, ...args) {
    if (!consent) {
      if (name === "state" || name === "export") return null;
      pendingConsent.push([name, ...args]);
      return undefined;
    }
    return consent[name](...args);
  }

  function startConsentHandling() {
    consent = startConsent(storage, options.consent, {
      purge: () => {},
      changed: () => redecide(),
    });
    for (const [name, ...args] of pendingConsent.splice(0)) {
      if (name === "forget") api.forget();
      else consent[name](...args);
    }
  }

  function redecide() {
    if (engine) apply(engine.decide(context(), unit));
  }

  async function run() {
    await domReady();
    hideUndecided();
    const timer = setTimeout(revealAll, options.antiFlickerMs ?? 500);
    try {
      const rulesPromise = loadRules(options.rules);
      rulesPromise.catch(() => {});
      await options.wasmReady;
      try {
        startConsentHandling();
      } catch (e) {
        report(listeners, e instanceof TailorError ? e : new TailorError("CONSENT_FAILED", `Tailor: ${e.message}`));
      }
      engine = new Engine(await rulesPromise);
      apply(engine.decide(context(), unit));
    } catch (e) {
      report(listeners, e instanceof TailorError ? e : new TailorError("START_FAILED", `Tailor: ${e.message}`));
    } finally {
      clearTimeout(timer);
      revealAll();
    }
  }

  api.ready = run().catch(() => {});
  return api;
}
