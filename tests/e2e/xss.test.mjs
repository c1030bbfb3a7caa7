// Hostile variant content through every content kind, against the built script tag in
// a real Chromium, with and without a strict CSP with Trusted Types. The corpus is
// tests/e2e/xss/payloads.mjs: OWASP's filter-evasion classes, mutation XSS, DOM
// clobbering, attribute and class payloads.
//
// One page per class, one slot per payload. After the SDK has applied the variants the
// test hovers, clicks and focuses everything in every slot and scrolls, waits, then
// requires: no marker called (`__xss`, alert/confirm/prompt, a postMessage), no
// `window.pwned`, no dialog, no request or navigation to a URL a payload names (they
// all contain "evil") or off the page's origin, no popup, and nothing dangerous left in
// any slot: no dropped element, no foreign namespace, no `on*`, `srcdoc` or `style`,
// no script URL, no `data-tailor-*`, no id or name that shadows a property of
// `document` or `window`. Each class reports its counts (`# … cases, … executed`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage } from "./browser.mjs";
import { HTML, ATTRIBUTES, CLASSES, expand } from "./xss/payloads.mjs";

const STRICT = "default-src 'self'; img-src 'self' data:; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types tailor";
const MODES = [
  ["no CSP", {}],
  ["strict CSP + Trusted Types", { "content-security-policy": STRICT }],
];

let env;
before(async () => (env = await setup()));
after(() => env?.close());

// Runs in every frame before the page's scripts: the markers a payload would call and
// the names that markup must not shadow (every property of `document`, `window` and a
// form, read before any markup exists).
function markers() {
  const hits = [];
  Object.defineProperty(window, "__xssHits", { value: hits });
  Object.defineProperty(window, "__xss", { value: (name) => hits.push(String(name)) });
  for (const k of ["alert", "confirm", "prompt", "print"]) window[k] = () => hits.push(k);
  addEventListener("message", (e) => hits.push(`message:${String(e.data)}`));
  const reserved = new Set();
  for (const start of [document, window, HTMLFormElement.prototype]) {
    for (let o = start; o; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) reserved.add(k);
  }
  Object.defineProperty(window, "__xssReserved", { value: reserved });
  // The slots, found through Document.prototype: variant markup that shadows
  // document.querySelectorAll must not blind the test.
  const qsa = Document.prototype.querySelectorAll;
  Object.defineProperty(window, "__slots", { value: () => [...qsa.call(document, "[data-tailor-slot]")] });
}

// Slot elements for attribute payloads, by the `on` of the case.
const SLOT_TAGS = {
  "button-in-form": (attrs) => `<form action="/test/xss/submitted"><button ${attrs}>default</button></form>`,
  img: (attrs) => `<img ${attrs} alt="default">`,
  meta: (attrs) => `<meta ${attrs}>`,
  link: (attrs) => `<link ${attrs}>`,
  script: (attrs) => `<script type="text/plain" ${attrs}>default</script>`,
};
const slotTag = (on, attrs) => SLOT_TAGS[on]?.(attrs) ?? `<${on} ${attrs}>default</${on}>`;
// Slots a variant may never touch (runtime.js inertSlot): their variants are refused.
const INERT = new Set(["iframe", "script", "meta", "link", "object", "svg"]);

