// Turns variant HTML from the rules into inert, safe DOM nodes: no scripts, no event
// handlers, no javascript: (or vbscript:/data:) URLs, no frames or embedded objects.
// Under Trusted Types the HTML goes through a policy named "tailor" (the host allows it
// with `trusted-types tailor`); without that permission HTML content is refused and
// the slot keeps its default content.
import { doc } from "./dom.js";

const DROP = new Set(["SCRIPT", "IFRAME", "FRAME", "FRAMESET", "OBJECT", "EMBED", "APPLET", "BASE", "LINK", "META", "STYLE", "NOSCRIPT", "TEMPLATE", "SVG", "MATH", "FORM"]);
// Attributes through which a click on variant content acts on another element of the
// page (a <label for> clicks the site's consent button; popovers and commands open or
// trigger others; `form` submits another form).
const REMOTE_CONTROL = new Set(["for", "form", "popovertarget", "popovertargetaction", "commandfor", "command"]);
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href", "poster", "background", "cite", "srcset", "data", "ping"]);

let policy;

function trustedHTML(html) {
  const tt = globalThis.trustedTypes;
  if (!tt) return html;
  if (policy === undefined) {
    try {
      // The policy only parses into an inert template, which sanitize() then cleans
      // before anything reaches the document.
      policy = tt.createPolicy("tailor", { createHTML: (s) => s });
    } catch {
      policy = null;
    }
  }
  if (policy === null) {
    throw new Error('variant HTML needs the Trusted Types policy "tailor" (add `trusted-types tailor` to the page\'s CSP), or use text or a <template>');
  }
  return policy.createHTML(html);
}

function unsafeUrl(value) {
  // Browsers ignore ASCII whitespace and control characters inside the scheme.
  const scheme = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "").toLowerCase();
  return /^(javascript|vbscript|data):/.test(scheme);
}

/**
 * Whether an attribute from the rules may be set: no event handlers, no script URLs,
 * and none of Tailor's own `data-tailor-*` attributes (a variant must not carry a
 * consent control, a slot or a tracking marker of its own), and nothing that makes a
 * click on it act on another element of the page (`for`, `form`, `popovertarget`…).
 */
export function safeAttribute(name, value) {
  const n = String(name).toLowerCase();
  return /^[a-z][a-z0-9_:.-]*$/.test(n) && !n.startsWith("on") && !n.startsWith("data-tailor-") && !REMOTE_CONTROL.has(n) && n !== "srcdoc" && n !== "style" && !(URL_ATTRIBUTES.has(n) && unsafeUrl(String(value)));
}

/**
 * Whether an element may not be a slot: the elements the sanitizer drops from variant
 * HTML (scripts, styles, frames, objects, `<meta>`, `<base>`, `<link>`, templates, forms…)
 * are also never filled or given attributes by a variant: a `type` or `src` on a
 * `<script type="text/plain">` would run code, a `content` on `<meta http-equiv=refresh>`
 * would navigate.
 */
export function inertSlot(el) {
  return DROP.has(String(el.nodeName).toUpperCase()) || el.namespaceURI !== "http://www.w3.org/1999/xhtml";
}

function clean(node) {
  for (const child of [...node.childNodes]) {
    if (child.nodeType === 8) {
      child.remove(); // comments
    } else if (child.nodeType === 1) {
      if (DROP.has(child.nodeName.toUpperCase())) {
        child.remove();
        continue;
      }
      for (const attr of [...child.attributes]) {
        if (!safeAttribute(attr.name, attr.value)) child.removeAttribute(attr.name);
      }
      clean(child);
    }
  }
}

/** Parses `html` into a sanitized DocumentFragment; throws when Trusted Types forbid it. */
export function sanitize(html) {
  const template = doc.createElement("template");
  template.innerHTML = trustedHTML(html);
  clean(template.content);
  return template.content;
}
