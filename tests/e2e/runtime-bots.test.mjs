// Browser runtime, point 4: automated browsers and visitors who never interact are not
// enrolled in experiments and not counted, unless the configuration allows it; and
// assignments stick across reloads under consent.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setup } from "./browser.mjs";
import { open, ready, grant, storedProfile, waitForProfile, slotText } from "./runtime.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

const PAGE = "test/runtime/experiment.html";
const ALLOW = "test/runtime/experiment-allow.html";
const TEXT = { a: "Variant A", b: "Variant B" };

// A person's browser: Playwright's Chromium reports navigator.webdriver === true.
function notAutomated() {
  Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false, configurable: true });
}

test("an automated browser (navigator.webdriver) is not enrolled and not counted by default", async () => {
  const { page, context } = await open(env, PAGE);
  assert.equal(await page.evaluate(() => navigator.webdriver), true);
  await grant(page);
  await page.mouse.click(10, 300);
  await page.keyboard.press("Tab");
  await waitForProfile(page, (p) => p.pageviews === 1);
  await page.waitForTimeout(400);
  const d = await page.evaluate(() => window.tailor.decide("hero"));
  assert.equal(d.variant, null);
  assert.match(d.summary, /not enrolled in experiments \(automated browser/);
  assert.equal(await slotText(page, "hero"), "Default hero");
  const profile = await storedProfile(page);
  assert.deepEqual([profile.impressions, profile.assignments], [[], []]);
  await context.close();
});

test("data-allow-automation on the script tag enrols it and counts its impressions; the demo page sets it", async () => {
  const { page, context } = await open(env, ALLOW);
  await grant(page);
  const variant = await page.evaluate(() => window.tailor.decide("hero").variant);
  assert.ok(variant === "a" || variant === "b", variant);
  assert.equal(await slotText(page, "hero"), TEXT[variant]);
  // Allowed automation counts without an interaction.
  const profile = await waitForProfile(page, (p) => p.impressions.length === 1);
  assert.deepEqual(profile.assignments, [["ab", variant]]);
  await context.close();
  const demo = readFileSync(new URL("../../www/index.html", import.meta.url), "utf8");
  assert.match(demo, /<script src="\/sdk\/tailor\.min\.js"[^>]* data-allow-automation[ >]/);
});

test("a person is enrolled at once but counted only after an interaction", async () => {
  const { page, context } = await open(env, PAGE, { init: notAutomated });
  assert.equal(await page.evaluate(() => navigator.webdriver), false);
  await grant(page);
  const variant = await page.evaluate(() => window.tailor.decide("hero").variant);
  assert.ok(variant === "a" || variant === "b", variant);
  assert.equal(await slotText(page, "hero"), TEXT[variant]);
  await waitForProfile(page, (p) => p.pageviews === 1);
  await page.waitForTimeout(600); // two write periods: still nothing counted
  assert.deepEqual((await storedProfile(page)).impressions, []);
  await page.mouse.click(10, 300); // pointerdown
  const profile = await waitForProfile(page, (p) => p.impressions.length === 1);
  assert.equal(profile.impressions[0][0], "ab");
  assert.deepEqual(profile.assignments, [["ab", variant]]);
  assert.equal((await page.evaluate(() => window.tailor.explain("hero"))).candidates[0].caps.cap.impressions, 0, "this page view's own impression does not count against its cap");
  await context.close();
});

test("under consent the assignment sticks across reloads (the identifier first, then the stored assignment)", async () => {
  const { page, context } = await open(env, PAGE, { init: notAutomated });
  await grant(page);
  const variant = await page.evaluate(() => window.tailor.decide("hero").variant);
  const id = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  assert.match(id, /^[0-9a-f]{32}$/);
  // Before any interaction nothing is assigned yet, but the identifier keeps the bucket.
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => window.tailor.decide("hero").variant), variant);
  await page.keyboard.press("Tab"); // keydown: counted, assigned
  await waitForProfile(page, (p) => p.assignments.length === 1);
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await ready(page);
    const d = await page.evaluate(() => window.tailor.decide("hero"));
    assert.deepEqual([d.variant, d.sticky], [variant, true], `reload ${i}`);
    assert.equal(await slotText(page, "hero"), TEXT[variant]);
  }
  assert.equal(await page.evaluate(() => localStorage.getItem("tailor:p:id")), id);
  await context.close();
});
