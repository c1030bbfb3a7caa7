// Consent audit, part B (CONSENT.md items 8–13): reject-all, purposes gated one by one,
// revocation through the API and the footer hook (the signals' revocations are in
// consent-signals.test.mjs and consent-adapters.test.mjs), no respawning, and every
// tab and same-origin frame following a change.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startEnv, openPage, newContext, ready, keys, pKeys, states, state, sdkWrites, auditMark, originStorage,
  storedProfile, settle, P, M, RECORD,
} from "./consent-kit.mjs";

let env;
before(async () => (env = await startEnv()));
after(() => env?.close());

const hero = (target) => target.locator('[data-tailor-slot="hero"]').innerHTML();

test("8. reject-all holds end to end: only the consent record is stored, nothing is sent, the page renders like the no-profile default", async () => {
  // Reference: a first visit, no choice, no profile.
  const reference = await openPage(env, "basic.html", {});
  const defaultHero = await hero(reference.page);
  const defaultDecision = await reference.page.evaluate(() => window.tailor.decide("hero"));
  assert.equal(defaultHero, "<h1>Hello</h1>");

  // A visitor who had accepted (so there is a profile to delete), then rejects all.
  const { page, context, log } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "A1" }));
  await settle(page);
  assert.equal(await hero(page), "Welcome back", "control: with a profile the page renders differently");
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);

  const after = await page.evaluate(() => {
    window.tailor.consent.decide({ personalization: false, measurement: false }, "reject_all");
    return Object.keys(localStorage).sort();
  });
  assert.deepEqual(after, [RECORD], "only the consent record, right after the call");
  const requestsBefore = log.requests.length;
  const mark = await auditMark(page);
  await page.mouse.wheel(0, 2000);
  await page.click("#add");
  assert.deepEqual(await page.evaluate(() => [window.tailor.track("add_to_cart", { sku: "A2" }), window.tailor.track("view_item", {})]), [false, false]);
  await settle(page, 600);
  assert.deepEqual(log.requests.slice(requestsBefore).map((r) => r.url), [], "nothing sent after the refusal");
  assert.deepEqual(await sdkWrites(page, mark), []);
  assert.equal(await hero(page), defaultHero);
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "denied" });
  assert.equal((await state(page)).personalization.source, "reject_all");

  // Next page view: still only the record, and the default rendering.
  await page.reload();
  await ready(page);
  assert.equal(await hero(page), defaultHero);
  const withoutClock = (d) => ({ ...d, explanation: { ...d.explanation, now: null } });
  assert.deepEqual(withoutClock(await page.evaluate(() => window.tailor.decide("hero"))), withoutClock(defaultDecision));
  assert.deepEqual(await originStorage(page), { cookies: [], localStorage: [RECORD], sessionStorage: 0, indexedDB: 0, caches: 0, opfs: 0, serviceWorkers: 0, windowName: "" });
  await reference.context.close();
  await context.close();
});

test("9. each purpose is gated separately: measurement alone never builds a profile; personalization alone never runs measurement", async () => {
  const m = await openPage(env, "basic.html", {});
  await m.page.evaluate(() => window.tailor.consent.grant("measurement"));
  assert.deepEqual(await states(m.page), { personalization: "not_asked", measurement: "granted" });
  assert.equal(await m.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "M" })), false);
  await m.page.click("#add");
  await m.page.mouse.wheel(0, 3000);
  await settle(m.page);
  assert.deepEqual(await keys(m.page), [RECORD]);
  assert.equal(await m.page.evaluate(() => window.tailor.inventory().profile), null, "no profile in memory either");
  assert.equal(await hero(m.page), "<h1>Hello</h1>");
  assert.deepEqual((await sdkWrites(m.page)).filter((w) => w.includes(P)), []);
  await m.context.close();

  const p = await openPage(env, "basic.html", {});
  await p.page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.deepEqual(await states(p.page), { personalization: "granted", measurement: "not_asked" });
  await p.page.click("#add");
  await settle(p.page);
  const written = await keys(p.page);
  assert.ok(written.includes("tailor:p:profile"), "control: personalization builds the profile");
  assert.deepEqual(written.filter((k) => k.startsWith(M)), [], "no measurement storage");
  assert.deepEqual((await sdkWrites(p.page)).filter((w) => w.includes(M)), []);
  await p.context.close();
});

