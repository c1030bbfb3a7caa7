// Consent audit, part C (CONSENT.md items 14–20, and item 10 for GPC, TCF and GPP):
// Global Privacy Control, IAB TCF v2.2 driven by the IAB's own CMP API with real TC
// strings, IAB GPP, and the SDK never speaking for the visitor.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startEnv, openPage, newContext, ready, keys, pKeys, states, state, sdkWrites, sdkReads, sdkCalls, settle, purgedWithin, config,
  tcString, TAILOR_VENDOR, RECORD,
} from "./consent-kit.mjs";

let env;
before(async () => (env = await startEnv()));
after(() => env?.close());

const ledger = async (page) => JSON.parse(await page.evaluate(() => window.tailor.consent.export())).records;

// --- GPC (14–16) ------------------------------------------------------------------

test("14. GPC is honoured on first load, before anything is stored, and the SDK exposes gpc_honored", async () => {
  const { page, context, log } = await openPage(env, "basic.html", {}, { gpc: true });
  const doc = log.requests.find((r) => r.url.includes("basic.html"));
  assert.equal((await doc.request.allHeaders())["sec-gpc"], "1", "the browser sent Sec-GPC: 1");
  assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true);
  const s = await state(page);
  assert.equal(s.gpc_honored, true);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["denied", "gpc", "not_asked"]);
  // The only thing ever stored is the record, and it already holds the opt-out.
  assert.deepEqual(await sdkWrites(page), [`Storage.setItem ${RECORD}`]);
  assert.match(await page.evaluate(() => localStorage.getItem("tailor:consent")), /"gpc":\{"at":\d+,"exp":\d+\}/);
  assert.equal(await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "x" })), false);
  await page.click("#add");
  await settle(page);
  assert.deepEqual(await keys(page), [RECORD]);
  const records = await ledger(page);
  assert.deepEqual(records.map((r) => [r.method, r.signals.gpc, r.purposes.personalization.state]), [["gpc", true, "denied"]]);
  // Control: without GPC the same page starts with nothing refused and stores nothing.
  const plain = await openPage(env, "basic.html", {});
  assert.deepEqual([(await state(plain.page)).gpc_honored, await keys(plain.page)], [false, []]);
  await plain.context.close();
  await context.close();
});

test("15. GPC is sticky: a later visit without the signal (or with it false) does not opt back in", async () => {
  const context = await newContext(env);
  const first = await openPage(env, "basic.html", {}, { context, gpc: true });
  assert.equal((await state(first.page)).gpc_honored, true);
  await first.page.close();
  // Same browser, new page, no GPC init script, no header.
  const later = await openPage(env, "basic.html", {}, { context });
  assert.equal(await later.page.evaluate(() => "globalPrivacyControl" in navigator && navigator.globalPrivacyControl === true), false);
  const s = await state(later.page);
  assert.deepEqual([s.gpc_honored, s.personalization.state, s.personalization.source], [true, "denied", "gpc"]);
  await later.page.close();
  // GPC explicitly false.
  const off = await context.newPage();
  await off.addInitScript(() => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => false, configurable: true }));
  await off.goto((await import("./consent-kit.mjs")).pageUrl(env, "basic.html", {}));
  await ready(off);
  assert.deepEqual([(await state(off)).gpc_honored, (await states(off)).personalization], [true, "denied"]);
  assert.deepEqual(await pKeys(off), []);
  await context.close();
});

