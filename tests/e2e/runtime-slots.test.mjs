// Browser runtime, point 3: slots. Default content until decided, variants from
// templates and rules content, anti-flicker that hides only undecided slots (with its
// timeout, and what a late decision does), re-decisions when the URL, the profile or
// the consent changes, and the synchronous API once ready.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup } from "./browser.mjs";
import { open, ready, grant, storedProfile, waitForProfile, tailorMessages, slotText } from "./runtime.mjs";

// Slow rules: the server answers after these delays (ms).
const DELAYS = { "/test/runtime/slow-rules.json": 300, "/test/runtime/late-rules.json": 1200 };
let env;
before(async () => (env = await setup({ delay: (path) => DELAYS[path] ?? 0 })));
after(() => env?.close());

const waitText = (page, slot, text) =>
  page.waitForFunction(([s, t]) => document.querySelector(`[data-tailor-slot="${s}"]`)?.textContent.trim() === t, [slot, text]);

test("a single-page app: pushState and popstate re-decide slots by page.path; each route's new slot gets its decision; impressions count per page view", async () => {
  const { page, context, pageErrors, consoleMessages } = await open(env, "test/runtime/spa.html");
  await grant(page);
  assert.equal(await slotText(page, "hero"), "Default hero");
  assert.equal(await slotText(page, "route"), "Route default (Home)");

  await page.evaluate(() => window.go("/test/runtime/spa/sale"));
  assert.equal(await slotText(page, "hero"), "Sale hero", "re-decided during pushState");
  await waitText(page, "route", "Route: sale prices"); // the view rendered after the URL changed
  await page.evaluate(() => window.go("/test/runtime/spa/new"));
  assert.equal(await slotText(page, "hero"), "New in: spring boots");
  await waitText(page, "route", "Route default (New in)");
  await page.evaluate(() => history.back()); // popstate
  await page.waitForURL(/spa\/sale$/);
  await waitText(page, "hero", "Sale hero");
  await waitText(page, "route", "Route: sale prices");
  await page.evaluate(() => history.back());
  await page.waitForURL(/spa\.html$/);
  await waitText(page, "hero", "Default hero");
  // The third view of the sale route in a day: its cap of 2 impressions is reached,
  // because each single-page-app page view counted one.
  await page.evaluate(() => history.forward());
  await page.waitForURL(/spa\/sale$/);
  await waitText(page, "hero", "Sale hero");
  await waitText(page, "route", "Route default (Sale)");
  assert.match(await page.evaluate(() => window.tailor.explain("route").summary), /cap reached \(2 of 2 impressions in 1d\)/);

  const heroes = await page.evaluate(() => window.seen.filter(([slot]) => slot === "hero").map(([, v]) => v));
  assert.deepEqual(heroes, [null, "sale", "new", "sale", null, "sale"]);
  const profile = await waitForProfile(page, (p) => p.pageviews === 6);
  assert.deepEqual(profile.events.filter((e) => e.name === "page_view").map((e) => e.props.path), [
    "/test/runtime/spa.html", "/test/runtime/spa/sale", "/test/runtime/spa/new", "/test/runtime/spa/sale", "/test/runtime/spa.html", "/test/runtime/spa/sale",
  ]);
  const counted = Object.fromEntries(profile.impressions.map(([exp, , recent]) => [exp, recent.length]));
  assert.deepEqual(counted, { "sale-hero": 3, "sale-route": 2, "new-hero": 1 }, "no impression for a slot that is not in the page");
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(tailorMessages(consoleMessages, "error"), []);
  await context.close();
});

