// The page, read through the platform's own prototypes, never through properties of
// `document` or globals that markup or the host page can replace.
//
// - DOM clobbering: `Document` is [LegacyOverrideBuiltIns], so `<img name="currentScript">`
//   or `<form name="querySelectorAll">` placed in the page shadows `document`'s own
//   properties. Everything Tailor reads of the document goes through the getters and
//   methods of `Document.prototype` (and `Node`/`EventTarget`), taken when this module
//   loads.
// - A host that replaced `crypto.getRandomValues` on the instance (or made it return
//   zeros) must not give every visitor the same identifier: random bytes come from
//   `Crypto.prototype.getRandomValues`, and output that is visibly constant is refused.

const hasDom = typeof Document === "function" && typeof document !== "undefined";

function getterOf(proto, name) {
  const d = proto && Object.getOwnPropertyDescriptor(proto, name);
  return d?.get ?? null;
}

const D = hasDom ? Document.prototype : null;
const get = (name) => {
  const g = getterOf(D, name);
  return () => (g ? g.call(document) : document[name]);
};
const method = (proto, name) => {
  const fn = proto?.[name];
  return (self, ...args) => fn.apply(self, args);
};

/** The document's own properties and methods, immune to named elements. */
export const doc = {
  currentScript: get("currentScript"),
  readyState: get("readyState"),
  referrer: get("referrer"),
  visibilityState: get("visibilityState"),
  documentElement: get("documentElement"),
  adoptedStyleSheets: get("adoptedStyleSheets"),
  setAdoptedStyleSheets: (sheets) => {
    const d = D && Object.getOwnPropertyDescriptor(D, "adoptedStyleSheets");
    if (d?.set) d.set.call(document, sheets);
    else document.adoptedStyleSheets = sheets;
  },
  querySelector: (selector) => qs(document, selector),
  querySelectorAll: (selector) => qsa(document, selector),
  createElement: (name) => createElement(document, name),
  addEventListener: (...args) => on(document, ...args),
  removeEventListener: (...args) => off(document, ...args),
};

const qs = method(D, "querySelector");
const qsa = method(D, "querySelectorAll");
const createElement = method(D, "createElement");
const on = method(hasDom ? EventTarget.prototype : null, "addEventListener");
const off = method(hasDom ? EventTarget.prototype : null, "removeEventListener");

/**
 * The only element of the page with this id, if it is an inline
 * `<script type="application/json">`; otherwise a `TypeError` saying what was found.
 * Markup that repeats the id (an injected element placed before the site's own) makes
 * the lookup fail rather than pick one: configuration never comes from markup the site
 * did not mean.
 */
export function inlineJsonScript(id) {
  const found = doc.querySelectorAll(`[id="${CSS.escape(id)}"]`);
  if (found.length === 0) throw new TypeError(`no element has id "${id}"`);
  if (found.length > 1) throw new TypeError(`${found.length} elements have id "${id}" (an id must be unique; markup may have been injected)`);
  const el = found[0];
  if (!(el instanceof HTMLScriptElement) || !/^application\/(ld\+)?json$/i.test(el.type)) {
    throw new TypeError(`#${id} is a <${el.localName}${el.type ? ` type="${el.type}"` : ""}>, not a <script type="application/json">`);
  }
  return el;
}

/** The script element running Tailor's script tag, or null (module, eval, clobbered). */
export function ownScript() {
  const el = doc.currentScript();
  return el instanceof HTMLScriptElement ? el : null;
}

const cryptoRandom = typeof Crypto === "function" ? Crypto.prototype.getRandomValues : null;

/**
 * `n` random bytes (n ≥ 8) from the platform's CSPRNG. Throws when there is none, or
 * when it returns all-equal bytes (a host stub: the chance for real randomness is
 * 2^-8(n-1)), so an identifier is never a constant shared by every visitor.
 */
export function randomBytes(n) {
  const bytes = new Uint8Array(n);
  if (!cryptoRandom || typeof crypto !== "object") throw new Error("crypto.getRandomValues is not available");
  cryptoRandom.call(crypto, bytes);
  if (bytes.every((b) => b === bytes[0])) throw new Error("crypto.getRandomValues returned constant bytes (replaced by the page?)");
  return bytes;
}

/**
 * `obj[key]` when it is `obj`'s own property, else undefined: options, configurations
 * and content read this way ignore what a polluted `Object.prototype` adds
 * (`Object.prototype.gpc = false` must not switch GPC off).
 */
export function own(obj, key) {
  return obj != null && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * A User Timing mark, `tailor:<step>`, for the start-up steps (`script`, `wasm`,
 * `rules`, `engine`, `consent`, `decided`): they show in DevTools' Performance panel
 * and in `performance.getEntriesByType("mark")`, and `make bench` reads them.
 */
export function mark(step) {
  try {
    performance.mark(`tailor:${step}`);
  } catch {
    /* no User Timing here: nothing to mark */
  }
}

/** A random allocation identity for one page view (16 hex digits). */
export function randomUnit() {
  return Array.from(randomBytes(8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A random allocation identity for this page view, or "" without working randomness:
 * nobody is then enrolled (a shared constant would link visitors).
 */
export function pageUnitOrNone() {
  try {
    return randomUnit();
  } catch (e) {
    console.error(`Tailor: no usable random source (${e.message}); experiments with several variants show their default`);
    return "";
  }
}