test("16. GPC beats a stored allow (revocation by GPC at load); an explicit re-consent is possible and logged as an override", async () => {
  const context = await newContext(env);
  const first = await openPage(env, "basic.html", {}, { context });
  await first.page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  await first.page.click("#add");
  await settle(first.page);
  assert.deepEqual(await pKeys(first.page), ["tailor:p:id", "tailor:p:profile"]);
  const oldId = await first.page.evaluate(() => localStorage.getItem("tailor:p:id"));

  // A new tab sends GPC (the first tab, without it, stays open).
  const gpcPage = await openPage(env, "basic.html", {}, { context, gpc: true });
  const { page } = gpcPage;
  assert.deepEqual(await pKeys(page), [], "personalization storage deleted at load");
  await purgedWithin(first.page);
  assert.equal((await state(first.page)).gpc_honored, true, "the open tab follows the remembered opt-out");
  await first.page.close();
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "granted" });
  assert.equal((await state(page)).gpc_honored, true);
  // The old profile was not even read: the SDK read the record, the goals of the still
  // granted measurement purpose, and listed key names (Storage.key) to find every
  // tailor:p: key to delete.
  const reads = await sdkReads(page);
  assert.deepEqual([...new Set(reads.filter((r) => !r.startsWith("Storage.key ")))], [`Storage.getItem ${RECORD}`, "Storage.getItem tailor:m:goals"]);
  assert.ok(reads.some((r) => r.startsWith("Storage.key ")), "control: the deletion did look for keys");
  assert.equal(await page.locator('[data-tailor-slot="hero"]').innerHTML(), "<h1>Hello</h1>");

  // The visitor explicitly opts back in, on this site.
  const s = await page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.deepEqual([s.personalization.state, s.personalization.source, s.gpc_honored], ["granted", "api", false]);
  const newId = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  assert.notEqual(newId, oldId);
  const last = (await ledger(page)).at(-1);
  assert.deepEqual([last.method, last.gpc_override, last.signals.gpc, last.purposes.personalization.decided], ["api", true, true, "granted"]);
  // The override holds on the next GPC page view.
  await page.reload();
  await ready(page);
  assert.deepEqual([(await states(page)).personalization, (await state(page)).gpc_honored], ["granted", false]);
  await context.close();
});

// --- TCF v2.2 (17–18) ------------------------------------------------------------

const TCF = (extra = {}) => config({ signals: { tcf: { gdpr_applies: true, vendor_id: TAILOR_VENDOR, ...extra } } });

/** Updates the CMP and reads, in the same task, what the SDK left behind. */
function update(page, tc, uiVisible = false) {
  return page.evaluate(([tc, uiVisible]) => {
    window.cmpApi.update(tc, uiVisible);
    const s = window.tailor.consent.state();
    return {
      personalization: s.personalization.state,
      measurement: s.measurement.state,
      source: s.personalization.source,
      pKeys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")).sort(),
    };
  }, [tc, uiVisible]);
}

async function tcfCommands(page) {
  return (await sdkCalls(page)).filter((c) => c.api.startsWith("__tcfapi")).map((c) => `${c.api} ${c.detail}`);
}

test("17. TCF: registers once with addEventListener and keeps it; acts only on loaded + tcloaded/useractioncomplete; never calls getTCData", async () => {
  const context = await newContext(env);
  const { page } = await openPage(env, "tcf.html", { consent: TCF() }, { context });
  // The stub is there, the CMP not yet: nothing granted where GDPR applies.
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  await page.evaluate(() => window.startTcfCmp());
  const yes = await tcString({ publisher: [1, 5, 6, 7, 8, 9] });
  const no = await tcString({ publisher: [1] });
  // The CMP shows its UI: eventStatus cmpuishown is not an answer.
  let r = await update(page, yes, true);
  assert.deepEqual([r.personalization, r.measurement], ["not_asked", "not_asked"]);
  // The visitor accepts: useractioncomplete.
  r = await update(page, yes);
  assert.deepEqual([r.personalization, r.measurement, r.source], ["granted", "granted", "tcf"]);
  assert.deepEqual(r.pKeys, ["tailor:p:id"]);
  // A later withdrawal in the CMP: personalization storage is gone when update() returns.
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "TCF" }));
  await settle(page);
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);
  // Another tab of the site, whose CMP relays the same stored TC string.
  const other = await openPage(env, "tcf.html", { consent: TCF(), cmp: { start: true, update: yes } }, { context });
  assert.equal((await states(other.page)).personalization, "granted");
  r = await update(page, no);
  assert.deepEqual([r.personalization, r.measurement, r.pKeys], ["denied", "denied", []]);
  assert.equal(await page.evaluate(() => window.tailor.inventory().profile), null);
  await purgedWithin(other.page);
  await other.page.close();
  // One listener, registered once and kept (three answers arrived through it).
  assert.deepEqual(await tcfCommands(page), ["__tcfapi addEventListener"]);
  const records = await ledger(page);
  assert.deepEqual(records.map((x) => [x.method, x.signals.tc_string]), [["tcf", yes], ["tcf", no]]);
  // Tailor never wrote a TC string: the CMP still holds exactly what it was given.
  assert.equal(await page.evaluate(() => new Promise((ok) => window.__tcfapi("getTCData", 2, (d) => ok(d.tcString)))), no);
  assert.deepEqual((await sdkWrites(page)).filter((w) => !/tailor:/.test(w)), [], "no cookie or other key written by the SDK");
  await context.close();
});

