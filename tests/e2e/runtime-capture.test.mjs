// Browser runtime, point 1: what the page runtime captures, only for the purposes
// granted, and only the properties the rules keep. Headless Chromium, script tag.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup } from "./browser.mjs";
import { open, grant, storedProfile, waitForProfile, auditMark, sdkCalls, tailorMessages } from "./runtime.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

const SHOP = "test/runtime/shop.html";
const PRIVATE = ["someone@example.com", "Ada Lovelace", "ada@example.com", "x@example.com", "secret_event"];

async function scrollToBottom(page) {
  await page.mouse.move(200, 200);
  await page.mouse.wheel(0, 6000);
  await page.waitForFunction(() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2);
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
}

// Event listeners on window and document, as DevTools sees them.
async function listeners(page) {
  const cdp = await page.context().newCDPSession(page);
  const out = [];
  for (const target of ["window", "document"]) {
    const { result } = await cdp.send("Runtime.evaluate", { expression: target });
    const { listeners: list } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId });
    for (const l of list) out.push(`${target} ${l.type}${l.useCapture ? " (capture)" : ""} @${l.scriptId}:${l.lineNumber}:${l.columnNumber}`);
  }
  await cdp.detach();
  return out.sort();
}

const byName = (profile, name) => profile.events.filter((e) => e.name === name).map((e) => e.props);

test("before consent nothing is captured or stored; after the grant page views (SPA too), clicks, scroll depth, forms and track() are, with only their kept properties", async () => {
  const { page, context, pageErrors, consoleMessages } = await open(env, SHOP);
  // Before any choice: interactions of every kind, and none of them may be kept.
  await page.click("#view");
  await scrollToBottom(page);
  await page.click("#signup-submit");
  assert.equal(await page.evaluate(() => window.tailor.track("add_to_cart", { category: "boots", price: 1 })), false);
  await page.waitForTimeout(400);
  assert.deepEqual(await sdkCalls(page, "Storage.setItem"), []);
  // Only the consent record is read (by the first stage and by consent handling).
  assert.deepEqual([...new Set(await sdkCalls(page, "Storage.getItem"))], ["tailor:consent"]);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await page.evaluate(() => scrollTo(0, 0));

  const grantedAt = await page.evaluate(() => Date.now());
  await grant(page);
  await page.click("#view");
  await scrollToBottom(page);
  await page.click("#signup-submit");
  const stored = await page.evaluate(() => [
    window.tailor.track("add_to_cart", { category: "hats", price: 12.5, email: "x@example.com" }),
    window.tailor.track("secret_event", { a: 1 }),
  ]);
  assert.deepEqual(stored, [true, false], "an event the rules do not declare is not stored");
  // A single-page app: pushState, then the back button (popstate).
  await page.evaluate(() => history.pushState({}, "", "/test/runtime/shop/step-2"));
  await page.evaluate(() => history.back());
  await page.waitForURL(/shop\.html$/);

  const profile = await waitForProfile(page, (p) => byName(p, "page_view").length === 3);
  assert.deepEqual(byName(profile, "page_view").map((p) => p.path), ["/test/runtime/shop.html", "/test/runtime/shop/step-2", "/test/runtime/shop.html"]);
  assert.deepEqual(byName(profile, "view_item"), [{ category: "shoes" }], "the click's data-tailor-prop-email is not kept");
  assert.deepEqual(byName(profile, "scroll_depth").slice(0, 4).map((p) => p.percent), [25, 50, 75, 100]);
  assert.deepEqual(byName(profile, "signup"), [{ plan: "pro" }], "the form's data-tailor-prop-name and its fields are not kept");
  assert.deepEqual(byName(profile, "add_to_cart"), [{ category: "hats", price: 12.5 }]);
  assert.ok(profile.events.every((e) => e.time >= grantedAt), "nothing from before the grant");
  for (const secret of PRIVATE) assert.ok(!profile.text.includes(secret), `stored: ${secret}`);
  assert.equal(profile.pageviews, 3);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(tailorMessages(consoleMessages, "error"), []);
  await context.close();
});

