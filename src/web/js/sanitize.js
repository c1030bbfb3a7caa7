// Turns variant HTML from the rules into inert, safe DOM nodes. It works from
// allow-lists: elements and attributes not listed are removed, so markup the list does
// not know (a new element, a new attribute that loads, submits or runs something) is
// refused by default rather than let through. What is left: text-level and sectioning
// content, lists, tables, images and media, links and buttons, with presentational and
// accessibility attributes, `data-*` (never Tailor's own `data-tailor-*`), and URLs
// whose scheme is http(s), mailto or tel (or none: relative URLs).
// Under Trusted Types the HTML goes through a policy named "tailor" (the host allows it
// with `trusted-types tailor`); without that permission HTML content is refused and
// the slot keeps its default content.
//
// The parsed nodes themselves go into the page (they are never serialized and parsed
// again), so the parser differentials behind mutation XSS have nothing to act on.
import { doc } from "./dom.js";

// Elements variant HTML may contain. Everything else is removed with its content:
// scripts, styles, frames, embedded objects, forms and their controls (a variant must
// not add fields to, or resubmit, a form of the host page), <base>, <meta>, <link>,
// templates, SVG and MathML (every element outside the HTML namespace), custom elements
// (whose code is the host's, fed attributes from the rules).
const ELEMENTS = new Set(
  ("a abbr address article aside audio b bdi bdo blockquote br button caption cite code col colgroup "
    + "data dd del details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup hr "
    + "i img ins kbd li main mark nav ol p picture pre q rp rt ruby s samp section small source span "
    + "strong sub summary sup table tbody td tfoot th thead time tr track u ul var video wbr").split(" "),
);

// Attributes an element from the rules (or, through `attributes`, a slot) may carry,
// besides `data-*` and `aria-*`. Not listed, so refused: event handlers, `style`,
// `srcdoc`, `name` (it shadows properties of `document`), `form`, `formaction` and the
// other form-owner overrides (they would send the host's form elsewhere), `ping` (a
// hidden request on click), `referrerpolicy` (it could send more than the page's own
// policy), `is`, `autofocus`, `popovertarget`, `command`/`commandfor`.
const ATTRIBUTES = new Set(
  ("abbr align alt autoplay cite class colspan controls datetime decoding default dir disabled "
    + "download headers height hidden href hreflang id kind label lang loading loop media muted open "
    + "placeholder playsinline poster preload rel reversed role rowspan scope sizes span "
    + "src srclang srcset start target title translate type value width").split(" "),
);

// Attributes holding a URL (`srcset`: a list of them).
const URL_ATTRIBUTES = new Set(["href", "src", "srcset", "poster", "cite"]);
const SCHEMES = new Set(["http", "https", "mailto", "tel"]);
const XHTML = "http://www.w3.org/1999/xhtml";

// Host elements a variant may not fill or change. Slots are host markup, so this is a
// deny-list: the elements whose content or attributes are code, navigation or loads.
const INERT_SLOTS = new Set(["script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "meta", "style", "noscript", "template", "svg", "math", "form", "portal", "fencedframe"]);

// Node and element properties read through the prototypes: a <form> with an
// <input name="attributes"> (or "localName", "childNodes") shadows its own.
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const hasDom = typeof Node === "function";
const nodeType = hasDom ? getter(Node.prototype, "nodeType") : null;
const childNodes = hasDom ? getter(Node.prototype, "childNodes") : null;
const localName = hasDom ? getter(Element.prototype, "localName") : null;
const namespaceOf = hasDom ? getter(Element.prototype, "namespaceURI") : null;
const attributesOf = hasDom ? getter(Element.prototype, "attributes") : null;
const removeAttribute = hasDom ? Element.prototype.removeAttribute : null;
const removeNode = hasDom ? Element.prototype.remove : null;
const removeChild = hasDom ? Node.prototype.removeChild : null;

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

// Whether a URL has a scheme other than http(s), mailto or tel. Browsers ignore ASCII
// whitespace and control characters inside the scheme, so they are removed first.
function unsafeUrl(value) {
  const url = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  const scheme = /^([^/?#]*?):/.exec(url);
  return scheme !== null && !SCHEMES.has(scheme[1].toLowerCase());
}

// Each candidate of a srcset ("url 2x, url 640w").
const unsafeSrcset = (value) => value.split(",").some((candidate) => unsafeUrl(candidate.trim().split(/\s+/)[0] ?? ""));

// Whether an id would shadow a property of `document`, `window` or a form (named
// access): `<img id="cookie" name="cookie">` makes `document.cookie` an element, and a
// `<button id="action">` in a slot inside the host's form makes `form.action` one.
const clobbers = (value) => value in globalThis || (hasDom && (value in document || value in HTMLFormElement.prototype));

/**
 * Whether an attribute from the rules may be set: a listed attribute, `data-*` or
 * `aria-*`; never one of Tailor's own `data-tailor-*` attributes (a variant must not
 * carry a consent control, a slot or a tracking marker of its own), an id that shadows
 * a property of `document`, `window` or a form, `rel="opener"`, or a URL with a scheme
 * other than http(s), mailto or tel.
 */
export function safeAttribute(name, value) {
  const n = String(name).toLowerCase();
  const v = String(value);
  if (!/^[a-z][a-z0-9_.-]*$/.test(n)) return false;
  if (n.startsWith("data-")) return !n.startsWith("data-tailor-");
  if (n.startsWith("aria-")) return true;
  if (!ATTRIBUTES.has(n)) return false;
  if (n === "id") return !clobbers(v);
  // rel="opener" would hand the opened page this window (reverse tabnabbing).
  if (n === "rel") return !/(^|\s)opener(\s|$)/i.test(v);
  if (n === "srcset") return !unsafeSrcset(v);
  return !(URL_ATTRIBUTES.has(n) && unsafeUrl(v));
}

/**
 * Whether an element may not be a slot: an element outside the HTML namespace, or one
 * the sanitizer would not keep and that can run code, navigate or load (scripts,
 * styles, frames, objects, `<meta>`, `<base>`, `<link>`, templates, forms…). Content or
 * attributes are never applied to it: a `type` or `src` on a `<script type="text/plain">`
 * would run code, a `content` on `<meta http-equiv=refresh>` would navigate.
 */
export function inertSlot(el) {
  return namespaceOf.call(el) !== XHTML || INERT_SLOTS.has(localName.call(el));
}

function clean(node) {
  for (const child of [...childNodes.call(node)]) {
    const type = nodeType.call(child);
    if (type === 3) continue; // text
    if (type !== 1 || namespaceOf.call(child) !== XHTML || !ELEMENTS.has(localName.call(child))) {
      // Comments, processing instructions and elements off the list, with their content.
      if (type === 1) removeNode.call(child);
      else removeChild.call(node, child);
      continue;
    }
    for (const attr of [...attributesOf.call(child)]) {
      if (!safeAttribute(attr.name, attr.value)) removeAttribute.call(child, attr.name);
    }
    clean(child);
  }
}

/** Parses `html` into a sanitized DocumentFragment; throws when Trusted Types forbid it. */
export function sanitize(html) {
  const template = doc.createElement("template");
  template.innerHTML = trustedHTML(html);
  clean(template.content);
  return template.content;
}
