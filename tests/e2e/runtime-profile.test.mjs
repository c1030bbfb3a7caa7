// Browser runtime, point 2: the profile on the device. Its size after a year of heavy
// browsing, batched writes, unreadable or foreign data, full and blocked storage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup } from "./browser.mjs";
import { open, ready, grant, storedProfile, waitForProfile, auditMark, sdkCalls, tailorMessages, slotText, PROFILE_KEY } from "./runtime.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

const SHOP = "test/runtime/shop.html";
const DAY_MS = 86_400_000;

// The year's daily mix (200 events): 60 page views, 70 item views, 40 adds to cart
// with a price computed in JavaScript (17 significant digits when printed), 20 scroll
// depths and 10 engaged times.
function browseOneDay(day) {
  const cats = ["shoes", "hats", "bags", "coats", "socks", "belts"];
  for (let i = 0; i < 200; i++) {
    const k = i % 20;
    const category = cats[(day * 7 + i) % cats.length];
    if (k < 6) window.tailor.track("page_view", { path: `/p/${(day + i) % 40}` });
    else if (k < 13) window.tailor.track("view_item", { category, sku: `sku-${day}-${i}` });
    else if (k < 17) window.tailor.track("add_to_cart", { category, price: ((day * 200 + i) % 97) * 1.1 + 0.1 * 3 });
    else if (k < 19) window.tailor.track("scroll_depth", { percent: 25 * (1 + (i % 4)) });
    else window.tailor.track("engaged_time", { seconds: 10 + (i % 50) });
  }
}

test("a year of heavy browsing (200 events a day) stays under 64 KB, the oldest days rolled up, not lost", async () => {
  const start = Date.parse("2026-01-01T08:00:00Z");
  const { page, context, pageErrors } = await open(env, "test/runtime/year.html", { clock: { time: start } });
  await grant(page);
  const t0 = Date.now();
  for (let day = 0; day < 365; day++) {
    await page.evaluate(browseOneDay, day);
    await page.clock.fastForward(DAY_MS); // fires the batched write once
  }
  const elapsed = Date.now() - t0;
  const text = await page.evaluate((k) => localStorage.getItem(k), PROFILE_KEY);
  const profile = await storedProfile(page);
  console.log(`# a year: ${365 * 200} track() calls in ${elapsed} ms; stored profile ${text.length} characters, ${profile.events.length} raw events, ${profile.rollups.length} rollups (spans ${[...new Set(profile.rollups.map((r) => r.span))].join("/")} days)`);
  assert.ok(text.length < 65_536, `${text.length} characters`);
  // The profile's own budget (60 KiB, measured as the browser writes its numbers).
  assert.ok(text.length <= 60 * 1024, `${text.length} characters: over the 60 KiB budget`);

  // Nothing was lost: every count of the year is still there, the oldest in rollups
  // that start on (or in the 4-week block of) the first day.
  const views = 365 * 70;
  assert.equal(profile.count("view_item"), views);
  assert.equal(profile.count("add_to_cart"), 365 * 40);
  assert.equal(profile.count("page_view"), 365 * 60 + 1); // and the page view at the grant
  assert.equal(profile.pageviews, 365 * 60 + 1);
  const firstDay = Math.floor(start / DAY_MS);
  assert.ok(profile.rollups[0].day <= firstDay && profile.rollups[0].day + profile.rollups[0].span > firstDay, JSON.stringify(profile.rollups[0]));
  assert.ok(profile.rollups.some((r) => r.span === 28) && profile.rollups.some((r) => r.span === 1));

  // A behavioural audience counting the whole year still matches, measured in the
  // browser from what is stored.
  const why = await page.evaluate(() => window.tailor.explain("loyal"));
  assert.equal(why.candidates[0].audience.conditions[0].seen.count, views);
  assert.equal(await page.evaluate(() => window.tailor.decide("loyal").variant), "loyal");
  assert.equal(await slotText(page, "loyal"), "A year of shoes");
  // And it survives a reload.
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => window.tailor.decide("loyal").variant), "loyal");
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("1,000 track() calls: the profile is written at most once every 250 ms", async () => {
  const { page, context } = await open(env, SHOP);
  await grant(page);
  await waitForProfile(page, (p) => p.events.length === 1);
  const mark = await auditMark(page);
  // Spread over about two seconds, as a busy page would.
  const { duration } = await page.evaluate(async () => {
    const t = performance.now();
    for (let i = 0; i < 1000; i++) {
      window.tailor.track("view_item", { category: i % 2 ? "shoes" : "hats" });
      if (i % 50 === 49) await new Promise((ok) => setTimeout(ok, 100));
    }
    return { duration: performance.now() - t };
  });
  await page.waitForTimeout(400); // the trailing write
  const writes = (await sdkCalls(page, "Storage.setItem", mark)).filter((k) => k === PROFILE_KEY).length;
  const limit = Math.ceil(duration / 250) + 1;
  // The same 1,000 calls in one task: one write, and the time of a call.
  const mark2 = await auditMark(page);
  const perCall = await page.evaluate(() => {
    const t = performance.now();
    for (let i = 0; i < 1000; i++) window.tailor.track("view_item", { category: "shoes", price: i });
    return (performance.now() - t) / 1000;
  });
  await page.waitForTimeout(400);
  const burstWrites = (await sdkCalls(page, "Storage.setItem", mark2)).filter((k) => k === PROFILE_KEY).length;
  console.log(`# 1,000 track() calls over ${Math.round(duration)} ms: ${writes} profile writes (limit ${limit}); 1,000 in one task: ${burstWrites} write, ${(perCall * 1000).toFixed(1)} µs per track()`);
  assert.ok(writes >= 1 && writes <= limit, `${writes} writes in ${duration} ms`);
  assert.equal(burstWrites, 1);
  const profile = await storedProfile(page);
  assert.equal(profile.count("view_item"), 2000, "every call counted, the oldest in rollups");
  await context.close();
});