/** The page and rules for one class: `cases` are { name, content, on }. */
function pageFor(cases, extra = "") {
  const rules = {
    version: 1,
    experiences: cases.map((c, i) => ({ id: `e${i}`, slot: `s${i}`, variants: [{ id: "v", content: c.content }] })),
  };
  // `<` escaped: payloads carry `</script>`, which would end the inline rules early.
  const json = JSON.stringify(rules).replaceAll("<", "\\u003c");
  const slots = cases.map((c, i) => slotTag(c.on ?? "div", `data-tailor-slot="s${i}" data-case="${c.name}"`)).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script src="/test/host-handlers.js"></script></head><body>
<form id="hostform" action="/test/xss/submitted"><input name="password" value="secret"></form>
${slots}
${extra}
<div style="height:2000px"></div>
<script type="application/json" id="r">${json}</script>
<script src="/sdk/tailor.min.js" data-rules="r" data-allow-automation async></script>
</body></html>`;
}

/**
 * Serves `html` at a fresh path with `headers`, loads it, waits for the SDK to apply the
 * decisions; returns the page and what the test records: requests off the page's origin
 * or naming "evil", navigations, popups, dialogs.
 */
async function open(html, headers) {
  const audited = await auditedPage(env.browser);
  const { page, context } = audited;
  await context.addInitScript(markers);
  const origin = new URL(env.base).origin;
  const path = `/test/xss/page-${Math.random().toString(36).slice(2)}.html`;
  const seen = { unexpected: [], navigations: [], popups: [], dialogs: [] };
  await page.route("**/*", (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (url.origin === origin && url.pathname === path) return route.fulfill({ body: html, contentType: "text/html; charset=utf-8", headers });
    const foreign = /evil/i.test(req.url()) || (/^(https?|wss?):$/.test(url.protocol) && url.origin !== origin);
    if (foreign) seen.unexpected.push(req.url());
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      // Stay on the page whatever the navigation (a 204 navigates nowhere), so that the
      // rest of the class is still checked. A link the sanitizer kept, followed to the
      // page's own origin, is not a failure; anything foreign is.
      seen.navigations.push(req.url());
      return route.fulfill({ status: 204 });
    }
    if (foreign) return route.abort();
    return route.continue();
  });
  // Requests the route does not see (from workers, a data: frame…) still show here.
  page.on("request", (r) => {
    const url = new URL(r.url());
    if ((/evil/i.test(r.url()) || (/^(https?|wss?):$/.test(url.protocol) && url.origin !== origin)) && !seen.unexpected.includes(r.url())) seen.unexpected.push(r.url());
  });
  context.on("page", (p) => seen.popups.push(p.url()));
  page.on("dialog", (d) => {
    seen.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await page.goto(env.base + path.slice(1));
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  return { ...audited, seen };
}

// Everything a visitor could do to a slot: pointer, mouse and focus events on every
// element, focus(), click(), and a real mouse hover and click on each slot; then scroll
// and give errors, loads, animations and refreshes time to fire.
async function interact(page) {
  await page.evaluate(() => {
    const types = ["pointerover", "pointerenter", "mouseover", "mouseenter", "pointerdown", "mousedown", "pointerup", "mouseup", "focusin", "mouseout", "pointerleave"];
    for (const slot of window.__slots()) {
      for (const el of [slot, ...slot.querySelectorAll("*")]) {
        for (const type of types) {
          const Ctor = type.startsWith("pointer") ? PointerEvent : type.startsWith("focus") ? FocusEvent : MouseEvent;
          el.dispatchEvent(new Ctor(type, { bubbles: true }));
        }
        el.focus?.();
        el.click?.();
      }
    }
  });
  const count = await page.evaluate(() => window.__slots().length);
  for (let i = 0; i < count; i++) {
    const box = await page.evaluate((i) => {
      const el = window.__slots()[i];
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return r.width && r.height ? { x: r.x + Math.min(r.width / 2, 20), y: r.y + r.height / 2 } : null;
    }, i);
    if (!box) continue;
    await page.mouse.move(box.x, box.y);
    await page.mouse.click(box.x, box.y);
  }
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.evaluate(() => new Promise((ok) => setTimeout(ok, 750)));
}

// What is dangerous in the slots, by case name: walks every element of every slot.
// On the slot element itself only the attributes the case asked for are checked (the
// host's own markup is not the variant's).
function inspect(page, attributeCases) {
  return page.evaluate((attributeCases) => {
    const DROPPED = new Set(["script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "meta", "style", "form", "svg", "math", "template", "noscript", "portal"]);
    const URLS = new Set(["href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background", "cite", "data", "ping", "codebase", "lowsrc", "dynsrc", "longdesc", "manifest", "icon"]);
    const XHTML = "http://www.w3.org/1999/xhtml";
    const found = {};
    for (const slot of window.__slots()) {
      const name = slot.getAttribute("data-case");
      const bad = [];
      const asked = attributeCases[name] ? new Set(Object.keys(attributeCases[name]).map((k) => k.toLowerCase())) : new Set();
      for (const el of [slot, ...slot.querySelectorAll("*")]) {
        const inside = el !== slot;
        if (inside && DROPPED.has(el.localName)) bad.push(`<${el.localName}>`);
        if (inside && el.namespaceURI !== XHTML) bad.push(`${el.localName} in ${el.namespaceURI}`);
        for (const attr of el.attributes) {
          const n = attr.name.toLowerCase();
          if (!inside && !asked.has(n)) continue;
          const scheme = attr.value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "").toLowerCase();
          if (n.startsWith("on")) bad.push(`${n}=`);
          if (n === "srcdoc" || n === "style" || n === "referrerpolicy") bad.push(`${n}=`);
          if (n === "rel" && /(^|\s)opener(\s|$)/i.test(attr.value)) bad.push(`rel=${attr.value}`);
          // (The slot's own data-tailor-slot stays; the variant's value must not land.)
          if (n.startsWith("data-tailor-") && (inside || attr.value === attributeCases[name][Object.keys(attributeCases[name]).find((k) => k.toLowerCase() === n)])) bad.push(`${n}=`);
          if (URLS.has(n) && /^(javascript|vbscript|data):/.test(scheme)) bad.push(`${n}=${attr.value.slice(0, 20)}`);
          if (URLS.has(n) && /evil/i.test(attr.value)) bad.push(`${n}=${attr.value.slice(0, 30)}`);
          if ((n === "id" || n === "name") && window.__xssReserved.has(attr.value)) bad.push(`${n}=${attr.value} (shadows a property)`);
        }
      }
      if (bad.length) found[name] = bad;
    }
    return found;
  }, attributeCases);
}

// The host page is as it was: the properties markup could shadow still work.
function hostIntact(page) {
  return page.evaluate(() => ({
    querySelector: typeof document.querySelector === "function",
    cookie: typeof document.cookie === "string",
    currentScript: document.currentScript === null,
    body: document.body instanceof HTMLBodyElement,
    localStorage: localStorage instanceof Storage,
    tailor: typeof window.tailor?.decide === "function",
    scripts: [...Document.prototype.querySelectorAll.call(document, "script")].every((s) => s.hasAttribute("data-tailor-slot") || s.id === "r" || /\/(sdk\/tailor\.min|test\/host-handlers)\.js$/.test(s.src)),
    handlers: [...Document.prototype.querySelectorAll.call(document, "*")].every((el) => ![...el.attributes].some((a) => /^on/i.test(a.name))),
  }));
}

/**
 * Loads one class, interacts, and returns per-case failures and the class's counts; the
 * caller asserts. `applied(page)` checks the SDK really put the variants in (so that a
 * payload that was never applied cannot pass).
 */
async function runClass(cases, headers, applied, { extra, attributeCases = {} } = {}) {
  const { page, context, pageErrors, seen } = await open(pageFor(cases, extra), headers);
  try {
    const notApplied = await applied(page);
    await interact(page);
    const hits = await page.evaluate(() => [...window.__xssHits]);
    const pwned = await page.evaluate(() => window.pwned !== undefined);
    const dom = await inspect(page, attributeCases);
    const host = await hostIntact(page);
    const executed = new Set(hits.map((h) => h.replace(/^message:/, "")));
    const requested = new Set(cases.filter((c) => seen.unexpected.some((u) => u.includes(`/${c.name}`))).map((c) => c.name));
    const failed = new Set([...executed, ...requested, ...Object.keys(dom)].filter((n) => cases.some((c) => c.name === n)));
    return { hits, pwned, dom, host, seen, pageErrors, notApplied, executed, requested, failed };
  } finally {
    await context.close();
  }
}

function assertClean(t, label, cases, r) {
  t.diagnostic(`${label}: ${cases.length} cases, ${r.executed.size} executed, ${r.requested.size} made a foreign request, ${Object.keys(r.dom).length} left something unsafe in the slot`);
  assert.deepEqual(r.notApplied, [], `${label}: variants not applied`);
  assert.deepEqual(r.hits, [], `${label}: markers called`);
  assert.equal(r.pwned, false, `${label}: window.pwned set`);
  assert.deepEqual(r.seen.dialogs, [], `${label}: dialogs`);
  assert.deepEqual(r.seen.unexpected, [], `${label}: requests off the page's origin or naming evil`);
  assert.deepEqual(r.seen.popups, [], `${label}: popups`);
  assert.deepEqual(r.dom, {}, `${label}: unsafe markup left in slots`);
  assert.deepEqual(Object.entries(r.host).filter(([, ok]) => !ok).map(([k]) => k), [], `${label}: host page properties shadowed`);
  assert.deepEqual(r.pageErrors, [], `${label}: uncaught errors`);
}

