// Consent audit, CMP adapters (CONSENT.md items 6, 10, 20 for these channels): the real
// vanilla-cookieconsent v3 and Klaro! packages, clicked through their own UI, and
// Google Consent Mode v2 read from the host's dataLayer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEnv, openPage, newContext, ready, keys, pKeys, states, state, sdkWrites, sdkCalls, settle, purgedWithin, config, RECORD } from "./consent-kit.mjs";

let env;
before(async () => (env = await startEnv()));
after(() => env?.close());

const ledger = async (page) => JSON.parse(await page.evaluate(() => window.tailor.consent.export())).records;
const tailorWrites = async (page) => (await sdkWrites(page)).filter((w) => w.startsWith("Storage.setItem"));

// --- vanilla-cookieconsent v3 ---------------------------------------------------------

const CC = config({ signals: { cookieconsent: true } });

test("cookieconsent: 'Accept all' grants both purposes, 'Reject all' refuses both and stores only the record", async () => {
  const accept = await openPage(env, "cookieconsent.html", { consent: CC });
  assert.deepEqual(await states(accept.page), { personalization: "not_asked", measurement: "not_asked" }, "the banner alone grants nothing");
  await accept.page.click('#cc-main [data-role="all"]');
  const s = await state(accept.page);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["granted", "cookieconsent", "granted"]);
  assert.deepEqual(await keys(accept.page), [RECORD, "tailor:p:id"]);
  assert.deepEqual((await ledger(accept.page)).map((r) => r.method), ["cookieconsent"]);
  await accept.context.close();

  const reject = await openPage(env, "cookieconsent.html", { consent: CC });
  await reject.page.click('#cc-main [data-role="necessary"]');
  assert.deepEqual(await states(reject.page), { personalization: "denied", measurement: "denied" });
  await reject.page.click("#add");
  await settle(reject.page);
  assert.deepEqual(await keys(reject.page), [RECORD]);
  assert.deepEqual(await tailorWrites(reject.page), [`Storage.setItem ${RECORD}`]);
  await reject.context.close();
});

test("cookieconsent: per-category choices map to Tailor's purposes; withdrawing the category deletes personalization storage before acceptCategory returns", async () => {
  const context = await newContext(env);
  const { page } = await openPage(env, "cookieconsent.html", { consent: CC }, { context });
  await page.click('#cc-main [data-role="show"]');
  await page.locator('#cc-main .pm input[value="analytics"]').evaluate((el) => el.click());
  await page.click('#cc-main .pm [data-role="save"]');
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "granted" });
  assert.deepEqual(await pKeys(page), []);
  // Later, personalization is accepted in the preferences too.
  await page.evaluate(() => window.CookieConsent.showPreferences());
  await page.locator('#cc-main .pm input[value="personalization"]').evaluate((el) => el.click());
  await page.click('#cc-main .pm [data-role="save"]');
  assert.deepEqual(await states(page), { personalization: "granted", measurement: "granted" });
  await page.click("#add");
  await settle(page);
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);
  const id = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  // A returning visitor: cookieconsent re-announces the stored choice; the profile is kept.
  await page.reload();
  await ready(page);
  assert.equal((await states(page)).personalization, "granted");
  assert.equal(await page.evaluate(() => localStorage.getItem("tailor:p:id")), id);
  // Withdrawal through the CMP's API.
  const after = await page.evaluate(() => {
    window.CookieConsent.acceptCategory(["analytics"]);
    return { s: window.tailor.consent.state().personalization.state, keys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")), profile: window.tailor.inventory().profile };
  });
  assert.deepEqual(after, { s: "denied", keys: [], profile: null });
  await context.close();
});

test("cookieconsent: a custom category mapping (the `categories` configuration) is followed", async () => {
  const mapped = { ...CC, categories: { cookieconsent: { personalization: "analytics", measurement: null } } };
  const { page, context } = await openPage(env, "cookieconsent.html", { consent: mapped });
  await page.click('#cc-main [data-role="show"]');
  await page.locator('#cc-main .pm input[value="analytics"]').evaluate((el) => el.click());
  await page.click('#cc-main .pm [data-role="save"]');
  assert.deepEqual(await states(page), { personalization: "granted", measurement: "not_asked" });
  await context.close();
});

// --- Klaro! -------------------------------------------------------------------------

const KLARO = config({ signals: { klaro: true } });

test("Klaro: 'That's ok' grants both purposes, 'I decline' refuses both and stores only the record", async () => {
  const accept = await openPage(env, "klaro.html", { consent: KLARO });
  assert.deepEqual(await states(accept.page), { personalization: "not_asked", measurement: "not_asked" });
  await accept.page.click(".klaro .cookie-notice .cm-btn-success");
  const s = await state(accept.page);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["granted", "klaro", "granted"]);
  assert.deepEqual((await ledger(accept.page)).map((r) => r.method), ["klaro"]);
  await accept.context.close();

  const decline = await openPage(env, "klaro.html", { consent: KLARO });
  await decline.page.click(".klaro .cookie-notice .cn-decline");
  assert.deepEqual(await states(decline.page), { personalization: "denied", measurement: "denied" });
  await decline.page.click("#add");
  await settle(decline.page);
  assert.deepEqual(await keys(decline.page), [RECORD]);
  assert.deepEqual(await tailorWrites(decline.page), [`Storage.setItem ${RECORD}`]);
  await decline.context.close();
});

