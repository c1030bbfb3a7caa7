// The live inspector on the demo shop, served under a strict CSP with Trusted Types:
// `?tailor-debug` and tailor.inspect() open it (and only they load it), it lists each
// slot's decision, updates when an event is tracked, forces a variant for this page only,
// and decides as for a fresh profile without touching the real one. Screenshots:
// target/e2e/inspector-*.png, each taken after the test checked what the panel shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage, ARTIFACTS } from "./browser.mjs";

const STRICT = "default-src 'self'; img-src 'self' data:; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types tailor";

let env;
before(async () => (env = await setup({ extraHeaders: (path) => (path === "/" || path.endsWith(".html") ? { "content-security-policy": STRICT } : {}) })));
after(() => env?.close());

async function openPage(path) {
  const observed = await auditedPage(env.browser, { viewport: { width: 1200, height: 900 } });
  const { page, context } = observed;
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${env.base}${path}`);
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  return observed;
}

// The panel's text, from its shadow root.
const panelText = (page) => page.locator("[data-tailor-inspector]").evaluate((h) => h.shadowRoot.textContent);
const slotText = (page, slot) => page.locator("[data-tailor-inspector]").evaluate((h, s) => h.shadowRoot.querySelector(`[data-slot="${s}"] .summary`).textContent, slot);
const hero = async (page) => (await page.locator('[data-tailor-slot="hero"]').innerText()).trim().split("\n")[0];
const shot = (page, name) => page.screenshot({ path: new URL(`inspector-${name}.png`, ARTIFACTS).pathname });

async function force(page, slot, value) {
  await page.locator("[data-tailor-inspector]").evaluate(
    (h, [s, v]) => {
      const select = h.shadowRoot.querySelector(`[data-slot="${s}"] select`);
      select.value = v;
      select.dispatchEvent(new Event("change"));
    },
    [slot, value],
  );
}

test("without ?tailor-debug the inspector is not loaded", async () => {
  const { page, context, requests } = await openPage("?utm_campaign=spring");
  await page.waitForTimeout(300);
  assert.equal(await page.locator("[data-tailor-inspector]").count(), 0);
  assert.ok(!requests.some((r) => r.url.includes("tailor.inspect.js")), "tailor.inspect.js was requested");
  await context.close();
});

test("?tailor-debug opens it under a strict CSP: every slot's decision and why, and consent", async () => {
  const { page, context, pageErrors, consoleMessages } = await openPage("?tailor-debug&utm_campaign=spring");
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  for (const slot of ["hero", "notice", "shipping"]) {
    assert.equal(await slotText(page, slot), await page.evaluate((s) => window.tailor.explain(s).summary, slot));
  }
  assert.match(await slotText(page, "hero"), /^hero: "spring-campaign-hero" shows variant "spring"; passed over "cart-reminder"/);
  const text = await panelText(page);
  assert.match(text, /personalization: not asked/);
  assert.match(text, /cart-reminder \(priority 30\): excluded, audience did not match/);
  await shot(page, "1-open");
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleMessages.filter((m) => m.type === "error"), []);
  await context.close();
});

test("it updates live: consent, tracked events (the kept properties only) and dropped ones", async () => {
  const { page, context } = await openPage("?tailor-debug");
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  await page.evaluate(() => window.tailor.track("view_item", { category: "shoes", id: "x" }));
  await page.waitForFunction(() => document.querySelector("[data-tailor-inspector]").shadowRoot.textContent.includes("view_item not kept: personalization consent is not granted"));
  await page.click("#consent-accept");
  await page.waitForFunction(() => document.querySelector("[data-tailor-inspector]").shadowRoot.textContent.includes("personalization: granted (accept_all"));
  await page.evaluate(() => window.tailor.track("view_item", { category: "shoes", id: "trail-runner", email: "someone@example.com" }));
  await page.waitForFunction(() => /view_item \{"category":"shoes"\}/.test(document.querySelector("[data-tailor-inspector]").shadowRoot.textContent));
  assert.doesNotMatch(await panelText(page), /someone@example\.com|trail-runner/, "only what the rules keep is shown");
  await shot(page, "2-events");
  await context.close();
});

test("forcing a variant shows it on this page only; a fresh profile leaves the real one alone", async () => {
  const { page, context } = await openPage("");
  await page.click("#consent-accept");
  // A shoe fan: three shoe pages under consent.
  for (const id of ["trail-runner", "city-sneaker", "hiking-boot"]) {
    await page.goto(`${env.base}product.html?id=${id}`);
    await page.evaluate(() => window.tailor.ready);
  }
  await page.goto(`${env.base}?tailor-debug`);
  await page.evaluate(() => window.tailor.ready);
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  assert.equal(await hero(page), "New trail shoes are in");

  await force(page, "hero", "cart-reminder\u0000reminder");
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Your cart is waiting"));
  assert.match(await slotText(page, "hero"), /forced in the inspector/);
  assert.equal(await page.evaluate(() => window.tailor.decide("hero").forced), true);
  await shot(page, "3-forced");

  // Fresh profile: decided as a new visitor; the real profile keeps its events.
  await force(page, "hero", "");
  await page.locator("[data-tailor-inspector]").evaluate((h) => h.shadowRoot.querySelector("#fresh").click());
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Shoes for every season"));
  assert.ok((await page.evaluate(() => window.tailor.inventory().profile.events)) >= 3);
  await shot(page, "4-fresh");
  await page.locator("[data-tailor-inspector]").evaluate((h) => h.shadowRoot.querySelector("#fresh").click());
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("New trail shoes are in"));

  // Nothing forced was recorded: after a reload the hero is decided as before, and the
  // cart reminder was never an impression (it would be sticky).
  await force(page, "hero", "cart-reminder\u0000reminder");
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Your cart is waiting"));
  await page.reload();
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  assert.equal(await hero(page), "New trail shoes are in");
  assert.doesNotMatch(await page.evaluate(() => localStorage.getItem("tailor:p:profile")), /cart-reminder/);
  await context.close();
});

test("the demo's footer opens it with one click", async () => {
  const { page, context } = await openPage("");
  await page.click("#inspector-open");
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  assert.match(await panelText(page), /Tailor inspector/);
  await context.close();
});

test("closing ends what it forced, it opens again, keeps focus and open sections across updates, and Escape closes it", async () => {
  const { page, context } = await openPage("?tailor-debug&utm_campaign=spring");
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  assert.equal(await page.locator("[data-tailor-inspector]").evaluate((h) => h.shadowRoot.activeElement?.textContent), "Close", "focus starts on Close");
  await force(page, "hero", "cart-reminder\u0000reminder");
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Your cart is waiting"));
  // An update (a tracked event) keeps an opened section open and the focused control focused.
  await page.locator("[data-tailor-inspector]").evaluate((h) => {
    h.shadowRoot.querySelector('details[data-slot="notice"]').open = true;
    h.shadowRoot.querySelector('[data-key="force:shipping"]').focus();
  });
  await page.evaluate(() => window.tailor.track("view_item", { category: "shoes" }));
  await page.waitForFunction(() => document.querySelector("[data-tailor-inspector]").shadowRoot.textContent.includes("view_item not kept"));
  const kept = await page.locator("[data-tailor-inspector]").evaluate((h) => [h.shadowRoot.querySelector('details[data-slot="notice"]').open, h.shadowRoot.activeElement?.getAttribute("data-key")]);
  assert.deepEqual(kept, [true, "force:shipping"]);
  // Escape closes; the forced variant goes with the panel.
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("[data-tailor-inspector]").count(), 0);
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Spring sale"));
  assert.equal(await page.evaluate(() => window.tailor.decide("hero").forced), undefined);
  // And it opens again.
  await page.evaluate(() => window.tailor.inspect());
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  await context.close();
});

test("when the engine cannot load, the panel says why", async () => {
  const observed = await auditedPage(env.browser, { viewport: { width: 1200, height: 900 } });
  const { page, context } = observed;
  await page.route("**/tailor_bg.wasm", (r) => r.abort());
  await page.goto(`${env.base}?tailor-debug`);
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  await page.locator("[data-tailor-inspector]").waitFor({ state: "attached" });
  const text = await panelText(page);
  assert.match(text, /failed: START_FAILED: Tailor: /, text);
  assert.match(text, /Withdrawal still works/);
  await shot(page, "5-failed");
  await context.close();
});