const htmlCases = (cls) => HTML[cls].map(([name, html]) => ({ name, content: { html: expand(html, name) } }));

// Every HTML case replaced the slot's "default".
const htmlApplied = (page) => page.evaluate(() => [...window.__slots()].filter((el) => el.innerHTML === "default").map((el) => el.getAttribute("data-case")));

for (const [mode, headers] of MODES) {
  test(`variant HTML (${mode}): every payload class is sanitized to inert markup`, async (t) => {
    const total = { cases: 0, failed: 0 };
    for (const cls of Object.keys(HTML)) {
      await t.test(cls, async (t) => {
        const cases = htmlCases(cls);
        const r = await runClass(cases, headers, htmlApplied);
        total.cases += cases.length;
        total.failed += r.failed.size;
        assertClean(t, `html/${cls} (${mode})`, cases, r);
      });
    }
    t.diagnostic(`html (${mode}): ${total.cases} cases, ${total.failed} got through`);
  });

  test(`text variants (${mode}): every payload renders literally`, async (t) => {
    const cases = Object.values(HTML).flat().map(([name, html]) => ({ name, content: { text: expand(html, name) } }));
    const r = await runClass(cases, headers, (page) => page.evaluate((cases) => {
      const wrong = [];
      for (const el of window.__slots()) {
        const c = cases.find((c) => c.name === el.getAttribute("data-case"));
        if (el.textContent !== c.content.text || el.children.length !== 0) wrong.push(c.name);
      }
      return wrong;
    }, cases));
    assertClean(t, `text (${mode})`, cases, r);
  });

  test(`attribute variants (${mode}): handlers, script URLs, srcdoc, style and Tailor's own attributes are refused`, async (t) => {
    // Each case also sets a harmless title, to tell "applied and filtered" from "never
    // applied"; on an inert slot (iframe, script, meta…) nothing may be applied at all.
    const cases = ATTRIBUTES.attributes.map(([name, on, attributes]) => ({ name, on, content: { attributes: { ...expand(attributes, name), title: "applied" } } }));
    const attributeCases = Object.fromEntries(cases.map((c) => [c.name, c.content.attributes]));
    const r = await runClass(cases, headers, (page) => page.evaluate((inert) => {
      const wrong = [];
      for (const el of window.__slots()) {
        const shouldApply = !inert.includes(el.localName);
        if ((el.getAttribute("title") === "applied") !== shouldApply) wrong.push(el.getAttribute("data-case"));
      }
      return wrong;
    }, [...INERT]), { attributeCases });
    assertClean(t, `attributes (${mode})`, cases, r);
  });

  test(`class variants (${mode}): a class name cannot carry markup or attributes`, async (t) => {
    const cases = CLASSES.classes.map(([name, add]) => ({ name, content: { classes: { add: expand(add, name) } } }));
    // Nothing but the host's own attributes and `class` (and the SDK's reveal style).
    const r = await runClass(cases, headers, (page) => page.evaluate(() => [...window.__slots()]
      .filter((el) => [...el.attributes].some((a) => !["class", "style", "data-case", "data-tailor-slot"].includes(a.name)))
      .map((el) => el.getAttribute("data-case"))));
    assertClean(t, `classes (${mode})`, cases, r);
  });

  test(`template variants (${mode}): only the site's own <template> is cloned, and unused templates stay inert`, async (t) => {
    const extra = `<template data-tailor-variant="offer"><p class="offer">Offer</p></template>
<template data-tailor-variant="unused"><img src=x onerror="top.__xss(/template-unused/.source)"><script>top.__xss(/template-unused-script/.source)</script></template>
<div data-tailor-variant="fake"><p>fake</p></div>`;
    const names = ["offer", 'offer"],template[data-tailor-variant="unused', "*", "fake", "unused\\", "offer\u0000", '"],[data-tailor-variant="unused'];
    const cases = names.map((template, i) => ({ name: `template-${i}`, content: { template } }));
    const r = await runClass(cases, headers, () => [], { extra });
    assertClean(t, `templates (${mode})`, cases, r);
    const { page, context } = await open(pageFor(cases, extra), headers);
    const shown = await page.evaluate(() => [...window.__slots()].map((el) => el.innerHTML));
    const kept = await page.evaluate(() => document.querySelector('template[data-tailor-variant="offer"]').content.childNodes.length);
    await context.close();
    assert.deepEqual(shown, ['<p class="offer">Offer</p>', ...names.slice(1).map(() => "default")]);
    assert.equal(kept, 1, "the template is cloned, not moved");
    t.diagnostic(`templates (${mode}): ${names.length} template names, 1 cloned, ${names.length - 1} refused`);
  });
}