test("Klaro: toggles in its modal count only once saved: closing the modal without saving grants nothing", async () => {
  const context = await newContext(env);
  const { page } = await openPage(env, "klaro.html", { consent: KLARO }, { context });
  // First visit: open "Let me choose", switch personalization on, close with ×.
  await page.click(".klaro .cn-learn-more");
  await page.click('label[for="purpose-item-personalization"]');
  await page.click(".klaro .cm-modal button.hide");
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  // The visitor declines; on a later page they open the modal, toggle, and close it.
  await page.evaluate(() => window.klaro.show(undefined, true));
  await page.click(".klaro .cm-modal .cn-decline");
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "denied" });
  await page.reload();
  await ready(page);
  await page.evaluate(() => window.klaro.show(undefined, true));
  await page.click('label[for="purpose-item-personalization"]');
  assert.equal(await page.evaluate(() => window.klaro.getManager().getConsent("tailor-personalization")), true, "the toggle is on in Klaro");
  assert.equal((await states(page)).personalization, "denied", "an unsaved toggle is not a choice");
  await page.click(".klaro .cm-modal button.hide");
  assert.equal((await states(page)).personalization, "denied");
  assert.deepEqual(await pKeys(page), []);
  // Saved, it counts. (Klaro keeps the unsaved toggle in memory: it is still on.)
  await page.evaluate(() => window.klaro.show(undefined, true));
  assert.equal(await page.locator("#purpose-item-personalization").isChecked(), true);
  await page.click(".klaro .cm-modal .cm-btn-accept");
  assert.deepEqual(await states(page), { personalization: "granted", measurement: "denied" });
  await context.close();
});

test("Klaro: withdrawing the service deletes personalization storage and the profile before saveAndApplyConsents returns; another tab purges within 1 s", async () => {
  const context = await newContext(env);
  const { page } = await openPage(env, "klaro.html", { consent: KLARO }, { context });
  await page.click(".klaro .cookie-notice .cm-btn-success");
  await page.click("#add");
  await settle(page);
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);
  const other = await openPage(env, "klaro.html", { consent: KLARO }, { context });
  assert.equal((await states(other.page)).personalization, "granted");
  const after = await page.evaluate(() => {
    const manager = window.klaro.getManager();
    manager.updateConsent("tailor-personalization", false);
    manager.saveAndApplyConsents();
    return { s: window.tailor.consent.state(), keys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")), profile: window.tailor.inventory().profile };
  });
  assert.deepEqual([after.s.personalization.state, after.s.personalization.source, after.s.measurement.state, after.keys, after.profile], ["denied", "klaro", "granted", [], null]);
  await purgedWithin(other.page);
  await context.close();
});

// --- Google Consent Mode v2 -----------------------------------------------------------

const CM = config({ signals: { consent_mode: true } });
const DENIED = { ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied", personalization_storage: "denied" };

test("Consent Mode: gtag('consent', 'update', …) from the host's CMP grants and revokes per purpose; the SDK never pushes to dataLayer", async () => {
  const { page, context } = await openPage(env, "consent-mode.html", { consent: CM, cm: { default: DENIED } });
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  await page.evaluate(() => window.gtag("consent", "update", { personalization_storage: "granted", analytics_storage: "denied" }));
  let s = await state(page);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["granted", "consent_mode", "denied"]);
  await page.click("#add");
  await settle(page);
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);
  const after = await page.evaluate(() => {
    window.gtag("consent", "update", { personalization_storage: "denied" });
    return { s: window.tailor.consent.state().personalization.state, keys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")), profile: window.tailor.inventory().profile };
  });
  assert.deepEqual(after, { s: "denied", keys: [], profile: null });
  // dataLayer holds exactly what the host pushed, in order.
  const layer = await page.evaluate(() => ({ pushed: window.hostPushes, held: window.dataLayer.map((e) => JSON.stringify([...e])) }));
  assert.deepEqual(layer.held, layer.pushed);
  assert.equal(layer.held.length, 3);
  assert.deepEqual((await sdkCalls(page)).filter((c) => /gtag|dataLayer/.test(c.api)), []);
  await context.close();
});

test("Consent Mode: a 'default' is the site's setting, not the visitor's choice: granted by default grants nothing", async () => {
  const granted = Object.fromEntries(Object.keys(DENIED).map((k) => [k, "granted"]));
  const { page, context } = await openPage(env, "consent-mode.html", { consent: CM, cm: { default: granted } });
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  assert.deepEqual(await keys(page), []);
  await context.close();
});

test("Consent Mode: a returning visitor keeps their profile when the CMP's update follows the denied default", async () => {
  const context = await newContext(env);
  const opts = { consent: CM, cm: { default: DENIED, update: { personalization_storage: "granted" }, updateAfterMs: 300 } };
  const first = await openPage(env, "consent-mode.html", opts, { context });
  await first.page.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted");
  await first.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "FIRST-VISIT" }));
  await settle(first.page);
  const id = await first.page.evaluate(() => localStorage.getItem("tailor:p:id"));
  await first.page.close();
  const second = await openPage(env, "consent-mode.html", opts, { context });
  await second.page.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted");
  await settle(second.page);
  assert.equal(await second.page.evaluate(() => localStorage.getItem("tailor:p:id")), id, "same identifier");
  assert.match(await second.page.evaluate(() => localStorage.getItem("tailor:p:profile")), /FIRST-VISIT/);
  assert.equal((await second.page.evaluate(() => window.tailor.inventory().profile)).attributes.pageviews, 2);
  await context.close();
});
