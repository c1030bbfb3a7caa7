// Consent audit, part D (CONSENT.md items 21–25): expiry of consent and refusal,
// notice and rules-revision changes, the hash-chained ledger (JSON Schema, content,
// tamper detection), bounded history that never travels, and no fingerprinting.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import {
  startEnv, openPage, newContext, pageUrl, ready, keys, pKeys, states, state, sdkCalls, settle, config, tcString,
  FINGERPRINTING, DAY, CONFIG,
} from "./consent-kit.mjs";

let env;
before(async () => (env = await startEnv()));
after(() => env?.close());

const T0 = Date.parse("2026-03-02T09:00:00.000Z");
const ledger = async (page) => JSON.parse(await page.evaluate(() => window.tailor.consent.export()));
const listenForAsk = (page) => page.evaluate(() => {
  window.asked = [];
  window.tailor.consent.on("ask", (purposes) => window.asked.push(purposes));
});
const asked = (page) => page.evaluate(() => window.asked);

/** A later visit: a new browser context holding the first one's storage, its clock at `time`. */
async function laterVisit(context, time, file, opts) {
  const storageState = await context.storageState();
  const later = await newContext(env, { storageState }, { clock: time });
  return openPage(env, file, opts, { context: later });
}

test("21. consent expires after 183 days by default: processing stops and 'ask' fires then, not before", async () => {
  const { page, context } = await openPage(env, "basic.html", {}, { clock: T0 });
  await listenForAsk(page);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "A" }));
  await settle(page);
  const s = await state(page);
  assert.equal(s.personalization.expires_at, s.personalization.decided_at + 183 * DAY);

  await page.clock.fastForward(182 * DAY);
  assert.deepEqual(await asked(page), [], "no re-asking before expiry");
  assert.equal((await states(page)).personalization, "granted");
  assert.equal(await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "B" })), true);

  await page.clock.fastForward(DAY + 60_000); // past 183 days; the SDK checks every minute
  assert.deepEqual(await asked(page), [["personalization"]]);
  const after = await state(page);
  assert.deepEqual([after.personalization.state, after.personalization.source], ["not_asked", "expiry"]);
  assert.deepEqual(await pKeys(page), [], "processing stopped: personalization storage deleted");
  assert.equal(await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "C" })), false);
  assert.equal(await page.evaluate(() => window.tailor.inventory().profile), null);
  assert.equal((await ledger(page)).records.at(-1).method, "expiry");
  await context.close();
});

test("21. a refusal expires too, and an expiry found at start-up reaches an 'ask' listener added afterwards", async () => {
  const { page, context } = await openPage(env, "basic.html", {}, { clock: T0 });
  await page.evaluate(() => window.tailor.consent.decide({ personalization: false, measurement: false }, "reject_all"));
  assert.deepEqual(await states(page), { personalization: "denied", measurement: "denied" });
  // 182 days later: still refused, nobody is asked.
  const early = await laterVisit(context, T0 + 182 * DAY, "basic.html", {});
  await listenForAsk(early.page);
  await settle(early.page, 50);
  assert.deepEqual([await asked(early.page), await states(early.page)], [[], { personalization: "denied", measurement: "denied" }]);
  await early.context.close();
  // 184 days later: both back to not asked, and the host (subscribing after start-up) is told.
  const late = await laterVisit(context, T0 + 184 * DAY, "basic.html", {});
  await listenForAsk(late.page);
  await settle(late.page, 50);
  assert.deepEqual(await asked(late.page), [["personalization", "measurement"]]);
  const s = await state(late.page);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["not_asked", "expiry", "not_asked"]);
  // Once answered, a new listener is not told again.
  await late.page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  await listenForAsk(late.page);
  await settle(late.page, 50);
  assert.deepEqual(await asked(late.page), []);
  await late.context.close();
  await context.close();
});

