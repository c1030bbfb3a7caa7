// The demo shop (`make demo`) as a first-time visitor uses it, in headless Chromium: the
// consent banner, product pages that track views and cart adds, and a hero that changes
// with behaviour once personalization is accepted, and goes back when it is refused.
// Screenshots go to target/e2e/demo-*.png; each is taken once the test has checked what
// the visitor sees at that moment.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage, storageSnapshot, ARTIFACTS } from "./browser.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

async function ready(page) {
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
}

const firstLine = async (page, selector) => (await page.locator(selector).innerText()).trim().split("\n")[0];
const hero = (page) => firstLine(page, '[data-tailor-slot="hero"]');

async function shot(page, name) {
  await page.screenshot({ path: new URL(`demo-${name}.png`, ARTIFACTS).pathname, fullPage: true });
}

async function visit(page, path) {
  await page.goto(`${env.base}${path}`);
  await ready(page);
}

// Until the banner is answered, the why panel shows "not asked"; it is the page's own
// text, so the test waits for it rather than for a fixed time.
const whySays = (page, text) => page.waitForFunction((t) => document.getElementById("why").textContent.includes(t), text);

test("a first visit shows the banner and the default hero, and stores nothing", async () => {
  const { page, context, consoleMessages, pageErrors } = await auditedPage(env.browser, { viewport: { width: 1000, height: 900 } });
  await visit(page, "");
  await page.locator("#consent-banner").waitFor({ state: "visible" });
  assert.equal(await hero(page), "Shoes for every season");
  await whySays(page, "personalization not asked");
  // Refusing is as visible as accepting: three buttons, one style.
  const styles = await page.locator("#consent-banner .actions button").evaluateAll((bs) => bs.map((b) => `${getComputedStyle(b).backgroundColor} ${getComputedStyle(b).color}`));
  assert.equal(styles.length, 3);
  assert.equal(new Set(styles).size, 1, styles.join(" | "));
  await shot(page, "1-first-visit");
  assert.deepEqual(await storageSnapshot(page), { cookies: 0, localStorage: 0, sessionStorage: 0, indexedDB: 0, caches: 0 });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleMessages.filter((m) => m.type === "error"), []);
  await context.close();
});

test("after accepting, three shoe pages bring the shoe fan's hero, a cart add the abandoned cart's; refusing puts the default back", async () => {
  const { page, context, pageErrors } = await auditedPage(env.browser, { viewport: { width: 1000, height: 900 } });
  await visit(page, "");
  await page.click("#consent-accept");
  await page.locator("#consent-banner").waitFor({ state: "hidden" });
  await whySays(page, "personalization granted");
  assert.equal(await hero(page), "Shoes for every season");

  for (const id of ["trail-runner", "city-sneaker", "hiking-boot"]) await visit(page, `product.html?id=${id}`);
  assert.equal(await firstLine(page, "#product-name"), "Ridge Hiking Boot");
  await shot(page, "2-product");
  await visit(page, "");
  assert.equal(await hero(page), "New trail shoes are in");
  await whySays(page, 'hero: "shoe-fan-hero" shows variant "trail"');
  await shot(page, "3-shoe-fan");

  await visit(page, "product.html?id=rain-jacket");
  await page.click("#add-to-cart");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("noted, on this device only"));
  await visit(page, "");
  assert.equal(await hero(page), "Your cart is waiting");
  await whySays(page, 'hero: "cart-reminder" shows variant "reminder"');
  await shot(page, "4-abandoned-cart");
  const stored = await page.evaluate(() => Object.keys(localStorage).sort());
  assert.ok(stored.includes("tailor:p:profile"), stored.join());

  // Refusing through the banner: the default hero at once, and the profile gone.
  await page.click("#consent-open");
  await page.click("#consent-refuse");
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="hero"]').innerText.startsWith("Shoes for every season"));
  await whySays(page, "personalization denied");
  await shot(page, "5-refused");
  const left = await page.evaluate(() => Object.keys(localStorage).sort());
  assert.ok(!left.some((k) => k.startsWith("tailor:p:")), left.join());
  await visit(page, "");
  assert.equal(await hero(page), "Shoes for every season");
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("after refusing, browsing changes nothing and each event says it was not kept", async () => {
  const { page, context } = await auditedPage(env.browser, { viewport: { width: 1000, height: 900 } });
  await visit(page, "");
  await page.click("#consent-refuse");
  await whySays(page, "personalization denied");
  for (const id of ["trail-runner", "city-sneaker", "hiking-boot"]) await visit(page, `product.html?id=${id}`);
  await page.click("#add-to-cart");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("was not kept"));
  await visit(page, "?utm_campaign=spring");
  // Context still counts: the campaign's hero needs no consent.
  assert.equal(await hero(page), "Spring sale: 20% off sneakers");
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), ["tailor:consent"]);
  await shot(page, "6-refused-campaign");
  await context.close();
});
