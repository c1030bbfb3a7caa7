// Consent audit, part A (CONSENT.md items 1–6): before any choice, the SDK stores
// nothing, reads nothing but the consent record, sends nothing about the visitor,
// buffers nothing, grants nothing by default and takes no action for consent.
// Every storage, network and fingerprinting call is recorded with its stack by the
// audit init script (browser.mjs) and attributed to the SDK by its /sdk/ frames.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startEnv, openPage, ready, keys, states, state, sdkWrites, sdkReads, sdkCalls, auditMark, originStorage,
  storedProfile, settle, config, RECORD,
} from "./consent-kit.mjs";

let env;
before(async () => (env = await startEnv()));
after(() => env?.close());

const EMPTY = { cookies: [], localStorage: [], sessionStorage: 0, indexedDB: 0, caches: 0, opfs: 0, serviceWorkers: 0, windowName: "" };

test("1. no SDK storage write at load, after 5 s and after 30 s (any storage: cookies, Web Storage, IndexedDB, Cache Storage, OPFS, service workers)", async () => {
  const t0 = Date.parse("2026-03-02T09:00:00Z");
  const { page, context } = await openPage(env, "static.html", undefined, { clock: t0 });
  for (const [label, advance] of [["at load", 0], ["after 5 s", 5_000], ["after 30 s", 25_000]]) {
    if (advance) await page.clock.fastForward(advance);
    assert.deepEqual(await sdkWrites(page), [], `SDK storage writes ${label}`);
    assert.deepEqual(await originStorage(page), EMPTY, `origin storage ${label}`);
  }
  assert.equal(await page.evaluate(() => Date.now()) - t0 >= 30_000, true, "the page clock really moved on 30 s");
  // The instrument sees SDK writes: a grant writes the record and the identifier.
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const writes = await sdkWrites(page);
  assert.ok(writes.includes(`Storage.setItem ${RECORD}`), writes.join("\n"));
  assert.ok(writes.includes("Storage.setItem tailor:p:id"), writes.join("\n"));
  await context.close();
});

test("2. no read of SDK storage before consent except the consent record; leftovers are deleted unread", async () => {
  // Started first, so that this page's own clean-up at load is over before the
  // leftovers are put there (on a loaded machine it could otherwise remove them before
  // the reload, and the reloaded page, the one audited, would find nothing to delete).
  const { page, context } = await openPage(env, "static.html");
  // Leftovers another script (or an older visit) put there: never read before consent,
  // and deleted at load (found by key name, which is all the SDK lists).
  await page.evaluate(() => {
    localStorage.setItem("tailor:p:profile", "tp1:leftover");
    localStorage.setItem("tailor:p:id", "0123456789abcdef0123456789abcdef");
    localStorage.setItem("tailor:m:goals", "leftover");
    localStorage.setItem("host:cart", "3 items");
  });
  await page.reload();
  await ready(page);
  await page.mouse.wheel(0, 1500);
  await page.click("#add");
  await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "x" }));
  await settle(page);
  const reads = await sdkReads(page);
  assert.ok(reads.length >= 1, "the consent record is read");
  assert.deepEqual([...new Set(reads.filter((r) => !r.startsWith("Storage.key ")))], [`Storage.getItem ${RECORD}`]);
  assert.deepEqual((await sdkWrites(page)).sort(), ["Storage.removeItem tailor:m:goals", "Storage.removeItem tailor:p:id", "Storage.removeItem tailor:p:profile"]);
  assert.deepEqual(await keys(page), []);
  assert.equal(await page.evaluate(() => localStorage.getItem("host:cart")), "3 items");
  await context.close();
});

test("3. the rules fetch goes without credentials, cookies, query string or full referrer; nothing else is sent", async () => {
  const context = await env.browser.newContext();
  await context.addCookies([{ name: "session", value: "secret-session", url: env.base }]);
  const { auditInitScript } = await import("./browser.mjs");
  await context.addInitScript(auditInitScript);
  const { page, log } = await openPage(env, "static.html", undefined, { context, query: "?utm_campaign=spring&email=a%40b.c" });
  await page.mouse.wheel(0, 1000);
  await page.click("#add");
  await settle(page, 600);

  const rules = log.requests.filter((r) => r.url.includes("rules.json"));
  assert.equal(rules.length, 1);
  assert.equal(new URL(rules[0].url).search, "", "no query string on the rules URL");
  const headers = await rules[0].request.allHeaders();
  assert.equal(headers.cookie, undefined, "no cookie on the rules fetch");
  assert.equal(headers.referer, env.base, "referrer cut to the origin: the page's query string does not travel");
  // Control: the same origin's own document request carried the cookie and the query.
  const doc = log.requests.find((r) => r.url.includes("static.html"));
  assert.match((await doc.request.allHeaders()).cookie, /session=secret-session/);

  const fetches = (await sdkCalls(page)).filter((c) => ["fetch", "xhr", "xhr.send", "sendBeacon", "WebSocket", "EventSource"].includes(c.api));
  // The SDK fetches its own .wasm (beside the script, no query) and the rules, nothing
  // else, both without cookies and with the origin alone as referrer.
  assert.deepEqual(fetches.map((c) => [c.api, c.detail, c.extra?.credentials, c.extra?.referrerPolicy]), [
    ["fetch", "/test/consent/rules.json", "omit", "strict-origin"],
    ["fetch", `${env.base}sdk/tailor_bg.wasm`, "omit", "strict-origin"],
  ]);
  const wasm = log.requests.find((r) => r.url.endsWith("/sdk/tailor_bg.wasm"));
  const wasmHeaders = await wasm.request.allHeaders();
  assert.equal(wasmHeaders.cookie, undefined, "no cookie on the .wasm fetch");
  assert.equal(wasmHeaders.referer, env.base, "the .wasm fetch names the origin only");
  // Everything the page requested: its own files, the SDK and the rules. No other origin.
  const paths = log.requests.map((r) => new URL(r.url).pathname);
  assert.deepEqual([...new Set(paths)].sort(), ["/sdk/tailor.full.js", "/sdk/tailor.min.js", "/sdk/tailor_bg.wasm", "/test/consent/rules.json", "/test/consent/static.html"]);
  // The full module is a script the browser loads like tailor.min.js itself (its
  // cookies and referrer are the page's to set, e.g. referrerpolicy on the tag); Tailor
  // adds nothing to its URL.
  for (const r of log.requests.filter((r) => /\/sdk\/tailor\.(min|full)\.js/.test(r.url))) assert.equal(new URL(r.url).search, "", r.url);
  assert.deepEqual(log.websockets, []);
  await context.close();
});