test("21. the lifetime is configurable (lifetime_days) up to 13 months, and no further", async () => {
  const short = config({ lifetime_days: 30 });
  const { page, context } = await openPage(env, "basic.html", { consent: short }, { clock: T0 });
  await listenForAsk(page);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.clock.fastForward(29 * DAY);
  assert.equal((await states(page)).personalization, "granted");
  await page.clock.fastForward(DAY + 60_000);
  assert.deepEqual([(await states(page)).personalization, await asked(page)], ["not_asked", [["personalization"]]]);
  await context.close();

  const max = await openPage(env, "basic.html", { consent: config({ lifetime_days: 395 }) });
  const s = await max.page.evaluate(() => window.tailor.consent.grant("personalization"));
  assert.equal(s.personalization.expires_at - s.personalization.decided_at, 395 * DAY);
  await max.context.close();
  const tooLong = await openPage(env, "basic.html", { consent: config({ lifetime_days: 396 }) });
  const errors = tooLong.log.console.filter((m) => m.type === "error").map((m) => m.text);
  assert.equal(errors.length, 1);
  assert.equal(errors[0], "Tailor: invalid consent configuration: $.lifetime_days: expected an integer from 1 to 395, found number 396");
  await tooLong.context.close();
});

test("22. a change of a purpose's text returns that purpose to not asked; a change of rules_revision returns both", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  await page.click("#add");
  await settle(page);
  assert.deepEqual(await pKeys(page), ["tailor:p:id", "tailor:p:profile"]);

  const newText = config({ purposes: { ...CONFIG.purposes, personalization: { text: "We now also remember what you search for." } } });
  await page.goto(pageUrl(env, "basic.html", { consent: newText }, { query: "?notice=2" })); // a new document
  await ready(page);
  await listenForAsk(page);
  await settle(page, 50);
  const s = await state(page);
  assert.deepEqual([s.personalization.state, s.personalization.source, s.measurement.state], ["not_asked", "notice_change", "granted"]);
  assert.deepEqual(await asked(page), [["personalization"]]);
  assert.deepEqual(await pKeys(page), [], "personalization storage deleted until confirmed again");
  // Confirmed again under the new text.
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.reload();
  await ready(page);
  assert.deepEqual(await states(page), { personalization: "granted", measurement: "granted" });

  // The rules' consent revision changes: both purposes are asked again.
  await page.goto(pageUrl(env, "basic.html", { consent: { ...newText, rules_revision: "2" } }, { query: "?revision=2" }));
  await ready(page);
  await listenForAsk(page);
  await settle(page, 50);
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  assert.deepEqual(await asked(page), [["personalization", "measurement"]]);
  // Control: an unchanged configuration keeps decisions (the grant above survived a reload).
  await context.close();
});

// --- 23: the ledger ---------------------------------------------------------------------

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");
const schema = JSON.parse(readFileSync(new URL("../../pkg/consent-ledger.schema.json", import.meta.url), "utf8"));

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat("date-time", { type: "string", validate: (s) => !Number.isNaN(Date.parse(s)) });
  return ajv.compile(schema);
}

