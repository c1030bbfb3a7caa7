// What a new user runs into, in a real Chromium with the script tag: track() calls that
// store nothing say why, decide() reports what the page really shows, a failed start
// has a state the API exposes, and Tailor can be stopped and started again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage } from "./browser.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

const RULES = {
  version: 1,
  events: { add_to_cart: { keep: ["sku"] } },
  experiences: [
    { id: "hello", slot: "hero", variants: [{ id: "v", content: { template: "hero:missing" } }] },
    { id: "side", slot: "side", variants: [{ id: "v", content: { text: "Side variant" } }] },
  ],
};

async function open(body, { path = "/test/first-use/page.html", wait = true } = {}) {
  const audited = await auditedPage(env.browser);
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script src="/test/host-handlers.js"></script></head><body>${body}</body></html>`;
  await audited.page.route((url) => url.pathname === path, (route) => route.fulfill({ body: html, contentType: "text/html; charset=utf-8" }));
  await audited.page.goto(env.base + path.slice(1));
  if (wait) {
    await audited.page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
    await audited.page.evaluate(() => window.tailor.ready);
  }
  return audited;
}

const page = (rules = RULES, extra = "") => `<div data-tailor-slot="hero">Default hero</div><div data-tailor-slot="side">Default side</div>
  <script type="application/json" id="r">${JSON.stringify(rules)}</script>
  <script>window.dropped = []; window.tailor = [["on", "dropped", (d) => window.dropped.push(d)]];</script>
  <script src="/sdk/tailor.min.js" data-rules="r" data-allow-automation async ${extra}></script>`;

test("track() that stores nothing says why, once per cause and event name, and stores nothing", async () => {
  const { page: p, consoleMessages, context } = await open(page());
  const results = await p.evaluate(() => [
    window.tailor.track("add_to_cart", { sku: "A" }),
    window.tailor.track("add_to_cart", { sku: "B" }),
    window.tailor.track("newsletter"),
  ]);
  assert.deepEqual(results, [false, false, false]);
  await p.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.equal(await p.evaluate(() => window.tailor.track("newsletter")), false);
  assert.equal(await p.evaluate(() => window.tailor.track("newsletter")), false);
  assert.equal(await p.evaluate(() => window.tailor.track("add_to_cart", { sku: "C" })), true);
  const dropped = await p.evaluate(() => window.dropped.map((d) => `${d.reason} ${d.name}`));
  assert.deepEqual(dropped, ["no_consent add_to_cart", "no_consent newsletter", "undeclared newsletter"]);
  const infos = consoleMessages.filter((m) => m.text.startsWith("Tailor: track(")).map((m) => m.text);
  assert.equal(infos.length, 3, infos.join("\n"));
  assert.match(infos[0], /track\("add_to_cart"\) was not stored: personalization consent is not granted/);
  assert.match(infos[2], /the rules declare no event "newsletter" \(add it under "events"\)/);
  const profile = await p.evaluate(() => localStorage.getItem("tailor:p:profile") ?? "");
  assert.ok(!profile.includes("\"A\"") && !profile.includes("newsletter"), profile);
  await context.close();
});

test("decide() and explain() report what the page shows when a variant's template is missing", async () => {
  const { page: p, consoleMessages, context } = await open(page());
  assert.equal(await p.locator('[data-tailor-slot="hero"]').innerText(), "Default hero");
  const d = await p.evaluate(() => window.tailor.decide("hero"));
  assert.equal(d.variant, null);
  assert.equal(d.experience, null);
  assert.match(d.summary, /hero: default content kept: slot "hero" wants <template data-tailor-variant="hero:missing">/);
  const e = await p.evaluate(() => window.tailor.explain("hero"));
  assert.equal(e.notApplied.code, "TEMPLATE_MISSING");
  assert.deepEqual(e.notApplied.wouldShow, { experience: "hello", variant: "v" });
  // The other slot is unaffected, and the failure was said once.
  assert.equal(await p.evaluate(() => window.tailor.decide("side").variant), "v");
  assert.equal(consoleMessages.filter((m) => m.type === "error" && /TEMPLATE|template/.test(m.text)).length, 1);
  await context.close();
});

test("a failed start has a state: status() and ready say what failed, and name the file", async () => {
  for (const [rules, code, message] of [
    ["/test/broken.json", "RULES_INVALID", /invalid rules in \/test\/broken\.json: \$: expected a JSON document, found invalid JSON at line 1/],
    ["/test/nope.json", "RULES_UNREACHABLE", /could not fetch rules from \/test\/nope\.json \(HTTP 404\)/],
  ]) {
    const { page: p, context } = await open(`<div data-tailor-slot="hero">Default hero</div><script src="/sdk/tailor.min.js" data-rules="${rules}" async></script>`, { wait: false });
    await p.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
    const status = await p.evaluate(async () => {
      const s = await window.tailor.ready;
      return { ...s, error: s.error && { code: s.error.code, message: s.error.message }, again: window.tailor.status().state };
    });
    assert.equal(status.state, "failed", rules);
    assert.equal(status.again, "failed");
    assert.equal(status.consent, true, "consent handling runs: the visitor can still withdraw");
    assert.equal(status.error.code, code);
    assert.match(status.error.message, message);
    await context.close();
  }
  const { page: p, context } = await open(page());
  assert.deepEqual(await p.evaluate(() => window.tailor.status()), { state: "ready", error: null, consent: true, firstDecided: 0 });
  await context.close();
});

test("a second start() returns the running instance; stop() removes what Tailor added and start() works again", async () => {
  const { page: p, consoleMessages, context } = await open(page());
  const addTag = (query) => p.evaluate((q) => new Promise((ok) => {
    const s = document.createElement("script");
    s.src = "/sdk/tailor.min.js?" + q;
    s.dataset.rules = "r";
    s.dataset.allowAutomation = "";
    s.onload = ok;
    document.head.append(s);
  }), query);
  await p.evaluate(() => (window.first = window.tailor));
  // A second tag (hot reload, a duplicated include) gets the running instance.
  await addTag("again");
  const warnings = () => consoleMessages.filter((m) => m.type === "warning" && /already runs on this page/.test(m.text)).length;
  assert.equal(warnings(), 1, JSON.stringify(consoleMessages));
  assert.equal(await p.evaluate(() => window.tailor === window.first), true);
  await p.evaluate(() => window.tailor.stop());
  assert.equal(await p.evaluate(() => window.first.status().state), "stopped");
  // Stopped: URL changes no longer re-decide, the slots keep what they show, and the
  // history methods are the browser's own again.
  await p.evaluate(() => history.pushState({}, "", "?after-stop"));
  assert.equal(await p.locator('[data-tailor-slot="side"]').innerText(), "Side variant");
  assert.equal(await p.evaluate(() => history.pushState.toString().includes("[native code]")), true);
  // Started again: a new instance, no warning.
  await addTag("third");
  await p.evaluate(() => window.tailor.ready);
  assert.equal(await p.evaluate(() => window.tailor !== window.first && window.tailor.status().state), "ready");
  assert.equal(warnings(), 1);
  await context.close();
});

test("a slot of several elements, one of which cannot show the variant, shows the default everywhere, as decide() says", async () => {
  const rules = { version: 1, experiences: [{ id: "e", slot: "hero", variants: [{ id: "v", content: { text: "VARIANT" } }] }] };
  const { page: p, context } = await open(`<section data-tailor-slot="hero">DEFAULT</section><script type="text/plain" data-tailor-slot="hero"></script>
    <script type="application/json" id="r">${JSON.stringify(rules)}</script><script src="/sdk/tailor.min.js" data-rules="r" data-allow-automation async></script>`);
  assert.equal(await p.evaluate(() => window.tailor.decide("hero").variant), null);
  assert.equal(await p.locator("section").innerText(), "DEFAULT");
  await context.close();
});

test("a stopped instance no longer captures or throws: its consent calls only withdraw", async () => {
  const { page: p, context, pageErrors } = await open(`<button id="view" data-tailor-track="add_to_cart" data-tailor-prop-sku="S">Add</button>${page()}`);
  const grant = await p.evaluate(() => {
    window.old = window.tailor;
    window.old.stop();
    window.old.consent.grant("personalization");
    return window.old.consent.state();
  });
  assert.equal(grant, null);
  await p.click("#view");
  await new Promise((ok) => setTimeout(ok, 400));
  assert.equal(await p.evaluate(() => localStorage.getItem("tailor:p:profile")), null);
  await p.evaluate(() => window.old.consent.revoke("personalization"));
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(await p.evaluate(() => window.hostErrors), []);
  await context.close();
});
