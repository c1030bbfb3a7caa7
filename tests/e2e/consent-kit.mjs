// Shared set-up for the consent audit (tests/e2e/consent-*.test.mjs): the audited
// browser of browser.mjs, the consent test pages (tests/e2e/pages/consent/, configured
// through the URL fragment, see boot.js), the IAB CMPs bundled at test time, real TC
// strings encoded with @iabtechlabtcf/core, and helpers that read what the SDK did.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TCModel, TCString, GVL, PurposeRestriction } from "@iabtechlabtcf/core";
import { setup, auditInitScript } from "./browser.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CMP_OUT = "target/e2e-cmp";

/** The default consent configuration of the test pages (boot.js has the same). */
export const CONFIG = {
  notice_version: "2026-03",
  purposes: {
    personalization: { text: "We remember the pages and products you look at, on this device only, to show you more relevant content." },
    measurement: { text: "We count which version of a page works better, on this device, and never send anything about you." },
  },
  rules_revision: "1",
};

/** The configuration with some fields replaced (shallow, `signals` merged). */
export function config(extra = {}) {
  return { ...CONFIG, ...extra };
}

/** Keys the SDK may use, by purpose prefix. */
export const P = "tailor:p:";
export const M = "tailor:m:";
export const RECORD = "tailor:consent";
export const DAY = 86_400_000;

let bundled = false;
/** Bundles the page-side CMPs (IAB TCF and GPP CMP APIs) into target/e2e-cmp/, once. */
export function bundleCmps() {
  if (bundled) return;
  mkdirSync(new URL(`../../${CMP_OUT}/`, import.meta.url), { recursive: true });
  for (const name of ["tcf", "gpp"]) {
    execFileSync(`${root}node_modules/.bin/esbuild`, [
      `tests/e2e/cmp/${name}.js`, "--bundle", "--format=iife", "--platform=browser", "--target=es2020",
      "--log-level=warning", "--preserve-symlinks", `--outfile=${CMP_OUT}/${name}.js`,
    ], { cwd: root, stdio: "inherit" });
  }
  bundled = true;
}

/**
 * Browser + server for a consent test file. Serves node_modules at /nm/ (the IAB stub,
 * cookieconsent, Klaro) and the bundled CMPs at /cmp/. `options.extraHeaders` passes
 * through.
 */
export async function startEnv(options = {}) {
  bundleCmps();
  const env = await setup({ mounts: [["/nm/", "node_modules"], ["/cmp/", CMP_OUT]], ...options });
  // Another origin on the same server (http://localhost:PORT/) for cross-origin frames.
  env.otherBase = env.base.replace("127.0.0.1", "localhost");
  return env;
}

/** URL of a consent test page with its set-up in the fragment (see boot.js). */
export function pageUrl(env, file, opts = {}, { query = "", base = env.base } = {}) {
  return `${base}test/consent/${file}${query}#${encodeURIComponent(JSON.stringify(opts))}`;
}

/** A new browser context with the audit init script (storage, network, fingerprinting). */
export async function newContext(env, contextOptions = {}, { clock } = {}) {
  const context = await env.browser.newContext(contextOptions);
  await context.addInitScript(auditInitScript);
  await context.addInitScript(cmpRecorderInitScript);
  if (clock !== undefined) await context.clock.install({ time: clock });
  return context;
}

/**
 * Opens `file` with `opts` in `context` (a new audited one when absent). Returns the
 * page and logs of everything it sent: requests (with bodies and all headers),
 * websockets, console messages, page errors.
 */
export async function openPage(env, file, opts = {}, { context, contextOptions, clock, gpc, query, base, wait = true } = {}) {
  context ??= await newContext(env, contextOptions, { clock });
  const page = await context.newPage();
  const log = { requests: [], websockets: [], console: [], errors: [] };
  page.on("request", (r) => log.requests.push({ url: r.url(), method: r.method(), body: r.postData() ?? "", request: r }));
  page.on("websocket", (ws) => log.websockets.push(ws.url()));
  page.on("console", (m) => log.console.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => log.errors.push(String(e)));
  if (gpc) await withGpc(page);
  await page.goto(pageUrl(env, file, opts, { query, base }));
  if (wait && opts.sdk !== false) await ready(page);
  return { page, context, log };
}