test("23. every decision appends an immutable record; the export validates against the published JSON Schema, chains by SHA-256 and holds no interaction data", async () => {
  const tcfGpp = config({ signals: { gpc: true, tcf: { gdpr_applies: false }, gpp: true } });
  const context = await newContext(env, {}, { clock: T0 });
  const { page } = await openPage(env, "tcf.html", { consent: tcfGpp }, { context, gpc: true });
  const run = (fn, arg) => page.evaluate(fn, arg);
  await run(() => window.tailor.consent.grant("measurement"));
  await run(() => window.tailor.consent.decide({ personalization: true, measurement: true }, "accept_all"));
  await run(() => window.tailor.track("add_to_cart", { sku: "SKU-PRIVATE-77" }));
  await page.click("#add");
  await settle(page);
  const id = await run(() => localStorage.getItem("tailor:p:id"));
  await run(() => window.tailor.consent.decide({ personalization: false, measurement: false }, "reject_all"));
  await run(() => window.tailor.consent.decide({ personalization: true, measurement: false }, "custom"));
  await run(() => window.tailor.consent.revoke(["personalization", "measurement"]));
  const tc = await tcString({ publisher: [1, 5, 6] });
  await run((tc) => { window.startTcfCmp(); window.cmpApi.update(tc); }, tc);
  const gppString = await run(() => {
    window.startGppCmp();
    window.gppApi.setFieldValue("usnat", "SaleOptOut", 1);
    window.gppApi.setSignalStatus("ready");
    return window.gppApi.getGppString();
  });
  // Tailor looks for a GPP CMP that loads after it every 250 ms.
  await page.waitForFunction(() => JSON.parse(window.tailor.consent.export()).records.some((r) => r.method === "gpp"));
  await page.clock.fastForward(184 * DAY);

  const text = await run(() => window.tailor.consent.export());
  const exported = JSON.parse(text);
  const validate = validator();
  assert.equal(validate(exported), true, JSON.stringify(validate.errors));
  const records = exported.records;
  // The GPC opt-out lapses with everything else at expiry, and is seen again at once
  // (the page still sends GPC): a new "gpc" record.
  assert.deepEqual(records.map((r) => r.method), ["gpc", "api", "accept_all", "reject_all", "custom", "revocation", "tcf", "gpp", "expiry", "gpc"]);

  // Content of each record.
  const version = await run(() => window.tailor.version());
  assert.equal(new Set(records.map((r) => r.id)).size, records.length, "distinct random ids");
  for (const [i, r] of records.entries()) {
    assert.equal(r.seq, i);
    assert.match(r.id, /^[0-9a-f]{32}$/);
    assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(r.time) >= T0 && (i === 0 || r.time >= records[i - 1].time));
    assert.equal(r.signals.gpc, true, "the GPC value read on the page");
    assert.deepEqual(r.notice, {
      version: "2026-03",
      personalization_sha256: sha256(CONFIG.purposes.personalization.text),
      measurement_sha256: sha256(CONFIG.purposes.measurement.text),
    });
    assert.equal(r.rules_revision, "1");
    assert.equal(r.sdk_version, version);
  }
  const byMethod = Object.fromEntries(records.map((r) => [r.method, r]));
  assert.equal(Date.parse(byMethod.api.purposes.measurement.expires) - Date.parse(byMethod.api.time), 183 * DAY, "expiry recorded");
  assert.deepEqual(byMethod.api.purposes.measurement, { decided: "granted", state: "granted", source: "api", expires: byMethod.api.purposes.measurement.expires });
  assert.equal(byMethod.accept_all.gpc_override, true, "a grant over the GPC opt-out is flagged");
  assert.deepEqual([byMethod.reject_all.purposes.personalization.state, byMethod.reject_all.purposes.measurement.state], ["denied", "denied"]);
  assert.equal(byMethod.tcf.signals.tc_string, tc);
  assert.equal(byMethod.gpp.signals.gpp_string, gppString);
  assert.equal(byMethod.expiry.purposes.measurement.decided, "not_asked");

  // The chain, checked independently: prev = SHA-256 of the previous record's JSON.
  assert.equal(records[0].prev, "0".repeat(64));
  for (let i = 1; i < records.length; i++) assert.equal(records[i].prev, sha256(JSON.stringify(records[i - 1])), `record ${i}`);
  assert.equal(exported.head, sha256(JSON.stringify(records.at(-1))));

  // No interaction data, no identifier.
  for (const needle of ["add_to_cart", "SKU-PRIVATE-77", "SKU-TCF", "page_view", id]) assert.equal(text.includes(needle), false, needle);
  await context.close();
});