test("variants from rules content (text, attributes, classes, sanitized HTML) and templates; decide/explain are synchronous once ready", async () => {
  const { page, context, pageErrors } = await open(env, "test/runtime/content.html");
  const text = page.locator('[data-tailor-slot="text"]');
  assert.equal(await text.innerHTML(), "Plain &lt;b&gt;text&lt;/b&gt;");
  assert.equal(await text.getAttribute("class"), "keep hot");
  assert.equal(await text.getAttribute("data-kind"), "promo");
  assert.equal(await text.getAttribute("title"), "Promo title");
  assert.equal(await text.getAttribute("onclick"), null);
  assert.equal(await text.getAttribute("href"), null);
  assert.equal(await page.locator('[data-tailor-slot="tpl"]').innerHTML(), '<h2>From a template</h2><a href="/somewhere">a link</a>');
  assert.equal(await page.locator('[data-tailor-slot="html"]').innerHTML(), '<em>Rich</em><img src="/nope.png">');
  assert.equal(await slotText(page, "plain"), "Untargeted");
  await page.waitForTimeout(100);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  const sync = await page.evaluate(() => {
    const d = window.tailor.decide("tpl");
    const why = window.tailor.explain("tpl");
    const replayed = [];
    const off = window.tailor.on("decision", (x) => replayed.push(x.slot));
    off();
    return { variant: d.variant, experience: d.experience, summary: why.summary, candidates: why.candidates.length, replayed, unknown: window.tailor.decide("nope") };
  });
  assert.deepEqual(sync, { variant: "rich", experience: "tpl-exp", summary: 'tpl: "tpl-exp" shows variant "rich"', candidates: 1, replayed: ["text", "tpl", "html"], unknown: null });
  assert.deepEqual(pageErrors, []);
  await context.close();
});

// Runs before the page's scripts: samples, every frame for 3 s, the hero slot, what is
// around it and the page itself; records layout shifts and when Tailor started.
function sampler() {
  const samples = [];
  const shifts = [];
  window.__samples = samples;
  window.__shifts = shifts;
  const box = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  const look = (el) => {
    const s = getComputedStyle(el);
    return { visibility: s.visibility, opacity: s.opacity, display: s.display };
  };
  const t0 = performance.now();
  const sample = () => {
    const slot = document.querySelector('[data-tailor-slot="hero"]');
    if (slot && document.body && document.getElementById("footer")) {
      samples.push({
        t: performance.now(),
        text: slot.textContent.trim(),
        slotVisibility: getComputedStyle(slot).visibility,
        slot: box(slot),
        above: box(document.getElementById("above")),
        below: box(document.getElementById("below")),
        footer: box(document.getElementById("footer")),
        html: look(document.documentElement),
        body: look(document.body),
      });
    }
    if (performance.now() - t0 < 3000) requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) shifts.push({ t: e.startTime, value: e.value });
  }).observe({ type: "layout-shift", buffered: true });
  let api;
  Object.defineProperty(window, "tailor", {
    configurable: true,
    get: () => api,
    set(v) {
      if (v && !Array.isArray(v) && window.__tailorStarted === undefined) window.__tailorStarted = performance.now();
      api = v;
    },
  });
}

const DEFAULT_HERO = "Default heroA second line of default content.";

async function samplesOf(page) {
  await page.waitForFunction(() => window.__samples.length && performance.now() - window.__samples[0].t > 2500);
  return page.evaluate(() => ({ samples: window.__samples, shifts: window.__shifts, started: window.__tailorStarted, rules: performance.getEntriesByType("resource").find((r) => r.name.endsWith("-rules.json"))?.responseEnd }));
}

function assertPageNeverHidden(samples) {
  for (const s of samples) {
    for (const el of [s.html, s.body]) assert.deepEqual(el, { visibility: "visible", opacity: "1", display: "block" }, `the page was hidden at ${s.t}`);
  }
}

function noConstructedStyleSheets() {
  delete Document.prototype.adoptedStyleSheets;
}

for (const [how, init] of [["", null], [" (inline styles where constructed style sheets are missing)", noConstructedStyleSheets]]) test(`while undecided only the slot is hidden, keeping its box: nothing around it moves and the page is never hidden${how}`, async () => {
  const { page, context } = await open(env, "test/runtime/slow.html", { init: [sampler, init ?? []].flat() });
  assert.equal(await slotText(page, "hero"), "Variant hero");
  assert.equal(await page.evaluate(() => window.__lazyVisibility), "hidden", "a slot added before the decision is hidden too");
  assert.equal(await slotText(page, "lazy"), "Lazy variant");
  const { samples, shifts, started, rules } = await samplesOf(page);
  const decidedAt = samples.find((s) => s.text === "Variant hero").t;
  const undecided = samples.filter((s) => s.t >= started && s.t < decidedAt);
  assert.ok(rules - started >= 250 && undecided.length >= 5, `undecided for ${decidedAt - started} ms, ${undecided.length} samples`);
  const first = undecided[0];
  for (const s of undecided) {
    assert.equal(s.text, DEFAULT_HERO, "default content until decided");
    assert.equal(s.slotVisibility, "hidden", `slot visible while undecided at ${s.t - started} ms`);
    for (const k of ["slot", "above", "below", "footer"]) assert.deepEqual(s[k], first[k], `${k} moved while undecided`);
  }
  assert.deepEqual(shifts.filter((s) => s.t < decidedAt), [], "no layout shift while undecided");
  assertPageNeverHidden(samples);
  const last = samples.at(-1);
  assert.equal(last.slotVisibility, "visible");
  assert.ok(last.below.y < first.below.y, "the (shorter) variant applied: what follows moved up only then");
  await context.close();
});