// The allow-list must not cost ordinary content: what a marketer writes comes through.
test("ordinary variant HTML keeps its markup: headings, links, images, media, tables, buttons, data-* and aria-*", async () => {
  const ordinary = [
    '<h2 id="spring-offer" class="promo" data-kind="spring" aria-label="Spring offer">Spring <em>sale</em></h2>',
    '<p dir="ltr" lang="en">Up to <strong>20%</strong> off<br><a href="/shop?c=spring#top" target="_blank" rel="noopener">Shop</a> <a href="https://example.com/terms">terms</a> <a href="mailto:help@example.com">mail</a> <a href="tel:+3212345">call</a></p>',
    '<picture><source srcset="/img/hero.webp 1x, /img/hero@2x.webp 2x" type="image/webp"><img src="/img/hero.jpg" alt="Hero" width="640" height="320" loading="lazy"></picture>',
    '<video controls="" muted="" playsinline="" poster="/img/poster.jpg"><source src="/video/spring.mp4" type="video/mp4"><track kind="captions" src="/video/spring.vtt" srclang="en" label="English"></video>',
    '<table><caption>Sizes</caption><thead><tr><th scope="col">EU</th><th scope="col">US</th></tr></thead><tbody><tr><td colspan="2">42</td></tr></tbody></table>',
    '<details open=""><summary>More</summary><ul><li>One</li></ul><ol start="3" reversed=""><li value="3">Three</li></ol></details>',
    '<button type="button" class="cta" title="Add">Add to cart</button><figure><blockquote cite="https://example.com/q">Great</blockquote><figcaption>A fan</figcaption></figure><time datetime="2025-03-21">spring</time>',
  ].join("");
  const cases = [{ name: "ordinary", content: { html: ordinary } }];
  for (const [mode, headers] of MODES) {
    const { page, context } = await open(pageFor(cases), headers);
    const shown = await page.evaluate(() => window.__slots()[0].innerHTML);
    await context.close();
    assert.equal(shown, ordinary, mode);
  }
});