test("10. revocation through the API deletes all personalization storage and the in-memory profile before the call returns, stops capture, and other tabs purge within 1 s", async () => {
  const context = await newContext(env);
  const { page } = await openPage(env, "basic.html", {}, { context });
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.click("#add");
  await page.evaluate(() => window.tailor.track("view_item", { category: "shoes" }));
  await settle(page);
  const other = await openPage(env, "basic.html", {}, { context });
  assert.equal((await other.page.evaluate(() => window.tailor.inventory().profile)).attributes.pageviews, 2, "the other tab uses the same profile");

  const atReturn = await page.evaluate(() => {
    const returned = window.tailor.consent.revoke("personalization");
    return {
      state: returned.personalization.state,
      keys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:")).sort(),
      profile: window.tailor.inventory().profile,
      track: window.tailor.track("add_to_cart", { sku: "AFTER" }),
      hero: document.querySelector('[data-tailor-slot="hero"]').innerHTML,
    };
  });
  assert.deepEqual(atReturn, { state: "denied", keys: [RECORD], profile: null, track: false, hero: "<h1>Hello</h1>" });

  // Listeners and timers stopped: interactions after the revocation write nothing.
  const mark = await auditMark(page);
  await page.click("#add");
  await page.mouse.wheel(0, 3000);
  await page.evaluate(() => history.pushState({}, "", "/test/consent/basic.html?spa=2" + location.hash));
  await settle(page, 500);
  assert.deepEqual(await sdkWrites(page, mark), []);

  // The other tab: state and memory follow within 1 s.
  await other.page.waitForFunction(
    () => window.tailor.consent.state().personalization.state === "denied" && window.tailor.inventory().profile === null,
    null, { timeout: 1000, polling: 20 },
  );
  assert.equal(await other.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "OTHER" })), false);
  await settle(other.page);
  assert.deepEqual(await pKeys(page), []);
  await context.close();
});

test("11. no respawning: clearing storage never brings an identifier back; re-consent issues a new, unlinkable identifier", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.click("#add");
  await settle(page);
  const id1 = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  assert.match(id1, /^[0-9a-f]{32}$/);
  const everywhere = await originStorage(page);
  assert.deepEqual(everywhere, { cookies: [], localStorage: [RECORD, "tailor:p:id", "tailor:p:profile"], sessionStorage: 0, indexedDB: 0, caches: 0, opfs: 0, serviceWorkers: 0, windowName: "" },
    "localStorage is the only store: there is no second copy to respawn from");

  // The visitor clears site data while the page stays open, and keeps browsing.
  await page.evaluate(() => localStorage.clear());
  await page.click("#add");
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "AFTER-CLEAR" }));
  await page.mouse.wheel(0, 3000);
  await settle(page, 600);
  assert.deepEqual(await keys(page), [], "nothing written back from memory");
  assert.equal(await page.evaluate(() => window.tailor.consent.state().personalization.state), "not_asked");
  await page.reload();
  await ready(page);
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  assert.deepEqual(await keys(page), []);
  const html = await page.content();
  assert.equal(html.includes(id1), false, "the identifier is nowhere in the page");

  // Re-consent after a revocation: a fresh identifier, linked to nothing.
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const id2 = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  assert.equal(await page.evaluate(() => localStorage.getItem("tailor:p:id")), null);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const id3 = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  assert.equal(new Set([id1, id2, id3]).size, 3, `identifiers ${id1} ${id2} ${id3}`);
  for (const id of [id2, id3]) assert.match(id, /^[0-9a-f]{32}$/);
  const record = await page.evaluate(() => localStorage.getItem("tailor:consent"));
  const ledger = await page.evaluate(() => window.tailor.consent.export());
  for (const id of [id1, id2, id3]) {
    assert.equal(record.includes(id), false, "the consent record holds no identifier");
    assert.equal(ledger.includes(id), false, "the ledger holds no identifier");
  }
  const profile = await page.evaluate(() => window.tailor.inventory().profile);
  assert.deepEqual([profile.attributes.pageviews, profile.eventNames], [1, ["page_view"]], "the new profile starts empty");
  await context.close();
});