test("17. TCF: a returning visitor's stored TC string (tcloaded at load) is acted on", async () => {
  const tc = await tcString({ publisher: [1, 5, 6] });
  const { page, context } = await openPage(env, "tcf.html", { consent: TCF(), cmp: { start: true, update: tc } });
  assert.deepEqual(await states(page), { personalization: "granted", measurement: "denied" });
  assert.equal((await ledger(page))[0].signals.tc_string, tc);
  await context.close();
});

test("17. TCF: gdprApplies undefined means wait; false means TCF says nothing", async () => {
  const tc = await tcString({ publisher: [1, 5, 6, 7, 8, 9] });
  // An API grant is held back while TCF (GDPR applies by configuration) has not answered.
  const { page, context } = await openPage(env, "tcf.html", { consent: TCF() });
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  await page.evaluate(() => window.startTcfCmp({ hideGdprApplies: true }));
  let r = await update(page, tc);
  assert.deepEqual([r.personalization, r.measurement, r.pKeys], ["not_asked", "not_asked", []]);
  assert.equal(await page.evaluate(() => new Promise((ok) => window.__tcfapi("ping", 2, (p) => ok(p.cmpStatus)))), "loaded");
  assert.deepEqual((await ledger(page)).map((x) => x.method), ["api"], "the undefined answer was not logged");
  await context.close();

  // gdprApplies false (update(null)): TCF says nothing, the visitor's API choice counts.
  const other = await openPage(env, "tcf.html", { consent: TCF(), cmp: { start: true, update: null } });
  assert.deepEqual(await states(other.page), { personalization: "not_asked", measurement: "not_asked" });
  const s = await other.page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.deepEqual([s.personalization.state, s.personalization.source], ["granted", "api"]);
  await other.context.close();
});

test("17. TCF: a CMP that never answers (or no CMP at all) where GDPR applies means no consent", async () => {
  for (const [file, label] of [["tcf.html", "stub only"], ["basic.html", "no CMP"]]) {
    const { page, context } = await openPage(env, file, { consent: TCF() }, { clock: Date.parse("2026-03-02T09:00:00Z") });
    await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
    await page.clock.fastForward(15_000); // past the SDK's 10 s search for a late CMP
    assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" }, label);
    assert.equal(await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "x" })), false, label);
    assert.deepEqual(await pKeys(page), [], label);
    await context.close();
  }
});

