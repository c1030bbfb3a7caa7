// Slots in the page: the anti-flicker veil that hides them until they are decided, and
// the application of a decision to a slot's element, remembering its default content.
// Shared by the first-decision script and the full module, which takes over the same
// veil and the same remembered defaults (see stage.js).
import { TailorError } from "./errors.js";
import { sanitize, safeAttribute, inertSlot } from "./sanitize.js";
import { doc, own } from "./dom.js";

/** The attribute naming a slot. */
export const SLOT = "data-tailor-slot";

/** The selector of every element of slot `name`. */
export const slotSelector = (name) => `[${SLOT}="${CSS.escape(name)}"]`;

/**
 * The anti-flicker veil: a constructed style sheet hiding every slot (inline styles
 * where constructed sheets are missing) with `visibility: hidden`, which keeps the
 * slot's box, so nothing around it moves. `settled` once everything is revealed.
 */
export function createVeil(settled) {
  let sheet = null; // null: not made yet; false: none (inline styles, or revealed)
  const hidden = new Set();
  const veil = {
    get settled() {
      return settled;
    },
    /** Whether slots are hidden one by one (no constructed sheet). */
    get inline() {
      return sheet === false;
    },
    /** Hides every slot not decided yet. */
    hide() {
      if (settled) return;
      if (sheet === null) {
        try {
          const s = new CSSStyleSheet();
          s.replaceSync(`[${SLOT}]{visibility:hidden}`);
          doc.setAdoptedStyleSheets([...doc.adoptedStyleSheets(), s]);
          sheet = s;
        } catch {
          sheet = false;
        }
      }
      if (sheet === false) for (const el of doc.querySelectorAll(`[${SLOT}]`)) veil.hideSlot(el);
    },
    /** Hides one element (where there is no constructed sheet). */
    hideSlot(el) {
      if (!hidden.has(el) && el.style.visibility !== "hidden") {
        el.style.visibility = "hidden";
        hidden.add(el);
      }
    },
    /** Shows the slots named in `names`; the others stay hidden. */
    revealOnly(names) {
      if (settled) return;
      if (sheet) {
        const shown = [...names].map((n) => `:not(${slotSelector(n)})`).join("");
        try {
          sheet.replaceSync(`[${SLOT}]${shown}{visibility:hidden}`);
        } catch {
          veil.revealAll();
        }
      }
      for (const el of hidden) {
        if (names.has(el.getAttribute(SLOT))) {
          el.style.visibility = "";
          hidden.delete(el);
        }
      }
    },
    /** Shows every slot, for good. */
    revealAll() {
      settled = true;
      if (sheet) doc.setAdoptedStyleSheets(doc.adoptedStyleSheets().filter((s) => s !== sheet));
      sheet = false;
      for (const el of hidden) el.style.visibility = "";
      hidden.clear();
    },
  };
  return veil;
}

// The page's own content and attributes of a slot, kept in `defaults` so that a later
// decision (new URL, new consent) can return to them.
function savedDefault(defaults, el) {
  let saved = defaults.get(el);
  if (!saved) {
    const attrs = new Map([...el.attributes].filter((a) => a.name !== "style").map((a) => [a.name, a.value]));
    saved = { nodes: [...el.childNodes].map((n) => n.cloneNode(true)), attrs, shown: null };
    defaults.set(el, saved);
  }
  return saved;
}

function resetToDefault(el, saved) {
  el.replaceChildren(...saved.nodes.map((n) => n.cloneNode(true)));
  for (const a of [...el.attributes]) if (a.name !== "style" && !saved.attrs.has(a.name)) el.removeAttribute(a.name);
  for (const [name, value] of saved.attrs) if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * Shows `decision` in slot element `el`, remembering the element's default in
 * `defaults` (a WeakMap) the first time. Content is read as own properties: a polluted
 * Object.prototype (`html`, `template`) adds nothing to a variant. Everything that can
 * fail is checked before the slot is touched, so a failure (a TailorError) leaves the
 * slot as it was.
 */
export function applyContent(defaults, el, decision) {
  const saved = savedDefault(defaults, el);
  const key = `${decision.experience}\u0000${decision.variant}\u0000${decision.holdout}`;
  if (saved.shown === key) return; // already showing it: leave the DOM alone
  const content = decision.holdout ? null : decision.content;
  if (content && inertSlot(el)) {
    throw new TailorError("SLOT_UNSAFE", `Tailor: slot "${decision.slot}" is a <${el.localName}>, whose content or attributes could run code or navigate; slots must be ordinary content elements`);
  }
  let fragment = null;
  const template = own(content, "template");
  const html = own(content, "html");
  if (template) {
    const tpl = doc.querySelector(`template[data-tailor-variant="${CSS.escape(template)}"]`);
    if (!tpl) throw new TailorError("TEMPLATE_MISSING", `Tailor: slot "${decision.slot}" wants <template data-tailor-variant="${template}">, which is not in the page`);
    fragment = tpl.content.cloneNode(true);
  } else if (html != null) {
    fragment = sanitize(String(html));
  }
  if (saved.shown !== null) resetToDefault(el, saved);
  saved.shown = key;
  if (!content) return;
  const text = own(content, "text");
  if (fragment) el.replaceChildren(fragment);
  else if (text != null) el.textContent = String(text);
  for (const [name, value] of Object.entries(own(content, "attributes") ?? {})) {
    if (safeAttribute(name, value)) el.setAttribute(name, value);
  }
  const classes = own(content, "classes");
  for (const c of own(classes, "add") ?? []) el.classList.add(c);
  for (const c of own(classes, "remove") ?? []) el.classList.remove(c);
}
