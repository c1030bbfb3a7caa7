// Hostile pages, hostile markup and failing inputs against the script tag, in a real
// Chromium: withdrawal must work whatever else fails (the rules request hangs, the
// .wasm never arrives, a global the engine uses is sabotaged), markup must not take
// over the configuration or grant consent, variants must not reach active elements,
// and a polluted or clobbered host must not switch protections off.
//
// Each case serves its own page (page.route) around the real built SDK at /sdk/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage, observedPage } from "./browser.mjs";

// The server answers these paths after a very long time (a request that never answers).
const HANG = new Set(["/test/hostile/hang-rules.json", "/sdk/hang/tailor_bg.wasm"]);
let env;
before(async () => (env = await setup({ delay: (path) => (HANG.has(path) ? 600_000 : 0) })));
after(() => env?.close());

const RULES = {
  version: 1,
  events: { view_item: { keep: ["category"] } },
  experiences: [
    { id: "hello", slot: "hero", variants: [{ id: "v", content: { text: "Personal hero" } }] },
  ],
};

// A consent record, a profile and goals as an earlier visit with both purposes granted
// leaves them: made by the SDK itself in a first page of the same context.
async function grantedVisit(context, rulesJson = JSON.stringify(RULES)) {
  const page = await context.newPage();
  await serveHtml(page, "/test/hostile/seed.html", `<div data-tailor-slot="hero">Default</div>
    <script type="application/json" id="r">${rulesJson}</script>
    <script src="/sdk/tailor.min.js" data-rules="r" data-allow-automation async></script>`);
  await page.goto(env.base + "test/hostile/seed.html");
  await page.waitForFunction(() => window.tailor?.ready);
  await page.evaluate(async () => {
    await window.tailor.ready;
    window.tailor.consent.grant(["personalization", "measurement"]);
    window.tailor.track("view_item", { category: "shoes" });
    await new Promise((ok) => setTimeout(ok, 400));
    dispatchEvent(new Event("pagehide")); // write now
  });
  const keys = await page.evaluate(() => Object.keys(localStorage).sort());
  assert.ok(keys.includes("tailor:p:profile") && keys.includes("tailor:consent"), keys.join());
  await page.close();
  return keys;
}

function serveHtml(page, path, body, head = "") {
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script src="/test/host-handlers.js"></script>${head}</head><body>${body}</body></html>`;
  return page.route((url) => url.pathname === path, (route) => route.fulfill({ body: html, contentType: "text/html; charset=utf-8" }));
}

async function openHtml(body, { head = "", context, init, path = "/test/hostile/page.html", query = "", wait = true } = {}) {
  const audited = context ? await observedPage(context) : await auditedPage(env.browser);
  if (init) await audited.page.addInitScript(init);
  await serveHtml(audited.page, path, body, head);
  await audited.page.goto(env.base + path.slice(1) + query);
  if (wait) await audited.page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor) && window.tailor.status().state !== "starting");
  return audited;
}


const tailorErrors = (messages) => messages.filter((m) => m.type === "error" && m.text.startsWith("Tailor:")).map((m) => m.text);
const storedKeys = (page) => page.evaluate(() => Object.keys(localStorage).sort());
const slotText = (page, name) => page.locator(`[data-tailor-slot="${name}"]`).innerText();
const inlineRules = (rules = RULES) => `<script type="application/json" id="r">${JSON.stringify(rules)}</script>`;
const TAG = `<script src="/sdk/tailor.min.js" data-rules="r" data-allow-automation async></script>`;

// --- withdrawal never waits and never depends on the engine --------------------------

test("while the rules request hangs, revoke() and forget() delete at once, and the withdrawal is logged", async () => {
  const context = await env.browser.newContext();
  const seeded = await grantedVisit(context);
  const { page, pageErrors } = await openHtml(`<div data-tailor-slot="hero">Default</div>
    <script src="/sdk/tailor.min.js" data-rules="/test/hostile/hang-rules.json" async></script>`, { context, wait: false });
  await page.waitForFunction(() => window.tailor?.status?.().consent === true);
  assert.equal(await page.evaluate(() => window.tailor.status().state), "starting");
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  assert.deepEqual(await storedKeys(page), seeded.filter((k) => !k.startsWith("tailor:p:")));
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "denied");
  const ledger = JSON.parse(await page.evaluate(() => window.tailor.consent.export()));
  assert.equal(ledger.records.at(-1).method, "revocation", JSON.stringify(ledger.records.at(-1)));
  await page.evaluate(() => window.tailor.forget());
  assert.deepEqual(await storedKeys(page), []);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("before the .wasm arrives, revoke() deletes at once and the withdrawal holds on the next page", async () => {
  const context = await env.browser.newContext();
  await grantedVisit(context);
  // The .wasm request never answers on this page.
  const first = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}
    <script src="/sdk/tailor.min.js" data-rules="r" data-wasm="hang/tailor_bg.wasm" async></script>`, { context, wait: false });
  await first.page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  assert.equal(await first.page.evaluate(() => window.tailor.status().consent), false);
  await first.page.evaluate(() => window.tailor.consent.revoke(["personalization", "measurement"]));
  const keys = await storedKeys(first.page);
  assert.deepEqual(keys.filter((k) => k.startsWith("tailor:p:") || k.startsWith("tailor:m:")), [], keys.join());
  await first.page.close();
  // The next page loads normally: the withdrawal made while nothing could log it is
  // logged now, and nothing is granted or captured.
  const second = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, { context });
  const state = await second.page.evaluate(() => window.tailor.consent.state());
  assert.equal(state.personalization.state, "denied");
  assert.equal(state.measurement.state, "denied");
  await second.page.evaluate(() => window.tailor.track("view_item", { category: "x" }));
  assert.deepEqual(await storedKeys(second.page), ["tailor:consent"]);
  const ledger = JSON.parse(await second.page.evaluate(() => window.tailor.consent.export()));
  assert.equal(ledger.records.at(-1).method, "revocation", JSON.stringify(ledger.records.at(-1)));
  await context.close();
});

