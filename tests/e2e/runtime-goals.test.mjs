// Goals named in the rules, counted on the device under the measurement purpose only,
// attributed to the variants seen before them; never for automated browsers unless
// allowed, and kept apart from the profile.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup } from "./browser.mjs";
import { open } from "./runtime.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

const keys = (page) => page.evaluate(() => Object.keys(localStorage).sort());
const settle = (page) => page.waitForTimeout(400); // past the 250 ms write batching

test("under measurement alone, goals count for the variant seen and are stored apart from any profile", async () => {
  const { page, context } = await open(env, "test/runtime/goals-allow.html");
  await page.evaluate(() => window.tailor.consent.grant("measurement"));
  assert.equal(await page.evaluate(() => window.tailor.decide("hero").variant), "offer");
  assert.equal(await page.evaluate(() => window.tailor.track("purchase")), false, "no profile: nothing stored in one");
  // A declarative goal (data-tailor-track) counts too, without personalization.
  await page.click("#signup");
  await page.evaluate(() => window.tailor.track("not_a_goal"));
  assert.deepEqual((await page.evaluate(() => window.tailor.goals())).conversions, [
    { goal: "purchase", experience: "hero-test", variant: "offer", count: 1 },
    { goal: "signup", experience: "hero-test", variant: "offer", count: 1 },
  ]);
  await settle(page);
  assert.deepEqual(await keys(page), ["tailor:consent", "tailor:m:goals"]);
  // Revoking measurement deletes the goals at once.
  await page.evaluate(() => window.tailor.consent.revoke("measurement"));
  assert.deepEqual(await keys(page), ["tailor:consent"]);
  assert.equal(await page.evaluate(() => window.tailor.goals()), null);
  await context.close();
});

test("personalization alone never counts goals", async () => {
  const { page, context } = await open(env, "test/runtime/goals-allow.html");
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.evaluate(() => window.tailor.track("purchase"));
  await settle(page);
  assert.equal(await page.evaluate(() => window.tailor.goals()), null);
  assert.ok(!(await keys(page)).some((k) => k.startsWith("tailor:m:")), (await keys(page)).join());
  await context.close();
});

test("an automated browser is not counted toward goals by default", async () => {
  const { page, context } = await open(env, "test/runtime/goals.html");
  await page.evaluate(() => window.tailor.consent.grant("measurement"));
  await page.mouse.click(5, 5);
  await page.evaluate(() => window.tailor.track("purchase"));
  assert.deepEqual(await page.evaluate(() => window.tailor.goals()), { conversions: [], credit: [], touchpoints: [] }, "not a visit, not a conversion");
  await context.close();
});

test("goals survive a reload under measurement", async () => {
  const { page, context } = await open(env, "test/runtime/goals-allow.html");
  await page.evaluate(() => window.tailor.consent.grant("measurement"));
  await page.evaluate(() => window.tailor.track("purchase"));
  await settle(page);
  await page.reload();
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  await page.evaluate(() => window.tailor.track("purchase"));
  assert.equal((await page.evaluate(() => window.tailor.goals())).conversions[0].count, 2);
  await context.close();
});

test("a goal credits the visits before it, by channel, under every attribution model; revocation drops them", async () => {
  const { page, context } = await open(env, "test/runtime/goals-allow.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring");
  await page.evaluate(() => window.tailor.consent.grant("measurement"));
  // Back from a social post: a new visit (a single-page navigation here).
  await page.evaluate(() => history.pushState({}, "", "?utm_source=instagram&utm_medium=social"));
  // A direct page view in the middle of the visit is part of it.
  await page.evaluate(() => history.pushState({}, "", "?"));
  await page.evaluate(() => window.tailor.track("purchase"));
  const goals = await page.evaluate(() => window.tailor.goals());
  assert.deepEqual(
    goals.touchpoints.map((t) => [t.channel, t.source, t.medium, t.campaign, t.shown]),
    [
      ["email", "newsletter", "email", "spring", [["hero-test", "offer"]]],
      ["social", "instagram", "social", "", [["hero-test", "offer"]]],
    ],
  );
  const credit = (model) => Object.fromEntries(goals.credit.filter((c) => c.model === model && c.goal === "purchase").map((c) => [c.channel, c.credit]));
  assert.deepEqual(credit("first_touch"), { email: 1 });
  assert.deepEqual(credit("last_touch"), { social: 1 });
  assert.deepEqual(credit("last_non_direct"), { social: 1 });
  assert.deepEqual(credit("linear"), { email: 0.5, social: 0.5 });
  assert.deepEqual(credit("position_based"), { email: 0.5, social: 0.5 });
  assert.ok(credit("time_decay").social >= credit("time_decay").email);
  await settle(page);
  assert.match(await page.evaluate(() => localStorage.getItem("tailor:m:goals")), /"instagram"/);
  await page.evaluate(() => window.tailor.consent.revoke("measurement"));
  assert.equal(await page.evaluate(() => localStorage.getItem("tailor:m:goals")), null);
  await context.close();
});