/**
 * Global Privacy Control for this page only, as a GPC browser sends it: the DOM
 * property (init script) and the `Sec-GPC: 1` request header.
 */
export async function withGpc(page) {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true }));
  await page.setExtraHTTPHeaders({ "Sec-GPC": "1" });
}

/** Waits until the SDK replaced the queue and its first decisions are applied. */
export async function ready(target) {
  await target.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await target.evaluate(() => window.tailor.ready);
}

/** Tailor's localStorage keys, sorted (read by the test, not recorded as SDK calls). */
export function keys(target) {
  return target.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("tailor:")).sort());
}

/** The personalization keys (tailor:p:*) present. */
export async function pKeys(target) {
  return (await keys(target)).filter((k) => k.startsWith(P));
}

export function state(target) {
  return target.evaluate(() => window.tailor.consent.state());
}

/** Effective state of both purposes, e.g. { personalization: "granted", measurement: "not_asked" }. */
export async function states(target) {
  const s = await state(target);
  return { personalization: s.personalization.state, measurement: s.measurement.state };
}

/** Audit entries of a page or frame whose stack passes through the SDK. */
export async function sdkCalls(target) {
  const log = await target.evaluate(() => window.__audit.map((e, i) => ({ ...e, i })));
  return log.filter((e) => /\/sdk\//.test(e.stack));
}

/** The index the next audit entry will get (to look only at what comes after). */
export function auditMark(target) {
  return target.evaluate(() => window.__audit.length);
}

const STORAGE_WRITES = new Set([
  "Storage.setItem", "Storage.removeItem", "Storage.clear", "cookie.set", "cookieStore.set", "cookieStore.delete",
  "indexedDB.open", "indexedDB.deleteDatabase", "caches.open", "caches.delete", "OPFS", "storage.persist",
  "serviceWorker.register", "window.name.set",
]);
const STORAGE_READS = new Set([
  "Storage.getItem", "Storage.key", "cookie.get", "cookieStore.get", "cookieStore.getAll", "indexedDB.databases",
  "caches.has", "caches.match", "caches.keys",
]);
export const FINGERPRINTING = [
  "canvas.", "webgl.", "audio.", "battery", "mediaDevices", "geolocation", "fonts.", "plugins", "mimeTypes",
  "userAgentData", "hardwareConcurrency", "deviceMemory",
];

/** SDK storage writes as "api detail" strings (from audit index `from`). */
export async function sdkWrites(target, from = 0) {
  return (await sdkCalls(target)).filter((c) => c.i >= from && STORAGE_WRITES.has(c.api)).map((c) => `${c.api} ${c.detail}`);
}

/** SDK storage reads as "api detail" strings (from audit index `from`). */
export async function sdkReads(target, from = 0) {
  return (await sdkCalls(target)).filter((c) => c.i >= from && STORAGE_READS.has(c.api)).map((c) => `${c.api} ${c.detail}`);
}

/** Everything the origin holds, read from the test side (storage state, DevTools-free). */
export async function originStorage(page) {
  const state = await page.context().storageState({ indexedDB: true });
  const local = state.origins.flatMap((o) => o.localStorage.map((e) => e.name)).sort();
  const other = await page.evaluate(async () => {
    let opfs = 0;
    try {
      const dir = await navigator.storage.getDirectory();
      for await (const _ of dir.keys()) opfs++;
    } catch {
      opfs = -1;
    }
    return {
      sessionStorage: sessionStorage.length,
      indexedDB: (await indexedDB.databases()).length,
      caches: (await caches.keys()).length,
      opfs,
      serviceWorkers: (await navigator.serviceWorker.getRegistrations()).length,
      windowName: window.name,
    };
  });
  return { cookies: state.cookies.map((c) => c.name).sort(), localStorage: local, ...other };
}

/** The stored profile text (tailor:p:profile), or null. */
export function storedProfile(target) {
  return target.evaluate(() => localStorage.getItem("tailor:p:profile"));
}

/**
 * Resolves once the SDK in `target` (another tab or frame) no longer processes
 * personalization: not granted, no profile in memory. Fails after `ms` (default 1 s).
 */
export function purgedWithin(target, ms = 1000) {
  return target.waitForFunction(
    () => window.tailor.consent.state().personalization.state !== "granted" && window.tailor.inventory().profile === null,
    null, { timeout: ms, polling: 10 },
  );
}

/** Waits for the batched profile write (250 ms) and a little more. */
export function settle(page, ms = 400) {
  return page.waitForTimeout(ms);
}

// --- TCF: real TC strings from @iabtechlabtcf/core, with a small inline GVL ---------

export const TAILOR_VENDOR = 1234;
const vendor = (id, name, purposes, legIntPurposes) => ({
  id, name, purposes, legIntPurposes, flexiblePurposes: [], specialPurposes: [], features: [], specialFeatures: [],
  cookieMaxAgeSeconds: 0, usesCookies: true, cookieRefresh: false, usesNonCookieAccess: false,
  dataRetention: { stdRetention: 30, purposes: {}, specialPurposes: {} }, dataDeclaration: [], urls: [],
});
/** A small Global Vendor List (v3 format, TCF policy 5 = v2.2), inline: no network. */
export const VENDOR_LIST = {
  gvlSpecificationVersion: 3,
  vendorListVersion: 42,
  tcfPolicyVersion: 5,
  lastUpdated: "2026-01-01T00:00:00Z",
  purposes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i + 1, { id: i + 1, name: `Purpose ${i + 1}`, description: "", illustrations: [] }])),
  specialPurposes: { 1: { id: 1, name: "Security", description: "", illustrations: [] } },
  features: {},
  specialFeatures: {},
  stacks: {},
  dataCategories: {},
  vendors: {
    [TAILOR_VENDOR]: vendor(TAILOR_VENDOR, "Tailor (test)", [1, 5, 6, 7, 8, 9, 11], [2, 10]),
    77: vendor(77, "Another vendor", [1, 3, 4], [2, 7, 8, 9]),
  },
};