test("17. TCF: a CMP in the parent frame is reached through __tcfapiLocator (Tailor in a same-origin frame), withdrawals included", async () => {
  const yes = await tcString({ publisher: [1, 5, 6] });
  const no = await tcString({ publisher: [] });
  const { page, context } = await openPage(env, "cmp-parent.html", { sdk: false, cmp: { update: yes }, frame: { opts: { consent: TCF() } } });
  const frame = page.frame({ url: /tcf\.html/ });
  await ready(frame);
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted", null, { timeout: 2000 });
  // The frame loads the IAB stub too, which found the parent's locator and so defined
  // no __tcfapi here: Tailor reached the parent's CMP through postMessage.
  assert.equal(await frame.evaluate(() => typeof window.__tcfapi), "undefined");
  assert.equal((await ledger(frame))[0].signals.tc_string, yes);
  await frame.evaluate(() => window.tailor.track("add_to_cart", { sku: "FRAME" }));
  await settle(frame);
  assert.deepEqual(await pKeys(frame), ["tailor:p:id", "tailor:p:profile"]);
  // Withdrawal in the parent's CMP.
  await page.evaluate((tc) => window.cmpApi.update(tc), no);
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "denied", null, { timeout: 1000 });
  assert.deepEqual(await pKeys(frame), []);
  await context.close();
});

test("17. TCF: a CMP in a cross-origin parent frame answers through postMessage, and a withdrawal there reaches the frame through the IAB stub's bridge", async () => {
  const yes = await tcString({ publisher: [1, 5, 6] });
  const no = await tcString({ publisher: [] });
  const { page, context } = await openPage(env, "cmp-parent.html", { sdk: false, cmp: { update: yes }, frame: { base: env.otherBase, opts: { consent: TCF() } } });
  const frame = page.frame({ url: /localhost.*tcf\.html/ });
  await ready(frame);
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted", null, { timeout: 2000 });
  assert.deepEqual((await ledger(frame)).map((r) => [r.method, r.signals.tc_string]), [["tcf", yes]]);
  // A third-party frame has no localStorage here: Tailor keeps its data in memory.
  const held = () => frame.evaluate(() => {
    const inv = window.tailor.inventory();
    return { storage: inv.storage, keys: inv.keys.map((k) => k.key).filter((k) => k.startsWith("tailor:p:")).sort() };
  });
  await frame.evaluate(() => window.tailor.track("add_to_cart", { sku: "FRAME" }));
  await settle(frame);
  assert.deepEqual(await held(), { storage: "memory", keys: ["tailor:p:id", "tailor:p:profile"] });
  // The IAB stub's bridge forwards only the answer given while the call runs: the
  // withdrawal below reaches the frame only because Tailor asks again.
  await page.evaluate((tc) => window.cmpApi.update(tc), no);
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "denied", null, { timeout: 2500 });
  assert.deepEqual(await held(), { storage: "memory", keys: [] });
  // Consent given again in the CMP comes back the same way.
  await page.evaluate((tc) => window.cmpApi.update(tc), yes);
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "granted", null, { timeout: 2500 });
  assert.deepEqual((await ledger(frame)).map((r) => [r.method, r.signals.tc_string]), [["tcf", yes], ["tcf", no], ["tcf", yes]]);
  // The asking leaves one listener with the CMP: every other registration was removed.
  const calls = await page.evaluate(() => window.__audit.filter((e) => e.api === "__tcfapi").map((e) => e.detail));
  const added = calls.filter((c) => c === "addEventListener").length;
  assert.ok(added >= 3, `the frame asked ${added} times`);
  assert.equal(calls.filter((c) => c === "removeEventListener").length, added - 1);
  assert.deepEqual([...new Set(calls)].sort(), ["addEventListener", "removeEventListener"]);
  await context.close();
});

test("17. TCF: a cross-origin frame whose ancestor's CMP never answers grants nothing, and asks again one question at a time", async () => {
  const { page, context } = await openPage(env, "locator-parent.html", { sdk: false, frame: { base: env.otherBase, opts: { consent: TCF() } } }, { clock: Date.parse("2026-03-02T09:00:00Z") });
  const frame = page.frame({ url: /localhost.*basic\.html/ });
  await ready(frame);
  await frame.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  // The registration (kept), a question at 1 s, left unanswered until it is given up
  // and asked again at 6 s and 11 s: not one a second.
  await page.clock.runFor(11_500);
  assert.deepEqual(await page.evaluate(() => window.tcfCalls), ["addEventListener", "addEventListener", "addEventListener", "addEventListener"]);
  assert.deepEqual(await states(frame), { personalization: "not_asked", measurement: "not_asked" });
  assert.equal(await frame.evaluate(() => window.tailor.track("add_to_cart", { sku: "x" })), false);
  await context.close();
});