test("a host that sabotages a global the engine calls cannot stop withdrawal, and nothing reaches its error handlers", async () => {
  const context = await env.browser.newContext();
  await grantedVisit(context);
  // From sabotage() on, RegExp's test() and toLowerCase() throw: the engine borrows the
  // page's RegExp to evaluate `$regex` while deciding (a pattern the browser finds too
  // large throws the same way).
  const { page, pageErrors } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules({
    ...RULES,
    experiences: [{ id: "n", slot: "hero", audience: { "page.path": { $regexi: "HOSTILE" } }, variants: [{ id: "v", content: { text: "Personal hero" } }] }],
  })}${TAG}`, {
    context,
    init: () => {
      const lower = String.prototype.toLowerCase;
      window.sabotage = () => {
        String.prototype.toLowerCase = function () { throw new Error("sabotaged toLowerCase"); };
        RegExp.prototype.test = function () { throw new Error("sabotaged test"); };
      };
      window.restore = () => (String.prototype.toLowerCase = lower);
    },
  });
  await page.evaluate(() => {
    window.sabotage();
    history.pushState({}, "", "?again=1"); // decide again, under sabotage
  });
  await page.evaluate(() => window.tailor.consent.revoke(["personalization", "measurement"]));
  assert.deepEqual(await storedKeys(page), ["tailor:consent"]);
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "denied");
  await page.evaluate(() => window.tailor.forget());
  assert.deepEqual(await storedKeys(page), []);
  assert.deepEqual(await page.evaluate(() => window.hostErrors), []);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

// --- markup cannot take over the configuration or grant consent ----------------------

test("DOM clobbering: markup named currentScript or repeating the consent id does not configure Tailor", async () => {
  const { page, requests, consoleMessages, pageErrors } = await openHtml(`
    <img name="currentScript" data-rules="/test/hostile/evil-rules.json" data-consent="evil" data-wasm="/test/evil.wasm" src="data:,">
    <div id="consent-config">{"purposes":{"personalization":{"text":"x","default":"granted"}}}</div>
    <img name="querySelectorAll" src="data:,"><img name="querySelector" src="data:,"><form name="addEventListener"></form>
    <div data-tailor-slot="hero">Default</div>${inlineRules()}
    <script type="application/json" id="consent-config">{"purposes":{"personalization":{"text":"We personalise."},"measurement":{"text":"We measure."}}}</script>
    <script src="/sdk/tailor.min.js" data-rules="r" data-consent="consent-config" data-allow-automation async></script>`);
  assert.equal(await page.evaluate(() => window.tailor.status().state), "ready");
  assert.equal(await slotText(page, "hero"), "Personal hero");
  const paths = requests.map((r) => new URL(r.url).pathname);
  assert.ok(!paths.some((p) => p.includes("evil")), paths.join("\n"));
  // The duplicated id is refused (everything denied), never read from the <div>.
  assert.ok(tailorErrors(consoleMessages).some((t) => /data-consent="consent-config".*2 elements have id "consent-config"/.test(t)), tailorErrors(consoleMessages).join("\n"));
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "not_asked");
  await page.mouse.click(5, 5);
  await page.evaluate(() => window.tailor.track("view_item", { category: "x" }));
  assert.deepEqual(await storedKeys(page), []);
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test("consent links inside variant HTML are stripped, and a script's synthetic click on the site's own link grants nothing", async () => {
  const html = '<a id="innocent" href="#" data-tailor-consent="grant" data-tailor-purposes="personalization">Read more</a>';
  const rules = { version: 1, experiences: [{ id: "x", slot: "hero", variants: [{ id: "v", content: { html, attributes: { "data-tailor-consent": "grant" } } }] }] };
  const { page, consoleMessages } = await openHtml(`<div data-tailor-slot="hero">Default</div>
    <footer><a id="site-grant" href="#" data-tailor-consent="grant">Accept personalization</a></footer>${inlineRules(rules)}${TAG}`, {
    init: () => Object.defineProperty(navigator, "globalPrivacyControl", { value: true }),
  });
  assert.equal(await page.locator("#innocent").getAttribute("data-tailor-consent"), null);
  assert.equal(await page.locator('[data-tailor-slot="hero"]').getAttribute("data-tailor-consent"), null);
  await page.click("#innocent");
  await page.evaluate(() => document.getElementById("site-grant").click());
  const state = await page.evaluate(() => window.tailor.consent.state());
  assert.equal(state.personalization.state, "denied"); // GPC, and no grant
  assert.ok(tailorErrors(consoleMessages).some((t) => /clicked by a script/.test(t)));
  // The visitor's own click on the site's control still works (an explicit re-consent).
  await page.click("#site-grant");
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "granted");
  await page.context().close();
});

test("variants never fill or set attributes on scripts, meta, styles or frames", async () => {
  const rules = {
    version: 1,
    experiences: [
      { id: "s", slot: "code", variants: [{ id: "v", content: { text: "window.pwned = 1", attributes: { type: "text/javascript", src: "/test/hostile/evil.js" } } }] },
      { id: "m", slot: "refresh", variants: [{ id: "v", content: { attributes: { content: "0;url=/test/blank.html" } } }] },
      { id: "t", slot: "hero", variants: [{ id: "v", content: { text: "Still fine" } }] },
    ],
  };
  const { page, consoleMessages, pageErrors } = await openHtml(`<script type="text/plain" data-tailor-slot="code">inert</script>
    <meta http-equiv="refresh" content="3600" data-tailor-slot="refresh">
    <div data-tailor-slot="hero">Default</div>${inlineRules(rules)}${TAG}`);
  await page.waitForTimeout(300);
  assert.equal(new URL(page.url()).pathname, "/test/hostile/page.html");
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator('script[data-tailor-slot="code"]').getAttribute("type"), "text/plain");
  assert.equal(await page.locator('meta[data-tailor-slot="refresh"]').getAttribute("content"), "3600");
  assert.equal(await slotText(page, "hero"), "Still fine");
  const errors = tailorErrors(consoleMessages);
  assert.equal(errors.filter((t) => /slots must be ordinary content elements/.test(t)).length, 2, errors.join("\n"));
  // What the page shows is what decide() reports.
  assert.equal(await page.evaluate(() => window.tailor.decide("code").variant), null);
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

// --- polluted and hostile hosts --------------------------------------------------------

test("a polluted Object.prototype switches off neither GPC nor the content rules", async () => {
  const rules = { version: 1, experiences: [{ id: "t", slot: "hero", variants: [{ id: "v", content: { text: "Plain text" } }] }] };
  const { page, pageErrors, consoleMessages } = await openHtml(`<div data-tailor-slot="hero">Default</div><div data-tailor-slot="other">Other default</div>
    <script type="application/json" id="c">{"purposes":{"personalization":{"text":"We personalise."},"measurement":{"text":"We measure."}}}</script>
    ${inlineRules(rules)}<script src="/sdk/tailor.min.js" data-rules="r" data-consent="c" data-allow-automation async></script>`, {
    init: () => {
      Object.defineProperty(navigator, "globalPrivacyControl", { value: true });
      Object.prototype.gpc = false;
      Object.prototype.html = "<b id=pwned>owned</b>";
      Object.prototype.template = "x";
      // A setter that swallows what is assigned through it.
      Object.defineProperty(Object.prototype, "variant", { set() {}, get() { return "swallowed"; }, configurable: true });
    },
  });
  assert.deepEqual(tailorErrors(consoleMessages), []);
  assert.equal(await slotText(page, "hero"), "Plain text");
  assert.equal(await page.evaluate(() => Object.prototype.hasOwnProperty.call(window.tailor.decide("hero"), "variant") && window.tailor.decide("hero").variant), "v");
  assert.equal(await slotText(page, "other"), "Other default");
  assert.equal(await page.locator("#pwned").count(), 0);
  const state = await page.evaluate(() => window.tailor.consent.state());
  assert.equal(state.gpc_honored, true);
  assert.equal(state.personalization.state, "denied");
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test("a replaced crypto.getRandomValues does not give visitors a constant identifier", async () => {
  const { page, pageErrors } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, {
    init: () => (crypto.getRandomValues = (a) => a.fill(0)),
  });
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const id = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  assert.ok(id && !/^0+$/.test(id.replace(/[^0-9a-f]/gi, "")), id);
  assert.deepEqual(pageErrors, []);
  await page.context().close();
});

test("a page without TextEncoder and TextDecoder gets one console message and no error in its handlers", async () => {
  const { page, consoleMessages, pageErrors } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, {
    wait: false,
    init: () => {
      delete window.TextEncoder;
      delete window.TextDecoder;
    },
  });
  await page.waitForTimeout(500);
  assert.equal(await slotText(page, "hero"), "Default");
  assert.deepEqual(await page.evaluate(() => window.hostErrors), []);
  assert.deepEqual(pageErrors, []);
  assert.equal(tailorErrors(consoleMessages).length, 1, tailorErrors(consoleMessages).join("\n"));
  await page.context().close();
});

// --- storage the visitor never agreed to --------------------------------------------------

test("keys planted under a purpose that is not granted are deleted at load, unread", async () => {
  const context = await env.browser.newContext();
  const { page } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, {
    context,
    init: () => {
      if (sessionStorage.getItem("planted")) return;
      sessionStorage.setItem("planted", "1");
      localStorage.setItem("tailor:p:profile", "forged");
      localStorage.setItem("tailor:p:id", "00000000");
      localStorage.setItem("tailor:m:goals", "forged");
      localStorage.setItem("site:own", "kept");
    },
  });
  assert.deepEqual(await storedKeys(page), ["site:own"]);
  const reads = await page.evaluate(() => window.__audit?.filter((e) => e.api === "Storage.getItem").map((e) => e.detail) ?? null);
  if (reads) assert.deepEqual(reads, ["tailor:consent"]);
  await context.close();
});

test("a localStorage whose getter throws: Tailor says once that it keeps data in memory", async () => {
  const { page, consoleMessages } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, {
    init: () => Object.defineProperty(window, "localStorage", { get() { throw new DOMException("denied", "SecurityError"); } }),
  });
  const warnings = consoleMessages.filter((m) => m.type === "warning" && m.text.startsWith("Tailor:")).map((m) => m.text);
  assert.equal(warnings.filter((t) => /localStorage is not available \(SecurityError\); keeping data in memory/.test(t)).length, 1, warnings.join("\n"));
  await page.context().close();
});

test("the .wasm request carries no cookie and no page URL", async () => {
  const context = await env.browser.newContext();
  await context.addCookies([{ name: "session", value: "secret", url: env.base }]);
  const { page, requests } = await openHtml(`<div data-tailor-slot="hero">Default</div>${inlineRules()}${TAG}`, { context, query: "?email=visitor@example.com" });
  const wasm = requests.filter((r) => r.url.endsWith(".wasm"));
  assert.equal(wasm.length, 1);
  assert.equal(wasm[0].headers.cookie, undefined);
  assert.ok(!String(wasm[0].headers.referer ?? "").includes("email"), wasm[0].headers.referer);
  await context.close();
});

// --- races around start-up, found in review (each failed before its fix) ------------------

const SHOP = "test/runtime/shop.html";
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const slowly = (page, glob, ms) => page.route(glob, async (route) => (await sleep(ms), route.continue()));
const profileText = (page) => page.evaluate(() => localStorage.getItem("tailor:p:profile") ?? "");
const started = (page) => page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));

async function grantedShopVisit(context) {
  const page = await context.newPage();
  await page.goto(env.base + SHOP);
  await started(page);
  await page.evaluate(async () => (await window.tailor.ready, window.tailor.consent.grant("personalization")));
  await page.close();
}

test("a track() held while the rules load is never stored under a grant given after it", async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await slowly(page, "**/shop-rules.json", 1500);
  await page.goto(env.base + SHOP);
  await page.waitForFunction(() => window.tailor?.status?.().consent === true);
  assert.equal(await page.evaluate(() => window.tailor.track("view_item", { category: "before-grant" })), false);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.evaluate(() => window.tailor.ready);
  await page.evaluate(() => window.tailor.track("view_item", { category: "after-grant" }));
  await page.evaluate(() => dispatchEvent(new Event("pagehide")));
  const profile = await profileText(page);
  assert.ok(profile.includes("after-grant") && !profile.includes("before-grant"), profile);
  await context.close();
});

test("revoke() then grant() before the .wasm arrives ends granted: the withdrawal is logged first, then the grant", async () => {
  const context = await env.browser.newContext();
  await grantedShopVisit(context);
  const page = await context.newPage();
  await slowly(page, "**/tailor_bg.wasm", 1500);
  await page.goto(env.base + SHOP);
  await started(page);
  await page.evaluate(() => (window.tailor.consent.revoke("personalization"), window.tailor.consent.grant("personalization")));
  await page.evaluate(() => window.tailor.ready);
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "granted");
  const methods = JSON.parse(await page.evaluate(() => window.tailor.consent.export())).records.map((r) => r.method);
  assert.deepEqual(methods.slice(-2), ["revocation", "api"]);
  await context.close();
});

test("a withdrawal made before this tab's .wasm arrived reaches the other tabs: none writes the profile back", async () => {
  const context = await env.browser.newContext();
  const b = await context.newPage();
  await b.goto(env.base + SHOP);
  await started(b);
  await b.evaluate(async () => (await window.tailor.ready, window.tailor.consent.grant("personalization")));
  const a = await context.newPage();
  await slowly(a, "**/tailor_bg.wasm", 4000);
  await a.goto(env.base + SHOP);
  await started(a);
  await a.evaluate(() => window.tailor.consent.revoke("personalization"));
  await b.evaluate(() => window.tailor.track("view_item", { category: "after-revoke" }));
  await sleep(1000);
  assert.equal(await b.evaluate(() => window.tailor.consent.state().personalization.state), "denied");
  assert.equal(await profileText(a), "");
  await context.close();
});

test("a withdrawal while the .wasm failed to load holds on the next visit", async () => {
  const context = await env.browser.newContext();
  await grantedShopVisit(context);
  let page = await context.newPage();
  await page.route("**/tailor_bg.wasm", (route) => route.fulfill({ status: 503, body: "down" }));
  await page.goto(env.base + SHOP);
  await started(page);
  await page.evaluate(async () => (await window.tailor.ready, window.tailor.consent.revoke("personalization")));
  assert.equal(await profileText(page), "");
  await page.close();
  page = await context.newPage();
  await page.goto(env.base + SHOP);
  await started(page);
  await page.evaluate(() => window.tailor.ready);
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "denied");
  assert.deepEqual((await storedKeys(page)).filter((k) => k.startsWith("tailor:consent:withdrawn")), []);
  await context.close();
});

test("variant markup cannot reach the site's consent button through <label for>", async () => {
  const rules = { version: 1, experiences: [{ id: "x", slot: "hero", variants: [{ id: "v", content: { html: '<span id="innocent">Free <label for="accept">shipping today</label></span>' } }] }] };
  const { page } = await openHtml(`<div data-tailor-slot="hero">Default</div>
    <div hidden><button id="accept" data-tailor-consent="grant">Accept</button></div>${inlineRules(rules)}${TAG}`);
  // Not on the sanitizer's list: the <label> goes, with the click it would forward.
  assert.equal(await page.locator('[data-tailor-slot="hero"] label, [data-tailor-slot="hero"] [for]').count(), 0);
  await page.click("#innocent");
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "not_asked");
  await page.context().close();
});