test("23. verifyLedger (npm package) detects an edited, a reordered and a removed record", async () => {
  const { verifyLedger } = await import("../../pkg/dist/node.js");
  const { page, context } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.evaluate(() => window.tailor.consent.decide({ personalization: true, measurement: false }, "custom"));
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  const text = await page.evaluate(() => window.tailor.consent.export());
  await context.close();
  assert.deepEqual(verifyLedger(text), { ok: true, records: 4 });

  const tamper = (fn) => {
    const l = JSON.parse(text);
    fn(l);
    return verifyLedger(l);
  };
  const renumber = (l) => l.records.forEach((r, i) => (r.seq = l.dropped + i));
  const cases = [
    ["an edited record", (l) => (l.records[1].purposes.personalization.decided = "denied"), { index: 2, kind: "chain" }],
    ["the last record edited", (l) => (l.records[3].method = "api"), { index: 3, kind: "head" }],
    ["two records swapped", (l) => ([l.records[1], l.records[2]] = [l.records[2], l.records[1]]), { index: 1, kind: "sequence" }],
    ["two records swapped and renumbered", (l) => { [l.records[1], l.records[2]] = [l.records[2], l.records[1]]; renumber(l); }, { index: 1, kind: "chain" }],
    ["a record removed", (l) => l.records.splice(2, 1), { index: 2, kind: "sequence" }],
    ["a record removed and the rest renumbered", (l) => { l.records.splice(2, 1); renumber(l); }, { index: 2, kind: "chain" }],
    ["the first record removed", (l) => l.records.shift(), { index: 0, kind: "sequence" }],
    ["the last record removed", (l) => l.records.pop(), { index: 2, kind: "head" }],
  ];
  for (const [label, edit, expected] of cases) {
    const r = tamper(edit);
    assert.deepEqual({ ok: r.ok, index: r.index, kind: r.kind }, { ok: false, ...expected }, label);
    assert.ok(r.message.length > 10, label);
  }
});

// --- 24 and 25 ----------------------------------------------------------------------------

test("24. local history is bounded (thousands of events stay under 64 KB) and raw events never appear in any network payload", async () => {
  const { page, context, log } = await openPage(env, "basic.html", {});
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const id = await page.evaluate(() => localStorage.getItem("tailor:p:id"));
  await page.evaluate(() => {
    for (let i = 0; i < 3000; i++) window.tailor.track(i % 2 ? "add_to_cart" : "view_item", i % 2 ? { sku: `SKU-RAW-${i}` } : { category: `cat-${i % 40}` });
  });
  await page.click("#add");
  await page.mouse.wheel(0, 4000);
  await settle(page, 600);
  const profile = await page.evaluate(() => localStorage.getItem("tailor:p:profile"));
  const bytes = Buffer.byteLength(profile, "utf8");
  assert.ok(bytes < 64 * 1024, `${bytes} bytes`);
  assert.ok(bytes > 8 * 1024, "control: the profile did fill up");
  const summary = await page.evaluate(() => window.tailor.inventory().profile);
  assert.ok(summary.events <= 1000, `${summary.events} raw events kept`);
  assert.ok(summary.rollups > 0, "older events were folded into rollups");
  // Leave the page (pagehide flush) and come back: still nothing sent anywhere.
  await page.goto(pageUrl(env, "basic.html", {}));
  await ready(page);
  for (const r of log.requests) {
    const headers = JSON.stringify(await r.request.allHeaders());
    for (const needle of ["SKU-RAW", "add_to_cart", "view_item", "cat-", id]) {
      assert.equal(r.url.includes(needle) || r.body.includes(needle) || headers.includes(needle), false, `${needle} in ${r.method} ${r.url}`);
    }
  }
  const network = (await sdkCalls(page)).filter((c) => ["fetch", "xhr", "xhr.send", "sendBeacon", "WebSocket", "EventSource"].includes(c.api));
  assert.deepEqual(network.map((c) => c.detail.replace(env.base, "/")), ["/test/consent/rules.json", "/sdk/tailor_bg.wasm"]);
  assert.deepEqual(log.websockets, []);
  await context.close();
});