test("18. TCF purpose mapping with real TC strings: 1+5+6 (publisher or vendor) personalizes, 1+7+8+9 measures, LI and 11 never count, restriction type 0 blocks", async () => {
  const { page, context } = await openPage(env, "tcf.html", { consent: TCF(), cmp: { start: true, update: await tcString() } });
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "denied" });
  const V = TAILOR_VENDOR;
  const cases = [
    ["publisher consent 1,5,6", { publisher: [1, 5, 6] }, ["granted", "denied"]],
    ["vendor consent: purposes 1,5,6 + Tailor's vendor id", { purposes: [1, 5, 6], vendors: [V] }, ["granted", "denied"]],
    ["purposes 1,5,6 for another vendor only", { purposes: [1, 5, 6], vendors: [77] }, ["denied", "denied"]],
    ["publisher 5,6 without purpose 1", { publisher: [5, 6] }, ["denied", "denied"]],
    ["publisher 1,5 without 6", { publisher: [1, 5] }, ["denied", "denied"]],
    ["mixed parties: publisher 1 + vendor 5,6", { publisher: [1], purposes: [5, 6], vendors: [V] }, ["denied", "denied"]],
    ["legitimate interest only", { publisherLi: [1, 2, 5, 6, 7, 8, 9], li: [2, 7, 8, 9], vendorLi: [V] }, ["denied", "denied"]],
    ["purpose 11 alone", { publisher: [11], purposes: [11], vendors: [V] }, ["denied", "denied"]],
    ["publisher 1,7,8,9", { publisher: [1, 7, 8, 9] }, ["denied", "granted"]],
    ["vendor 1,7,8,9", { purposes: [1, 7, 8, 9], vendors: [V] }, ["denied", "granted"]],
    ["1,7,8 without 9", { publisher: [1, 7, 8] }, ["denied", "denied"]],
    ["everything", { publisher: [1, 5, 6, 7, 8, 9], purposes: [1, 5, 6, 7, 8, 9], vendors: [V] }, ["granted", "granted"]],
    ["everything, restriction type 0 on purpose 5 for Tailor", { publisher: [1, 5, 6, 7, 8, 9], purposes: [1, 5, 6, 7, 8, 9], vendors: [V], restrictions: [[5, V, 0]] }, ["denied", "granted"]],
    ["everything, restriction type 0 on purpose 8 for Tailor", { publisher: [1, 5, 6, 7, 8, 9], purposes: [1, 5, 6, 7, 8, 9], vendors: [V], restrictions: [[8, V, 0]] }, ["granted", "denied"]],
    ["everything, restriction type 0 for another vendor", { publisher: [1, 5, 6, 7, 8, 9], purposes: [1, 5, 6, 7, 8, 9], vendors: [V], restrictions: [[5, 77, 0]] }, ["granted", "granted"]],
    ["everything, restriction type 1 (require consent) for Tailor", { publisher: [1, 5, 6, 7, 8, 9], purposes: [1, 5, 6, 7, 8, 9], vendors: [V], restrictions: [[5, V, 1]] }, ["granted", "granted"]],
    ["purpose one treatment", { publisher: [5, 6], purposeOneTreatment: true }, ["denied", "denied"]],
  ];
  let previous = "denied";
  for (const [label, spec, [p, m]] of cases) {
    const tc = await tcString(spec);
    const r = await update(page, tc);
    assert.deepEqual([r.personalization, r.measurement], [p, m], label);
    assert.equal(r.source, "tcf", label);
    // Leaving "granted" deletes personalization storage before update() returns.
    if (previous === "granted" && p === "denied") assert.deepEqual(r.pKeys, [], label);
    if (p === "granted") assert.ok(r.pKeys.includes("tailor:p:id"), label);
    previous = p;
  }
  assert.deepEqual(await tcfCommands(page), ["__tcfapi addEventListener"]);
  await context.close();
});