test("anti-flicker timeout: the default shows after ~500 ms; a decision arriving later does not replace it until the next navigation", async () => {
  const { page, context, consoleMessages } = await open(env, "test/runtime/late.html", { init: sampler, wait: false });
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  assert.deepEqual(await page.evaluate(() => [window.tailor.decide("hero"), window.tailor.explain("hero")]), [null, null], "nothing before the rules");
  await ready(page);
  const { samples, started, rules } = await samplesOf(page);
  const hiddenSamples = samples.filter((s) => s.t >= started && s.slotVisibility === "hidden");
  assert.ok(hiddenSamples.length > 0, "hidden at first");
  const revealedAt = samples.find((s) => s.t > hiddenSamples[0].t && s.slotVisibility === "visible").t;
  const afterStart = revealedAt - started;
  console.log(`# anti-flicker: slot shown ${Math.round(afterStart)} ms after Tailor started; rules arrived at ${Math.round(rules - started)} ms`);
  assert.ok(afterStart >= 450 && afterStart < 900, `revealed ${afterStart} ms after start`);
  assert.ok(rules > revealedAt + 300, "the rules arrived well after the timeout");
  // From the timeout on, the visitor sees the default, and keeps seeing it.
  for (const s of samples.filter((x) => x.t >= revealedAt)) {
    assert.equal(s.slotVisibility, "visible");
    assert.equal(s.text, DEFAULT_HERO);
  }
  assertPageNeverHidden(samples);
  const d = await page.evaluate(() => window.tailor.decide("hero"));
  assert.equal(d.late, true);
  assert.equal(d.variant, null);
  assert.match(d.summary, /default content kept: the decision to show "hero-exp" variant "variant" came after the 500 ms anti-flicker timeout/);
  assert.deepEqual((await page.evaluate(() => window.tailor.explain("hero"))).late, { timeoutMs: 500, wouldShow: { experience: "hero-exp", variant: "variant", holdout: false } });
  assert.deepEqual(tailorMessages(consoleMessages, "error"), []);
  // The next navigation decides afresh and applies.
  await page.evaluate(() => history.pushState({}, "", "/test/runtime/late.html?next"));
  assert.equal(await slotText(page, "hero"), "Variant hero");
  assert.equal(await page.evaluate(() => window.tailor.decide("hero").late), undefined);
  await context.close();
});

test("decisions re-run when consent is granted (a behavioural audience starts matching), when the profile changes, and when consent is revoked", async () => {
  const { page, context } = await open(env, "test/runtime/shop.html");
  await page.click("#view");
  assert.deepEqual([await slotText(page, "hero"), await slotText(page, "welcome")], ["Default hero", "Hello"]);
  assert.match(await page.evaluate(() => window.tailor.explain("welcome").summary), /audience did not match/);
  // The grant records this page view; the "returning" audience ($event page_view)
  // matches at once.
  await grant(page);
  assert.equal(await slotText(page, "welcome"), "Welcome back");
  assert.equal(await page.evaluate(() => window.tailor.decide("welcome").variant), "back");
  // Three shoe views (the one before the grant is not counted) make a shoe fan once
  // the profile is written.
  await page.click("#view");
  await page.click("#view");
  assert.equal(await slotText(page, "hero"), "Default hero");
  await page.click("#view");
  await waitText(page, "hero", "Shoes for you");
  assert.equal((await storedProfile(page)).count("view_item"), 3);
  // Revoked: the profile is gone and both slots return to their default content.
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  assert.deepEqual([await slotText(page, "hero"), await slotText(page, "welcome")], ["Default hero", "Hello"]);
  assert.equal(await page.locator('[data-tailor-slot="hero"] h1').count(), 1, "the default DOM, not just its text");
  await context.close();
});