test("25. no fingerprinting API and no geolocation is ever called by the SDK (the audit sees the page's own calls)", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  // Everything the SDK does: consent, capture, decisions, SPA navigation, export, forget.
  await page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"], "accept_all"));
  await page.click("#add");
  await page.mouse.wheel(0, 3000);
  await page.evaluate(() => {
    window.tailor.track("view_item", { category: "shoes" });
    history.pushState({}, "", "/test/consent/basic.html?spa=1" + location.hash);
    window.tailor.decide("hero");
    window.tailor.explain("hero");
    window.tailor.inventory();
    window.tailor.consent.export();
  });
  await settle(page);
  await page.reload();
  await ready(page);
  await page.evaluate(() => window.tailor.forget());
  // The page's own fingerprinting, so the instrument is known to work.
  await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.getContext("2d").getImageData(0, 0, 1, 1);
    c.toDataURL();
    void navigator.plugins;
    void navigator.hardwareConcurrency;
    navigator.geolocation.getCurrentPosition(() => {}, () => {});
  });
  const all = await page.evaluate(() => window.__audit.map((e) => e.api));
  const isFp = (api) => FINGERPRINTING.some((f) => api.startsWith(f));
  for (const api of ["canvas.getImageData", "canvas.toDataURL", "plugins", "hardwareConcurrency", "geolocation"]) assert.ok(all.includes(api), `the audit records ${api}`);
  const sdk = (await sdkCalls(page)).filter((c) => isFp(c.api)).map((c) => c.api);
  assert.deepEqual(sdk, []);
  await context.close();
});

// Withdrawal does not depend on anything else working. A site that ships broken rules
// (or a refused consent configuration) must not leave a returning visitor unable to
// withdraw: the footer link, tailor.consent.revoke() and tailor.forget() still delete.
async function returningVisitor() {
  const first = await openPage(env, "basic.html");
  await first.page.evaluate(() => window.tailor.consent.grant(["personalization", "measurement"]));
  await first.page.click("#add");
  await settle(first.page);
  assert.ok((await pKeys(first.page)).length > 0, "the first visit stored a profile");
  const storageState = await first.context.storageState();
  await first.context.close();
  return newContext(env, { storageState });
}

test("withdrawal works when the rules cannot be used: the footer link deletes, and the record says denied", async () => {
  const context = await returningVisitor();
  const { page, log } = await openPage(env, "basic.html", { rules: "/test/consent/no-such-rules.json" }, { context });
  assert.ok(log.console.some((m) => m.type === "error" && /could not fetch rules/.test(m.text)), "the broken rules are reported");
  assert.ok((await pKeys(page)).length > 0);
  await page.click("#withdraw");
  assert.deepEqual(await pKeys(page), []);
  assert.deepEqual((await keys(page)).filter((k) => k.startsWith("tailor:m:")), []);
  const s = await state(page);
  assert.equal(s.personalization.state, "denied");
  assert.equal(s.measurement.state, "denied");
  await context.close();
});

test("with a refused consent configuration, revoke and forget still delete, and grants are refused with an error", async () => {
  const context = await returningVisitor();
  // Queued before the SDK loads, as a site's own code may do.
  await context.addInitScript(() => {
    window.tailor = [["consent.revoke", "measurement"]];
  });
  const { page, log } = await openPage(env, "basic.html", { consent: { purposes: "not an object" } }, { context });
  const errors = await page.evaluate(() => {
    const seen = [];
    window.tailor.on("error", (e) => seen.push(e.code));
    window.tailor.consent.grant("personalization");
    return seen;
  });
  assert.deepEqual(errors, ["CONSENT_UNAVAILABLE"]);
  assert.ok(log.console.some((m) => m.type === "error" && /consent/i.test(m.text)));
  assert.deepEqual((await keys(page)).filter((k) => k.startsWith("tailor:m:")), [], "the queued revoke deleted the measurement data");
  assert.ok((await pKeys(page)).length > 0, "personalization data stays until it is revoked");
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  assert.deepEqual(await pKeys(page), []);
  assert.ok((await keys(page)).length > 0, "the consent record is still there");
  await page.evaluate(() => window.tailor.forget());
  assert.deepEqual(await keys(page), []);
  assert.equal(await page.evaluate(() => window.tailor.consent.state()), null);
  await context.close();
});