// --- GPP (19) ----------------------------------------------------------------------

const GPP = config({ signals: { gpp: true } });

test("19. GPP: only signalStatus 'ready' is acted on; a US opt-out gives the same state as GPC and deletes personalization storage at once", async () => {
  const context = await newContext(env);
  const first = await openPage(env, "gpp.html", { consent: GPP }, { context });
  await first.page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  await first.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "GPP" }));
  await settle(first.page);
  assert.deepEqual(await pKeys(first.page), ["tailor:p:id", "tailor:p:profile"]);
  // The CMP starts, fills in a sale opt-out, but is not ready yet.
  const notReady = await first.page.evaluate(() => {
    window.startGppCmp();
    window.gppApi.setFieldValue("usnat", "SaleOptOutNotice", 1);
    window.gppApi.setFieldValue("usnat", "SaleOptOut", 1);
    window.gppApi.fireSectionChange("usnat");
    return window.tailor.consent.state().personalization.state;
  });
  await settle(first.page, 100);
  assert.equal(notReady, "granted");
  assert.deepEqual(await pKeys(first.page), ["tailor:p:id", "tailor:p:profile"]);
  assert.equal((await ledger(first.page)).some((r) => r.method === "gpp"), false);
  // Ready: acted on before setSignalStatus returns.
  const other = await openPage(env, "gpp.html", { consent: GPP }, { context });
  assert.equal((await states(other.page)).personalization, "granted");
  const ready1 = await first.page.evaluate(() => {
    window.gppApi.setSignalStatus("ready");
    return { s: window.tailor.consent.state(), keys: Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")), gpp: window.gppApi.getGppString(), profile: window.tailor.inventory().profile };
  });
  assert.deepEqual([ready1.s.personalization.state, ready1.s.personalization.source, ready1.s.measurement.state, ready1.keys, ready1.profile], ["denied", "gpp", "granted", [], null]);
  await purgedWithin(other.page);
  const last = (await ledger(first.page)).at(-1);
  assert.deepEqual([last.method, last.signals.gpp_string], ["gpp", ready1.gpp]);
  const gppCalls = (await sdkCalls(first.page)).filter((c) => c.api.startsWith("__gpp")).map((c) => `${c.api} ${c.detail}`);
  assert.deepEqual(gppCalls, ["__gpp addEventListener"]);

  // Same state as GPC would give from the same starting point.
  const gpcContext = await newContext(env);
  const g1 = await openPage(env, "gpp.html", { consent: GPP }, { context: gpcContext });
  await g1.page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  const g2 = await openPage(env, "gpp.html", { consent: GPP }, { context: gpcContext, gpc: true });
  assert.deepEqual(await states(g2.page), await states(first.page));
  await gpcContext.close();
  await context.close();
});

test("19. GPP: sale, sharing and targeted-advertising opt-outs and the Gpc flag, in usnat and usca, each refuse personalization; 'did not opt out' refuses nothing", async () => {
  const cases = [
    [[["usnat", "SaleOptOut", 1]], "denied"],
    [[["usnat", "SharingOptOut", 1]], "denied"],
    [[["usnat", "TargetedAdvertisingOptOut", 1]], "denied"],
    [[["usnat", "Gpc", true]], "denied"],
    [[["usca", "SaleOptOut", 1]], "denied"],
    [[["usnat", "SaleOptOut", 2], ["usnat", "SharingOptOut", 2], ["usnat", "TargetedAdvertisingOptOut", 2]], "granted"],
  ];
  const context = await newContext(env);
  const first = await openPage(env, "gpp.html", { consent: GPP }, { context });
  await first.page.evaluate(() => window.tailor.consent.grant("personalization"));
  await first.page.close();
  for (const [fields, expected] of cases) {
    // A returning visitor: the CMP is ready at load with its stored answer.
    const { page } = await openPage(env, "gpp.html", { consent: GPP, cmp: { start: true, fields, ready: true } }, { context });
    const s = await state(page);
    assert.equal(s.personalization.state, expected, JSON.stringify(fields));
    if (expected === "denied") assert.equal(s.personalization.source, "gpp");
    await page.close();
  }
  await context.close();
});