let gvl = null;
/**
 * Encodes a real TC string. `publisher`: publisher-segment consents; `purposes`:
 * purpose consents; `vendors`: vendor consents; `li` / `publisherLi`: legitimate
 * interests; `restrictions`: [[purpose, vendor, type]] publisher restrictions.
 */
export async function tcString({ publisher = [], publisherLi = [], purposes = [], li = [], vendors = [], vendorLi = [], restrictions = [], purposeOneTreatment = false } = {}) {
  if (!gvl) {
    gvl = new GVL(structuredClone(VENDOR_LIST));
    await gvl.readyPromise;
  }
  const m = new TCModel(gvl);
  m.cmpId = 2;
  m.cmpVersion = 1;
  m.isServiceSpecific = true; // so that the publisher TC segment is encoded
  m.purposeOneTreatment = purposeOneTreatment;
  m.publisherConsents.set(publisher);
  m.publisherLegitimateInterests.set(publisherLi);
  m.purposeConsents.set(purposes);
  m.purposeLegitimateInterests.set(li);
  m.vendorConsents.set(vendors);
  m.vendorLegitimateInterests.set(vendorLi);
  for (const [purpose, vendorId, type] of restrictions) m.publisherRestrictions.add(vendorId, new PurposeRestriction(purpose, type));
  return TCString.encode(m);
}

/**
 * Init script (in every consent test context, after the audit script) recording every
 * call of the page's __tcfapi and __gpp with its stack in window.__audit (api
 * "__tcfapi" / "__gpp", detail = command), and every assignment ("__tcfapi.set"),
 * whoever installs them (stub, CMP) and whenever: the getter hands out a recording
 * wrapper of the current function.
 */
export function cmpRecorderInitScript() {
  for (const name of ["__tcfapi", "__gpp"]) {
    let current;
    let wrapper;
    Object.defineProperty(window, name, {
      configurable: true,
      get() {
        if (typeof current !== "function") return current;
        return (wrapper ??= function (...args) {
          if (args.length) {
            const limit = Error.stackTraceLimit;
            Error.stackTraceLimit = 40;
            window.__audit.push({ api: name, detail: String(args[0]), stack: new Error().stack });
            Error.stackTraceLimit = limit;
          }
          return current.apply(this, args);
        });
      },
      set(v) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 40;
        window.__audit.push({ api: `${name}.set`, detail: typeof v, stack: new Error().stack });
        Error.stackTraceLimit = limit;
        current = v;
        wrapper = undefined;
      },
    });
  }
}