test("11. a new grant never adopts personalization data left without a consent record", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "OLD-LIFE" }));
  await settle(page);
  const old = await page.evaluate(() => ({ id: localStorage.getItem("tailor:p:id"), profile: localStorage.getItem("tailor:p:profile") }));
  assert.match(old.profile, /OLD-LIFE/);
  // Only the consent record goes (a partial clean-up, a script removing one key):
  // the old identifier and profile stay behind without any consent saying whose they are.
  await page.evaluate(() => localStorage.removeItem("tailor:consent"));
  await page.reload();
  await ready(page);
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await settle(page);
  const now = await page.evaluate(() => ({ id: localStorage.getItem("tailor:p:id"), profile: localStorage.getItem("tailor:p:profile") }));
  assert.notEqual(now.id, old.id);
  assert.equal(now.profile.includes("OLD-LIFE"), false, "the orphaned profile was not picked up");
  assert.equal((await page.evaluate(() => window.tailor.inventory().profile)).attributes.pageviews, 1);
  await context.close();
});

test("12. withdrawal is always reachable: the API and a data-tailor-consent=\"revoke\" footer link", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  const url = page.url();
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  await page.click("#add");
  await settle(page);
  await page.click("#withdraw-p"); // data-tailor-purposes="personalization"
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "granted" });
  assert.deepEqual(await pKeys(page), []);
  await page.click("#withdraw"); // both purposes
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "denied" });
  assert.equal((await state(page)).measurement.source, "revocation");
  assert.equal(page.url(), url, "the link's own navigation was prevented");
  // The API, for a privacy centre or a consent icon.
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.equal((await page.evaluate(() => window.tailor.consent.revoke(["personalization"]))).personalization.state, "denied");
  const methods = JSON.parse(await page.evaluate(() => window.tailor.consent.export())).records.map((r) => r.method);
  assert.deepEqual(methods, ["api", "revocation", "revocation", "api", "revocation"]);
  await context.close();
});

test("13. two tabs: after a revocation in one, the other (still calling tailor.track) stores nothing more; a grant spreads too", async () => {
  const context = await newContext(env);
  const one = await openPage(env, "basic.html", {}, { context });
  const two = await openPage(env, "basic.html", {}, { context });
  // A grant in tab one reaches tab two.
  await one.page.evaluate(() => window.tailor.consent.grant("personalization"));
  await two.page.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted", null, { timeout: 1000, polling: 20 });
  // Tab two keeps tracking, every 10 ms.
  await two.page.evaluate(() => {
    window.results = [];
    window.ticker = setInterval(() => window.results.push(window.tailor.track("add_to_cart", { sku: "TAB-TWO" })), 10);
  });
  await two.page.waitForFunction(() => localStorage.getItem("tailor:p:profile")?.includes("TAB-TWO"));

  await one.page.evaluate(() => window.tailor.consent.revoke("personalization"));
  const t0 = Date.now();
  await two.page.waitForFunction(() => window.tailor.consent.state().personalization.state === "denied", null, { timeout: 1000, polling: 10 });
  assert.ok(Date.now() - t0 < 1000);
  // For 1.5 s more, sample storage every 25 ms: no personalization key ever comes back.
  const seen = await one.page.evaluate(async () => {
    const found = new Set();
    for (let i = 0; i < 60; i++) {
      for (const k of Object.keys(localStorage)) if (k.startsWith("tailor:p:")) found.add(k);
      await new Promise((r) => setTimeout(r, 25));
    }
    return [...found];
  });
  assert.deepEqual(seen, []);
  const results = await two.page.evaluate(() => { clearInterval(window.ticker); return window.results; });
  assert.equal(results.at(-1), false, "tab two's track() no longer keeps anything");
  assert.ok(results.includes(true), "control: tab two was tracking before");
  assert.deepEqual(await sdkWrites(two.page, 0).then((w) => w.filter((x) => x === "Storage.setItem tailor:p:profile").length > 0), true);
  await context.close();
});

test("13. a same-origin frame follows a revocation made in the top page before its next event", async () => {
  const { page, context } = await openPage(env, "frames.html", {});
  const frame = page.frame({ url: /basic\.html/ });
  await ready(frame);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted", null, { timeout: 1000, polling: 20 });
  assert.equal(await frame.evaluate(() => window.tailor.track("add_to_cart", { sku: "FRAME" })), true);
  await frame.evaluate(() => {
    window.results = [];
    window.ticker = setInterval(() => window.results.push(window.tailor.track("add_to_cart", { sku: "FRAME" })), 10);
  });
  await page.waitForFunction(() => localStorage.getItem("tailor:p:profile")?.includes("FRAME"));
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "denied" && window.tailor.inventory().profile === null, null, { timeout: 1000, polling: 10 });
  await settle(page, 800);
  const results = await frame.evaluate(() => { clearInterval(window.ticker); return window.results; });
  assert.equal(results.at(-1), false);
  assert.deepEqual(await pKeys(page), []);
  await context.close();
});