test("track() calls queued before the SDK loaded are kept only if consent was already given, never for a later grant", async () => {
  const { page, context } = await open(env, "test/runtime/queued.html");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "no consent: the queued event is dropped");
  await grant(page);
  const granted = await waitForProfile(page, (p) => p.events.length === 1);
  assert.deepEqual(granted.events.map((e) => e.name), ["page_view"], "not kept for the later grant");
  await page.reload(); // consent is now on record: the queued call is stored, with its own time
  const profile = await waitForProfile(page, (p) => byName(p, "view_item").length === 1);
  assert.deepEqual(byName(profile, "view_item"), [{ category: "shoes" }]);
  assert.ok(!profile.text.includes("queued@example.com"));
  await context.close();
});

function visibilityControl() {
  let state = "visible";
  Object.defineProperty(Document.prototype, "visibilityState", { get: () => state, configurable: true });
  Object.defineProperty(Document.prototype, "hidden", { get: () => state === "hidden", configurable: true });
  window.__setVisibility = (s) => {
    state = s;
    document.dispatchEvent(new Event("visibilitychange"));
  };
}

test("engaged time counts the visible tab only; hiding the tab and leaving the page write at once", async () => {
  // Time is Playwright's fake clock, paused: nothing is written unless the runtime
  // writes it synchronously (tab hidden, page left) or the clock is run.
  const { page, context } = await open(env, SHOP, { init: visibilityControl, clock: { time: new Date("2026-03-02T09:00:00Z") } });
  await page.clock.pauseAt(new Date("2026-03-02T09:00:05Z"));
  await grant(page);
  await page.clock.runFor(10_000); // 10 s visible (the page view is written meanwhile)
  const mark = await auditMark(page);
  await page.evaluate(() => window.__setVisibility("hidden"));
  assert.deepEqual(await sdkCalls(page, "Storage.setItem", mark), ["tailor:p:profile"], "hiding the tab writes at once");
  assert.deepEqual(byName(await storedProfile(page), "engaged_time"), [{ seconds: 10 }]);
  await page.clock.runFor(20_000); // hidden: not engaged
  await page.evaluate(() => window.__setVisibility("visible"));
  await page.clock.runFor(5_000);
  await page.evaluate(() => window.tailor.track("signup", { plan: "team" }));
  assert.deepEqual(byName(await storedProfile(page), "signup"), [], "batched: not written yet");
  // A tracked form that navigates away: the submit, the last engaged seconds and the
  // pending event are written by the pagehide flush (the paused clock fires no timer).
  await page.click("#newsletter-submit");
  await page.waitForURL(/thanks\.html/);
  const profile = await storedProfile(page);
  assert.deepEqual(byName(profile, "engaged_time"), [{ seconds: 10 }, { seconds: 5 }]);
  assert.deepEqual(byName(profile, "signup"), [{ plan: "team" }]);
  assert.deepEqual(byName(profile, "newsletter"), [{ topic: "shoes" }]);
  await context.close();
});

test("revoking removes every capture listener, and nothing is recorded afterwards", async () => {
  const { page, context } = await open(env, SHOP);
  const baseline = await listeners(page);
  await grant(page);
  const granted = await listeners(page);
  const added = granted.filter((l) => !baseline.includes(l)).map((l) => l.replace(/ @.*/, ""));
  assert.deepEqual(added.sort(), ["document click (capture)", "document submit (capture)", "window scroll"]);
  await waitForProfile(page, (p) => p.events.length === 1);

  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  assert.deepEqual(await listeners(page), baseline);
  const mark = await auditMark(page);
  await page.click("#view");
  await scrollToBottom(page);
  await page.click("#signup-submit");
  assert.equal(await page.evaluate(() => window.tailor.track("view_item", { category: "shoes" })), false);
  await page.waitForTimeout(400);
  assert.deepEqual(await sdkCalls(page, "Storage.setItem", mark), []);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), ["tailor:consent"]);
  assert.equal(await page.evaluate(() => window.tailor.inventory().profile), null);
  await context.close();
});