// --- 20: the SDK never speaks for the visitor ---------------------------------------

test("19. GPP: a CMP in a cross-origin parent frame is found through __gppLocator and answers through postMessage; an opt-out there reaches the frame", async () => {
  const { page, context } = await openPage(env, "gpp-parent.html", { sdk: false, frame: { base: env.otherBase, opts: { consent: GPP } } });
  const frame = page.frame({ url: /localhost.*gpp\.html/ });
  await ready(frame);
  // No __gpp in the frame: the parent's CMP, through the spec's stub bridge.
  assert.equal(await frame.evaluate(() => typeof window.__gpp), "undefined");
  await frame.evaluate(() => window.tailor.consent.grant("personalization"));
  await frame.evaluate(() => window.tailor.track("add_to_cart", { sku: "FRAME" }));
  await settle(frame);
  const held = () => frame.evaluate(() => window.tailor.inventory().keys.map((k) => k.key).filter((k) => k.startsWith("tailor:p:")).sort());
  assert.deepEqual(await held(), ["tailor:p:id", "tailor:p:profile"]);
  const gpp = await page.evaluate(() => {
    window.gppApi.setFieldValue("usnat", "SaleOptOutNotice", 1);
    window.gppApi.setFieldValue("usnat", "SaleOptOut", 1);
    window.gppApi.fireSectionChange("usnat");
    return window.gppApi.getGppString();
  });
  await frame.waitForFunction(() => window.tailor.consent.state().personalization.state === "denied", null, { timeout: 2500 });
  assert.equal((await state(frame)).personalization.source, "gpp");
  assert.deepEqual(await held(), []);
  const last = (await ledger(frame)).at(-1);
  assert.deepEqual([last.method, last.signals.gpp_string], ["gpp", gpp]);
  await context.close();
});

test("20. the SDK never calls gtag('consent', 'update'), never pushes to dataLayer, never sets __tcfapi/__gpp or writes a TC or GPP string", async () => {
  const tc = await tcString({ publisher: [1, 5, 6, 7, 8, 9] });
  const { page, context } = await openPage(env, "tcf.html", { consent: config({ signals: { tcf: { gdpr_applies: true }, gpp: true, consent_mode: true } }), cmp: { start: true, update: tc } });
  await page.evaluate(() => {
    window.startGppCmp();
    window.gppApi.setSignalStatus("ready");
  });
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  await page.evaluate(() => window.tailor.consent.revoke("measurement"));
  await page.evaluate(() => window.tailor.forget());
  await settle(page);
  const calls = await sdkCalls(page);
  const cmpCalls = calls.filter((c) => c.api.startsWith("__")).map((c) => `${c.api} ${c.detail}`);
  assert.deepEqual([...new Set(cmpCalls)].sort(), ["__gpp addEventListener", "__tcfapi addEventListener"]);
  assert.deepEqual(await page.evaluate(() => window.dataLayer), [], "the SDK pushed nothing to dataLayer");
  assert.equal(await page.evaluate(() => new Promise((ok) => window.__tcfapi("getTCData", 2, (d) => ok(d.tcString)))), tc);
  assert.deepEqual(calls.filter((c) => c.api === "cookie.set" || c.api.startsWith("cookieStore")), []);
  assert.deepEqual((await sdkWrites(page)).filter((w) => !/ tailor:/.test(w)), []);
  await context.close();
});