const FOREIGN = [
  ["garbage", "%%% not a profile {"],
  ["a foreign app's JSON", JSON.stringify({ user: { id: 42, name: "someone" }, theme: "dark", cart: [1, 2, 3] })],
  ["a truncated profile", null],
  ["an edited profile (checksum mismatch)", null],
];

test("corrupted or foreign data in the profile key: one warning, a new profile, and the SDK carries on", async () => {
  const { page, context } = await open(env, SHOP);
  await grant(page);
  const real = (await waitForProfile(page, (p) => p.events.length === 1)).text;
  FOREIGN[2][1] = real.slice(0, -5);
  FOREIGN[3][1] = real.replace('"vi":1', '"vi":9');
  for (const [what, value] of FOREIGN) {
    // Planted while no Tailor page is open (an open one writes its profile on pagehide).
    await page.goto(env.base + "test/runtime/thanks.html");
    await page.evaluate(([k, v]) => localStorage.setItem(k, v), [PROFILE_KEY, value]);
    const messages = [];
    const onConsole = (m) => messages.push({ type: m.type(), text: m.text() });
    page.on("console", onConsole);
    await page.goto(env.base + SHOP);
    await ready(page);
    // Carries on: records, stores a fresh profile, decides with it.
    assert.equal(await page.evaluate(() => window.tailor.track("view_item", { category: "shoes" })), true, what);
    const fresh = await waitForProfile(page, (p) => p.count("view_item") === 1);
    assert.equal(fresh.visits, 1, what);
    assert.equal(fresh.pageviews, 1, what);
    page.off("console", onConsole);
    const warnings = tailorMessages(messages, "warning");
    assert.equal(warnings.length, 1, `${what}: ${JSON.stringify(messages)}`);
    assert.match(warnings[0], /^Tailor: the stored profile could not be read \(.+\); starting a new one$/);
    assert.deepEqual(tailorMessages(messages, "error"), [], what);
  }
  await context.close();
});

test("storage full (QuotaExceededError): the profile falls back to memory, inventory() says so, decisions still use it", async () => {
  const { page, context, pageErrors, consoleMessages } = await open(env, SHOP);
  await grant(page);
  await waitForProfile(page, (p) => p.events.length === 1);
  // Another script of the site fills the origin's quota.
  const filled = await page.evaluate(() => {
    let n = 0;
    for (let size = 1 << 20; size >= 16; size >>= 1) {
      const chunk = "x".repeat(size);
      for (;;) {
        try {
          localStorage.setItem(`filler:${n++}`, chunk);
        } catch (e) {
          if (e.name !== "QuotaExceededError") throw e;
          break;
        }
      }
    }
    return n;
  });
  assert.ok(filled > 0);
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.tailor.track("view_item", { category: "shoes" });
  });
  await page.waitForFunction(() => window.tailor.inventory().storage === "memory");
  const inventory = await page.evaluate(() => window.tailor.inventory());
  assert.match(inventory.fallbackReason, /QuotaExceededError/);
  assert.deepEqual(inventory.keys.find((k) => k.key === PROFILE_KEY)?.store, "memory");
  assert.equal(inventory.profile.events, 4);
  // The in-memory profile keeps deciding: three shoe views make a shoe fan.
  await page.waitForFunction(() => window.tailor.decide("hero").variant === "shoes");
  assert.equal(await slotText(page, "hero"), "Shoes for you");
  assert.equal(tailorMessages(consoleMessages, "warning").length, 1);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

function storageThrowsOnWrite() {
  // Old Safari private browsing: localStorage is there, every write throws.
  Storage.prototype.setItem = function () {
    throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
  };
}

function storageDisabled() {
  // Blocked cookies / site data: touching window.localStorage throws.
  Object.defineProperty(window, "localStorage", {
    get() {
      throw new DOMException("Access is denied for this document.", "SecurityError");
    },
  });
}

for (const [name, init, reason] of [
  ["storage that throws on every write", storageThrowsOnWrite, /QuotaExceededError/],
  ["storage disabled (window.localStorage throws)", storageDisabled, /SecurityError/],
]) {
  test(`${name}: Tailor works in memory and inventory() reports it`, async () => {
    const { page, context, pageErrors, consoleMessages } = await open(env, SHOP, { init });
    await grant(page);
    assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "granted");
    await page.evaluate(() => {
      for (let i = 0; i < 3; i++) window.tailor.track("view_item", { category: "shoes" });
    });
    await page.waitForFunction(() => window.tailor.decide("hero").variant === "shoes");
    assert.equal(await slotText(page, "welcome"), "Welcome back");
    const inventory = await page.evaluate(() => window.tailor.inventory());
    assert.equal(inventory.storage, "memory");
    assert.match(inventory.fallbackReason, reason);
    assert.ok(inventory.keys.length >= 2 && inventory.keys.every((k) => k.store === "memory"), JSON.stringify(inventory.keys));
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(tailorMessages(consoleMessages, "error"), []);
    await context.close();
  });
}
