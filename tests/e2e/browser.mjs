// Shared set-up for the end-to-end tests: Debian's Chromium through playwright-core,
// the demo server on a free loopback port, and an audit init script that records
// every storage, network and fingerprinting call made by page scripts, with its stack.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { serve } from "../../scripts/serve.mjs";

export const ARTIFACTS = new URL("../../target/e2e/", import.meta.url);
mkdirSync(ARTIFACTS, { recursive: true });

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
];

/** Launches headless Chromium and the static server; returns { browser, base, close }. */
export async function setup(serverOptions = {}) {
  const { server, url } = await serve({ port: 0, ...serverOptions });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: FLAGS,
  });
  return {
    browser,
    base: url,
    async close() {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    },
  };
}

// Runs in the page before any page script. Wraps storage, network and fingerprinting
// APIs; every call lands in window.__audit with the calling stack.
function auditInitScript() {
  const log = [];
  Object.defineProperty(window, "__audit", { value: log });
  const record = (api, detail) => log.push({ api, detail: String(detail ?? ""), stack: new Error().stack });
  const wrap = (obj, name, api) => {
    const original = obj[name];
    if (typeof original !== "function") return;
    obj[name] = function (...args) {
      record(api, args[0]);
      return original.apply(this, args);
    };
  };
  for (const m of ["setItem", "getItem", "removeItem", "clear", "key"]) wrap(Storage.prototype, m, `Storage.${m}`);
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    get() { record("cookie.get"); return cookie.get.call(this); },
    set(v) { record("cookie.set", v); cookie.set.call(this, v); },
  });
  wrap(IDBFactory.prototype, "open", "indexedDB.open");
  if (window.caches) wrap(CacheStorage.prototype, "open", "caches.open");
  if (navigator.storage?.getDirectory) wrap(StorageManager.prototype, "getDirectory", "OPFS");
  if (navigator.serviceWorker) wrap(ServiceWorkerContainer.prototype, "register", "serviceWorker.register");
  wrap(window, "fetch", "fetch");
  wrap(XMLHttpRequest.prototype, "open", "xhr");
  wrap(Navigator.prototype, "sendBeacon", "sendBeacon");
  wrap(HTMLCanvasElement.prototype, "toDataURL", "canvas.toDataURL");
  wrap(CanvasRenderingContext2D.prototype, "getImageData", "canvas.getImageData");
  wrap(WebGLRenderingContext.prototype, "getParameter", "webgl.getParameter");
  if (window.AudioContext) wrap(AudioContext.prototype, "createAnalyser", "audio.createAnalyser");
  if (navigator.getBattery) wrap(Navigator.prototype, "getBattery", "battery");
  if (navigator.mediaDevices) wrap(MediaDevices.prototype, "enumerateDevices", "mediaDevices");
  if (navigator.geolocation) wrap(Geolocation.prototype, "getCurrentPosition", "geolocation");
  if (document.fonts) wrap(FontFaceSet.prototype, "check", "fonts.check");
  const plugins = Object.getOwnPropertyDescriptor(Navigator.prototype, "plugins");
  Object.defineProperty(Navigator.prototype, "plugins", { get() { record("plugins"); return plugins.get.call(this); } });
}

/** A new page with the audit script, console capture and request log. */
export async function auditedPage(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  await context.addInitScript(auditInitScript);
  const page = await context.newPage();
  const consoleMessages = [];
  const requests = [];
  const pageErrors = [];
  page.on("console", (m) => consoleMessages.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  return { context, page, consoleMessages, requests, pageErrors };
}

/** Audit entries whose stack passes through the SDK's files. */
export async function sdkAudit(page) {
  const log = await page.evaluate(() => window.__audit.map((e) => ({ ...e })));
  return log.filter((e) => /\/sdk\/|tailor/.test(e.stack));
}

/** What the page's origin holds in every storage, read from the test (not the page). */
export async function storageSnapshot(page) {
  const state = await page.context().storageState({ indexedDB: true });
  const session = await page.evaluate(() => sessionStorage.length);
  const dbs = await page.evaluate(async () => (indexedDB.databases ? (await indexedDB.databases()).length : 0));
  const caches = await page.evaluate(async () => (await window.caches?.keys())?.length ?? 0);
  return {
    cookies: state.cookies.length,
    localStorage: state.origins.reduce((n, o) => n + o.localStorage.length, 0),
    sessionStorage: session,
    indexedDB: dbs,
    caches,
  };
}
