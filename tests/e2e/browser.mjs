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

/**
 * Headless Chromium with a browser profile on disk at `dir`: a returning visitor's
 * browser, whose HTTP cache and V8 code caches (JavaScript and WebAssembly) persist
 * from one page to the next. Contexts from `browser.newContext()` are off the record:
 * Chromium keeps no code cache for them. Returns the BrowserContext.
 */
export function launchProfile(dir, options = {}) {
  return chromium.launchPersistentContext(dir, { executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS, ...options });
}

// Runs in the page before any page script. Wraps storage, network and fingerprinting
// APIs; every call lands in window.__audit with the calling stack.
export function auditInitScript() {
  const log = [];
  Object.defineProperty(window, "__audit", { value: log });
  // Deep stacks, so that a call made by the SDK from inside a CMP's callback (or a CMP
  // call made from the SDK) still shows the SDK's frames.
  const record = (api, detail, extra) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack;
    Error.stackTraceLimit = limit;
    log.push({ api, detail: String(detail ?? ""), ...(extra ? { extra } : {}), stack });
  };
  const wrap = (obj, name, api, extra) => {
    const original = obj?.[name];
    if (typeof original !== "function") return;
    obj[name] = function (...args) {
      record(api, args[0], extra?.(args));
      return original.apply(this, args);
    };
  };
  const getter = (proto, name, api) => {
    const d = proto && Object.getOwnPropertyDescriptor(proto, name);
    if (!d?.get) return;
    Object.defineProperty(proto, name, { ...d, get() { record(api); return d.get.call(this); } });
  };
  // Storage: Web Storage, cookies (document.cookie and the Cookie Store API), IndexedDB,
  // Cache Storage, the origin private file system, service workers, window.name.
  for (const m of ["setItem", "getItem", "removeItem", "clear", "key"]) wrap(Storage.prototype, m, `Storage.${m}`);
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    get() { record("cookie.get"); return cookie.get.call(this); },
    set(v) { record("cookie.set", v); cookie.set.call(this, v); },
  });
  if (window.CookieStore) for (const m of ["get", "getAll", "set", "delete"]) wrap(CookieStore.prototype, m, `cookieStore.${m}`);
  for (const m of ["open", "deleteDatabase", "databases"]) wrap(IDBFactory.prototype, m, `indexedDB.${m}`);
  if (window.caches) for (const m of ["open", "has", "match", "keys", "delete"]) wrap(CacheStorage.prototype, m, `caches.${m}`);
  if (navigator.storage?.getDirectory) wrap(StorageManager.prototype, "getDirectory", "OPFS");
  if (navigator.storage?.persist) wrap(StorageManager.prototype, "persist", "storage.persist");
  if (navigator.serviceWorker) wrap(ServiceWorkerContainer.prototype, "register", "serviceWorker.register");
  try {
    const holder = Object.getOwnPropertyDescriptor(window, "name") ? window : Window.prototype;
    const winName = Object.getOwnPropertyDescriptor(holder, "name");
    if (winName?.set) Object.defineProperty(holder, "name", { ...winName, set(v) { record("window.name.set", v); winName.set.call(this, v); } });
  } catch {
    /* not redefinable in this browser: window.name is then checked by value */
  }
  // Network.
  wrap(window, "fetch", "fetch", (args) => {
    const init = args[1] ?? {};
    return { credentials: init.credentials ?? null, referrerPolicy: init.referrerPolicy ?? null, method: init.method ?? "GET", body: init.body == null ? null : String(init.body) };
  });
  wrap(XMLHttpRequest.prototype, "open", "xhr", (args) => ({ method: args[0], url: String(args[1]) }));
  wrap(XMLHttpRequest.prototype, "send", "xhr.send");
  wrap(Navigator.prototype, "sendBeacon", "sendBeacon", (args) => ({ body: args[1] == null ? null : String(args[1]) }));
  for (const ctor of ["WebSocket", "EventSource"]) {
    const Original = window[ctor];
    if (typeof Original !== "function") continue;
    window[ctor] = new Proxy(Original, { construct(target, args) { record(ctor, args[0]); return Reflect.construct(target, args); } });
  }
  // Fingerprinting surfaces and geolocation.
  wrap(HTMLCanvasElement.prototype, "toDataURL", "canvas.toDataURL");
  wrap(HTMLCanvasElement.prototype, "toBlob", "canvas.toBlob");
  wrap(CanvasRenderingContext2D.prototype, "getImageData", "canvas.getImageData");
  wrap(CanvasRenderingContext2D.prototype, "measureText", "canvas.measureText");
  for (const GL of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    for (const m of ["getParameter", "getExtension", "getSupportedExtensions", "readPixels"]) wrap(GL?.prototype, m, `webgl.${m}`);
  }
  for (const ctor of ["AudioContext", "OfflineAudioContext"]) {
    const Original = window[ctor];
    if (typeof Original !== "function") continue;
    window[ctor] = new Proxy(Original, { construct(target, args) { record(`audio.${ctor}`); return Reflect.construct(target, args); } });
  }
  if (window.AudioContext) wrap(AudioContext.prototype, "createAnalyser", "audio.createAnalyser");
  if (navigator.getBattery) wrap(Navigator.prototype, "getBattery", "battery");
  if (navigator.mediaDevices) wrap(MediaDevices.prototype, "enumerateDevices", "mediaDevices");
  if (navigator.geolocation) for (const m of ["getCurrentPosition", "watchPosition"]) wrap(Geolocation.prototype, m, "geolocation");
  if (document.fonts) for (const m of ["check", "load"]) wrap(FontFaceSet.prototype, m, `fonts.${m}`);
  if (navigator.userAgentData) wrap(NavigatorUAData.prototype, "getHighEntropyValues", "userAgentData.getHighEntropyValues");
  getter(Navigator.prototype, "plugins", "plugins");
  getter(Navigator.prototype, "mimeTypes", "mimeTypes");
  getter(Navigator.prototype, "hardwareConcurrency", "hardwareConcurrency");
  getter(Navigator.prototype, "deviceMemory", "deviceMemory");
}

/** A new page with the audit script, console capture and request log. */
export async function auditedPage(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  await context.addInitScript(auditInitScript);
  return observedPage(context);
}

/** A new page in `context`, with console capture and request log. */
export async function observedPage(context) {
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
