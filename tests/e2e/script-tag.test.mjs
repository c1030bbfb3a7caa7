// The script-tag build against the demo site, in headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage, sdkAudit, storageSnapshot, ARTIFACTS } from "./browser.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

async function heroText(page) {
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  return (await page.locator('[data-tailor-slot="hero"]').innerText()).trim();
}

test("a spring campaign visitor sees the campaign variant, decided in the browser", async () => {
  const { page, context, requests, consoleMessages, pageErrors } = await auditedPage(env.browser);
  await page.goto(`${env.base}?utm_campaign=spring`);
  assert.match(await heroText(page), /^Spring sale: 20% off sneakers/);
  const decision = await page.evaluate(() => window.tailor.decide("hero"));
  assert.equal(decision.experience, "spring-campaign-hero");
  assert.equal(decision.variant, "spring");
  // The queued command of www/demo.js was replayed: its decision listener ran.
  await page.waitForFunction(() => document.getElementById("why").textContent.includes("spring-campaign-hero"));
  await page.screenshot({ path: new URL("hero-spring.png", ARTIFACTS).pathname, fullPage: true });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleMessages.filter((m) => m.type === "error"), []);

  // Network: only the page, its own assets, the SDK files and the rules document.
  const paths = requests.map((r) => {
    const u = new URL(r.url);
    assert.equal(u.origin + "/", env.base, `request to another origin: ${r.url}`);
    return u.pathname + u.search;
  });
  assert.deepEqual(new Set(paths), new Set(["/?utm_campaign=spring", "/demo.css", "/sdk/tailor.min.js", "/sdk/tailor.full.js", "/sdk/tailor_bg.wasm", "/rules.compiled.json", "/demo.js"]));
  assert.equal(paths.filter((p) => p === "/sdk/tailor_bg.wasm").length, 1, "the .wasm was fetched twice");
  // Neither of Tailor's requests carries a cookie or the page's URL.
  for (const file of ["/rules.compiled.json", "/sdk/tailor_bg.wasm"]) {
    const request = requests.find((r) => r.url.endsWith(file));
    assert.equal(request.headers.cookie, undefined, file);
    assert.equal(request.headers.referer, env.base, file);
  }

  // Storage: nothing written, and nothing read but the consent record (there is none
  // yet; the first decision and then consent handling look for it); nothing held by the
  // origin (no consent was given).
  const calls = (await sdkAudit(page)).filter((c) => c.api !== "fetch");
  assert.deepEqual([...new Set(calls.map((c) => `${c.api} ${c.detail}`))], ["Storage.getItem tailor:consent"]);
  assert.deepEqual(await storageSnapshot(page), { cookies: 0, localStorage: 0, sessionStorage: 0, indexedDB: 0, caches: 0 });
  await context.close();
});

test("any other visitor keeps the page's default content", async () => {
  const { page, context, consoleMessages } = await auditedPage(env.browser);
  await page.goto(`${env.base}?utm_campaign=autumn`);
  assert.match(await heroText(page), /^Shoes for every season/);
  assert.equal((await page.evaluate(() => window.tailor.decide("hero"))).variant, null);
  const why = await page.evaluate(() => window.tailor.explain("hero"));
  assert.match(why.summary, /spring-campaign-hero/);
  const spring = why.candidates.find((c) => c.experience === "spring-campaign-hero");
  assert.ok(spring, JSON.stringify(why.candidates));
  assert.equal(spring.outcome, "excluded");
  assert.equal(spring.audience.conditions[0].passed, false);
  assert.equal(spring.audience.conditions[0].seen, "autumn");
  // The start-up steps are marked for DevTools (User Timing), in order.
  const marks = await page.evaluate(() => performance.getEntriesByType("mark").filter((m) => m.name.startsWith("tailor:")).map((m) => m.name));
  // The demo's rules are compiled: the first decision comes as soon as the rules are
  // there (before or after the .wasm, whichever is first), before the full engine's.
  assert.deepEqual(marks.filter((m) => m !== "tailor:first"), ["script", "wasm", "consent", "rules", "engine", "decided"].map((s) => `tailor:${s}`));
  assert.ok(marks.includes("tailor:first") && marks.indexOf("tailor:first") < marks.indexOf("tailor:engine"), marks.join());
  await page.screenshot({ path: new URL("hero-default.png", ARTIFACTS).pathname, fullPage: true });
  assert.deepEqual(consoleMessages.filter((m) => m.type === "error"), []);
  assert.deepEqual(await storageSnapshot(page), { cookies: 0, localStorage: 0, sessionStorage: 0, indexedDB: 0, caches: 0 });
  await context.close();
});

for (const [name, page, expected] of [
  ["a missing rules file", "missing-rules.html", /could not fetch rules from \/nope\.json \(HTTP 404\)/],
  ["invalid rules", "invalid-rules.html", /invalid rules in bad-rules\.json: \$\.experiences\[0\]\.variants\[0\]\.weight: expected a number between 0 and 1, found string "half"/],
  ["rules that are not JSON", "broken-json.html", /invalid rules in broken\.json: \$: expected a JSON document, found invalid JSON at line 1, column 2 \(expected a string key\)/],
]) {
  test(`${name} leaves the default content and one clear console message`, async () => {
    const { page: p, context, consoleMessages, pageErrors } = await auditedPage(env.browser);
    await p.goto(`${env.base}test/${page}?utm_campaign=spring`);
    assert.match(await heroText(p), /^Default hero/);
    const errors = consoleMessages.filter((m) => m.type === "error" && m.text.startsWith("Tailor:"));
    assert.equal(errors.length, 1, JSON.stringify(consoleMessages));
    assert.match(errors[0].text, expected);
    assert.deepEqual(pageErrors, []);
    // The slot is visible again: anti-flicker never leaves it hidden.
    assert.equal(await p.locator('[data-tailor-slot="hero"]').evaluate((el) => getComputedStyle(el).visibility), "visible");
    await context.close();
  });
}

test("inline rules by element id, and commands queued before the SDK loaded are replayed in order", async () => {
  const { page, context } = await auditedPage(env.browser);
  await page.goto(`${env.base}test/inline-rules.html?utm_campaign=spring`);
  assert.equal(await heroText(page), "Inline spring");
  assert.deepEqual(await page.evaluate(() => window.seen), ["first:hero", "second:hero"]);
  await context.close();
});