test("4. no buffering: interactions before the grant are never persisted after it", async () => {
  const { page, context } = await openPage(env, "basic.html", {});
  const before = await page.evaluate(() => [
    window.tailor.track("add_to_cart", { sku: "BEFORE-GRANT-1" }),
    window.tailor.track("view_item", { category: "BEFORE-GRANT-2" }),
  ]);
  assert.deepEqual(before, [false, false], "track() reports that nothing was kept");
  await page.click("#add"); // data-tailor-track button, sku SKU-SECRET-42
  await page.mouse.wheel(0, 3000);
  await settle(page);
  assert.deepEqual(await keys(page), []);

  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const after = await page.evaluate(() => window.tailor.track("add_to_cart", { sku: "AFTER-GRANT" }));
  assert.equal(after, true);
  await settle(page);
  const profile = await storedProfile(page);
  assert.ok(profile, "a profile is stored after the grant");
  assert.match(profile, /AFTER-GRANT/);
  for (const early of ["BEFORE-GRANT-1", "BEFORE-GRANT-2", "SKU-SECRET-42", "scroll_depth"]) assert.equal(profile.includes(early), false, `${early} leaked into the profile`);
  const summary = await page.evaluate(() => window.tailor.inventory().profile);
  assert.equal(summary.attributes.pageviews, 1, "only the page view after the grant");
  assert.deepEqual(summary.eventNames, ["page_view", "add_to_cart"]);
  // Control: scrolling deeper after the grant is captured.
  await page.mouse.wheel(0, 5000);
  await page.waitForFunction(() => /"percent":100/.test(localStorage.getItem("tailor:p:profile")));
  await context.close();
});

test("5. every purpose defaults to not asked; strict mode rejects a configuration granting personalization by default", async () => {
  // Defaults.
  const plain = await openPage(env, "basic.html", {});
  const s = await state(plain.page);
  assert.deepEqual(
    { p: [s.personalization.state, s.personalization.source], m: [s.measurement.state, s.measurement.source], gpc: s.gpc_honored },
    { p: ["not_asked", "default"], m: ["not_asked", "default"], gpc: false },
  );
  assert.equal(await plain.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "a" })), false);
  await plain.context.close();

  // Strict (the default): the configuration is refused, loudly, and nothing is granted.
  const granting = { ...config(), defaults: { personalization: "granted" } };
  const strict = await openPage(env, "basic.html", { consent: granting });
  const errors = strict.log.console.filter((m) => m.type === "error").map((m) => m.text);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.equal(errors[0], 'Tailor: invalid consent configuration: $.defaults.personalization: expected "denied" or "not_asked" (strict mode forbids granting a purpose by default), found string "granted"');
  assert.equal(await strict.page.evaluate(() => window.tailor.consent.state()), null, "no consent engine runs with a refused configuration");
  assert.equal(await strict.page.evaluate(() => window.tailor.track("add_to_cart", { sku: "a" })), false);
  await settle(strict.page);
  assert.deepEqual(await keys(strict.page), []);
  assert.deepEqual(await sdkWrites(strict.page), []);
  assert.equal((await strict.page.locator('[data-tailor-slot="hero"]').innerText()).trim(), "Hello");
  await strict.context.close();

  // Control: the same configuration with strict: false really grants by default.
  const lax = await openPage(env, "basic.html", { consent: { ...granting, strict: false } });
  assert.deepEqual(await states(lax.page), { personalization: "granted", measurement: "not_asked" });
  assert.ok((await keys(lax.page)).includes("tailor:p:id"));
  await lax.context.close();
});

test("6. no implicit consent: scrolling, clicking, closing a banner, navigating and waiting leave everything not asked", async () => {
  const { page, context } = await openPage(env, "basic.html", {}, { clock: Date.parse("2026-03-02T09:00:00Z") });
  const mark = await auditMark(page);
  await page.mouse.wheel(0, 2500);
  await page.click("#plain");
  await page.click("#add");
  await page.click("#close-banner"); // a banner closed without a choice
  await page.keyboard.press("Tab");
  await page.evaluate(() => history.pushState({}, "", "/test/consent/basic.html?spa=1" + location.hash)); // SPA navigation
  await page.clock.fastForward(30_000);
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  assert.deepEqual(await sdkWrites(page, mark), []);

  // A full navigation to the next page, then 30 s more.
  await Promise.all([page.waitForURL(/page=2/), page.click("#next")]);
  await ready(page);
  await page.mouse.wheel(0, 2500);
  await page.clock.fastForward(30_000);
  assert.deepEqual(await states(page), { personalization: "not_asked", measurement: "not_asked" });
  assert.equal(JSON.parse(await page.evaluate(() => window.tailor.consent.export())).records.length, 0, "no consent decision was logged");
  assert.deepEqual(await sdkWrites(page), []);
  assert.deepEqual(await keys(page), []);
  await context.close();
});
