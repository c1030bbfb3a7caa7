// make bench: Tailor's weight, cold start, decision latency, capture cost and memory,
// beside GrowthBook (and Optimizely and Flipt for weight), in headless Chromium.
// Prints a table and writes target/bench.json. A benchmark, not a test: it fails only
// when something cannot run, never because a number misses its budget.
//
// Environment: BENCH_LOADS (page loads per cold-start series, default 30),
// BENCH_RUNS (decision rounds, default 1000), BENCH_EVENTS (burst size, default
// 10000), BENCH_CPU_PROFILE=1 (also writes target/bench/decide.cpuprofile, a Chromium
// CPU profile of the decision loops, and cold-<sdk>-<cache>.cpuprofile of the last
// cold-start load of each series: open them in DevTools' Performance panel),
// BENCH_TRACE=1 (a Chromium trace of that load, cold-<sdk>-<cache>.trace.json, with
// V8's wasm compilation events: open it in DevTools or chrome://tracing),
// BENCH_SDK=<folder> (measure another build of pkg/dist, e.g. an older commit's, with
// this commit's fixtures and pages).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);
const OUT = "target/bench";
const LOADS = Number(process.env.BENCH_LOADS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10000);
const started = Date.now();
const loadAtStart = loadavg().map((x) => x.toFixed(1)).join(" ");

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
const say = (m) => console.error(`bench: ${m}`);

const SDK = process.env.BENCH_SDK ?? "pkg/dist";
for (const f of ["tailor.min.js", "tailor_bg.wasm", "browser.js"]) {
  if (!existsSync(`${SDK}/${f}`)) fail(`${SDK}/${f} is missing: run \`make build\` (or \`make bench\`, which builds first)`);
}
const GB_DIR = "node_modules/@growthbook/growthbook/dist/bundles";
if (!existsSync(`${GB_DIR}/auto.min.js`)) fail(`${GB_DIR}/auto.min.js is missing: run \`make setup\` (npm dev dependencies)`);
let setup, launchProfile;
try {
  ({ setup, launchProfile } = await import("../tests/e2e/browser.mjs"));
} catch (e) {
  fail(`cannot load playwright-core (${e.message}): run \`make setup\``);
}

// --- fixtures and native timings (same data as the browser runs) ----------------------

mkdirSync(`${OUT}/shop`, { recursive: true });
say("fixtures and native timings (cargo run --release --example synthetic / bench)");
const cargo = (args) => execFileSync("cargo", ["run", "--quiet", "--release", ...args], { maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "inherit"] }).toString();
writeFileSync(`${OUT}/fixtures.json`, cargo(["--example", "synthetic"]));
const fixtures = JSON.parse(readFileSync(`${OUT}/fixtures.json`, "utf8"));
const native = JSON.parse(cargo(["--example", "bench", "--", "2000"]));

// --- weight ------------------------------------------------------------------------------

const gz = (file) => execFileSync("gzip", ["-9c", file], { maxBuffer: 64 << 20 }).length;
function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")).version;
  } catch {
    return null;
  }
}
// What to add when a peer is missing (checked with `npm view <pkg> version`).
const PEERS = { "@optimizely/optimizely-sdk": "6.6.1", "@flipt-io/flipt-client-js": "0.5.1" };
function weightRow(label, files, pkg) {
  if (pkg && !installedVersion(pkg)) return { label, missing: `not installed (npm i -D ${pkg}@${PEERS[pkg]})` };
  const paths = files.map((f) => (pkg ? `node_modules/${pkg}/${f}` : f));
  const missing = paths.find((p) => !existsSync(p));
  if (missing) return { label, missing: `${missing} not found` };
  const parts = paths.map((p) => ({ file: p, gzip: gz(p), raw: readFileSync(p).length }));
  return { label, version: pkg ? installedVersion(pkg) : null, parts, gzip: parts.reduce((a, p) => a + p.gzip, 0), raw: parts.reduce((a, p) => a + p.raw, 0) };
}
const weight = {
  scriptTag: weightRow("Tailor script tag (tailor.min.js + tailor_bg.wasm)", [`${SDK}/tailor.min.js`, `${SDK}/tailor_bg.wasm`]),
  npmBrowser: weightRow("Tailor npm browser entry (dist/browser.js + .wasm)", [`${SDK}/browser.js`, `${SDK}/tailor_bg.wasm`]),
  gbAuto: weightRow("GrowthBook auto.min.js (script tag)", ["dist/bundles/auto.min.js"], "@growthbook/growthbook"),
  gbIndex: weightRow("GrowthBook index.min.js", ["dist/bundles/index.min.js"], "@growthbook/growthbook"),
  optimizely: weightRow("Optimizely browser UMD (optimizely.browser.umd.min.js)", ["dist/optimizely.browser.umd.min.js"], "@optimizely/optimizely-sdk"),
  flipt: weightRow("Flipt (dist/slim/index.mjs + engine .wasm)", ["dist/slim/index.mjs", "dist/flipt_engine_wasm_js_bg.wasm"], "@flipt-io/flipt-client-js"),
  fliptInline: weightRow("Flipt (dist/browser/index.mjs, .wasm inlined)", ["dist/browser/index.mjs"], "@flipt-io/flipt-client-js"),
};

// --- pages ------------------------------------------------------------------------------

const slotsHtml = fixtures.expected.map((d, i) => `    <div data-tailor-slot="${d.slot}">Default ${i}</div>`).join("\n");
const measure = readFileSync("bench/measure.js", "utf8");
const inlineJson = (v) => (typeof v === "string" ? v : JSON.stringify(v)).replace(/</g, "\\u003c");
const fill = (template, parts) => Object.entries(parts).reduce((t, [k, v]) => t.split(k).join(v), readFileSync(template, "utf8"));
const tailorPage = (preload) => fill("bench/cold-tailor.html", { "/*MEASURE*/": measure, "<!--SLOTS-->": slotsHtml, "/*RULES*/": fixtures.rules.replace(/<\//g, "<\\/"), "<!--PRELOAD-->": preload });
writeFileSync(`${OUT}/shop/shoes`, tailorPage(""));
writeFileSync(`${OUT}/shop/shoes-preload`, tailorPage('  <link rel="preload" href="/sdk/tailor_bg.wasm" as="fetch" crossorigin="anonymous">'));
const gbConfig = { payload: { features: {}, experiments: fixtures.growthbook.auto }, attributes: fixtures.growthbook.attributes, noStreaming: true };
writeFileSync(`${OUT}/cold-growthbook.html`, fill("bench/cold-growthbook.html", { "/*MEASURE*/": measure, "<!--SLOTS-->": slotsHtml, "/*GROWTHBOOK_CONFIG*/": inlineJson(gbConfig) }));
for (const [page, script] of [["cold-floor.html", "floor.js"], ["cold-wasm-floor.html", "wasm-floor.js"]]) {
  writeFileSync(`${OUT}/${page}`, fill("bench/cold-floor.html", { "/*MEASURE*/": measure, "<!--SLOTS-->": slotsHtml, FLOOR_SCRIPT: script }));
}
for (const f of ["decide.html", "decide.js"]) copyFileSync(`bench/${f}`, `${OUT}/${f}`);

// The scripts the pages load are served from copies whose first statement records
// when the script starts executing (window.__bench.exec): the issue's cold start runs
// from there, for every SDK alike. The files weighed above are the originals.
const EXEC_MARK = "window.__bench&&(window.__bench.exec??=performance.now());\n";
function serveCopy(from, to, marked) {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    if (!statSync(`${from}/${f}`).isFile()) continue;
    if (marked.includes(f)) writeFileSync(`${to}/${f}`, EXEC_MARK + readFileSync(`${from}/${f}`, "utf8"));
    else copyFileSync(`${from}/${f}`, `${to}/${f}`);
  }
}
serveCopy(SDK, `${OUT}/served/sdk`, ["tailor.min.js"]);
serveCopy(GB_DIR, `${OUT}/served/gb`, ["auto.min.js"]);
serveCopy("bench/floor", `${OUT}/served/sdk-floor`, ["floor.js", "wasm-floor.js"]);
copyFileSync(`${SDK}/tailor_bg.wasm`, `${OUT}/served/sdk-floor/tailor_bg.wasm`);

// --- the browser --------------------------------------------------------------------------

let cache = "cold";
const isolation = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
const env = await setup({
  mounts: [["/shop/", `${OUT}/shop`], ["/bench/", OUT], ["/gb/", `${OUT}/served/gb`], ["/sdk/", `${OUT}/served/sdk`], ["/sdk-floor/", `${OUT}/served/sdk-floor`]],
  // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
  extraHeaders: (path) => ({
    ...isolation,
    ...(path.startsWith("/shop/") ? { "content-type": "text/html; charset=utf-8" } : {}),
    ...(cache === "warm" && /^\/(sdk|sdk-floor|gb)\//.test(path) ? { "cache-control": "public, max-age=3600" } : {}),
  }),
});
const { browser, base } = env;
const TAILOR_URL = `${base}shop/shoes?utm_campaign=spring&utm_medium=email`;
const TAILOR_PRELOAD_URL = `${base}shop/shoes-preload?utm_campaign=spring&utm_medium=email`;
const GB_URL = `${base}bench/cold-growthbook.html`;
const FLOOR_URL = `${base}bench/cold-floor.html`;
const WASM_FLOOR_URL = `${base}bench/cold-wasm-floor.html`;

// Every page sees the synthetic visitor: an iPhone in French, at the fixtures' time
// (Date starts at fixtures.now and runs on; performance.now() is untouched), and not
// flagged as automated (Tailor does not enrol navigator.webdriver browsers).
function visitorScript({ now }) {
  const RealDate = Date;
  const offset = now - RealDate.now();
  function FakeDate(...args) {
    if (!new.target) return new RealDate(RealDate.now() + offset).toString();
    return args.length ? new RealDate(...args) : new RealDate(RealDate.now() + offset);
  }
  FakeDate.prototype = RealDate.prototype;
  FakeDate.now = () => RealDate.now() + offset;
  FakeDate.UTC = RealDate.UTC;
  FakeDate.parse = RealDate.parse;
  globalThis.Date = FakeDate;
  Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false, configurable: true });
  // The wasm linear memory, whoever instantiates a module.
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    if (typeof original !== "function") continue;
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then((r) => {
        const instance = r instanceof WebAssembly.Instance ? r : r.instance;
        if (instance?.exports?.memory) window.__wasmMemory = instance.exports.memory;
        return r;
      });
    };
  }
}

function seedScript(seed) {
  if (!location.pathname.startsWith("/shop/shoes")) return;
  for (const [k, v] of Object.entries(seed)) localStorage.setItem(k, v);
}

function writeCounter() {
  const log = [];
  Object.defineProperty(window, "__writes", { value: log });
  const original = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    log.push({ t: performance.now(), key: String(key), chars: String(value).length });
    return original.call(this, key, value);
  };
}

// The synthetic visitor's browser: off the record (a first visit, nothing cached), or,
// with `profileDir`, a browser profile on disk that keeps its HTTP and code caches (a
// returning visitor: see launchProfile).
async function visitorContext(extra = [], profileDir = null) {
  const options = {
    locale: "fr-FR",
    timezoneId: "UTC",
    userAgent: fixtures.page.userAgent,
    viewport: { width: fixtures.page.viewportWidth, height: 844 },
  };
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  const context = profileDir ? await launchProfile(profileDir, options) : await browser.newContext(options);
  await context.addInitScript(visitorScript, { now: fixtures.now });
  for (const [fn, arg] of extra) await context.addInitScript(fn, arg);
  return context;
}

const pageErrors = [];
function watch(page, label) {
  page.on("pageerror", (e) => pageErrors.push(`${label}: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(`${label}: console.error ${m.text()}`));
}

async function tailorReady(page) {
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor), null, { timeout: 15000 });
  await page.evaluate(() => window.tailor.ready);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.round((s.length - 1) * p)];
  return { n: s.length, median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
};

// --- decision latency -------------------------------------------------------------------------

say(`decision latency: ${RUNS} rounds each, Tailor and GrowthBook in one page`);
const decide = await (async () => {
  const page = await browser.newPage();
  watch(page, "decide");
  await page.goto(`${base}bench/decide.html`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
  let cdp = null;
  if (process.env.BENCH_CPU_PROFILE === "1") {
    cdp = await page.context().newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
    await cdp.send("Profiler.start");
  }
  const r = await page.evaluate((n) => window.benchDecide(n), RUNS);
  if (cdp) {
    const { profile } = await cdp.send("Profiler.stop");
    writeFileSync(`${OUT}/decide.cpuprofile`, JSON.stringify(profile));
  }
  await page.close();
  return r;
})();

// --- cold start -----------------------------------------------------------------------------

// A returning visitor who granted personalization earlier: the consent record, the
// 1,000-event profile and the visitor id are in localStorage before the page loads.
say("cold start: preparing the returning visitor's consent record");
const seed = await (async () => {
  const context = await visitorContext();
  const page = await context.newPage();
  watch(page, "consent set-up");
  await page.goto(TAILOR_URL);
  await tailorReady(page);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  const stored = await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).filter((k) => k.startsWith("tailor:")).map((k) => [k, localStorage.getItem(k)])));
  await context.close();
  if (!stored["tailor:consent"]) fail("granting personalization stored no consent record");
  return { ...stored, "tailor:p:profile": fixtures.profile, "tailor:p:id": fixtures.unit };
})();

// The slots each page ends up filling (GrowthBook applies every experiment the
// visitor is enrolled in; see bench/decide.js), to know when a load is complete.
const filled = {
  tailor: fixtures.expected.filter((d) => d.text).length,
  tailorPreload: fixtures.expected.filter((d) => d.text).length,
  growthbook: Object.values(decide.check.gbShows).filter(Boolean).length,
  floor: fixtures.expected.length,
  wasmFloor: fixtures.expected.length,
};

// A Chromium trace of one page through its DevTools session (browser.startTracing
// needs the launched browser, which a browser profile on disk does not expose).
async function startTrace(page) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on("Tracing.dataCollected", ({ value }) => events.push(...value));
  // disabled-by-default-devtools.timeline has the .wasm code cache events (v8.wasm.moduleCacheHit, cachedModule).
  const categories = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.wasm", "disabled-by-default-v8.compile", "blink.user_timing", "loading"];
  await cdp.send("Tracing.start", { traceConfig: { includedCategories: categories }, transferMode: "ReportEvents" });
  return {
    async stop() {
      const complete = new Promise((ok) => cdp.once("Tracing.tracingComplete", ok));
      await cdp.send("Tracing.end");
      await complete;
      await cdp.detach();
      return events;
    },
  };
}

async function coldStart(kind, mode) {
  cache = mode;
  const url = { tailor: TAILOR_URL, tailorPreload: TAILOR_PRELOAD_URL, growthbook: GB_URL, floor: FLOOR_URL, wasmFloor: WASM_FLOOR_URL }[kind];
  const extra = kind.startsWith("tailor") ? [[seedScript, seed]] : [];
  // Warm: a returning visitor's browser profile, after two visits that stay long enough
  // for V8 to write its code caches (the .wasm's a few seconds after its last tier-up).
  const warmups = mode === "warm" ? 2 : 0;
  const runs = [];
  let context = null;
  for (let i = 0; i < LOADS + warmups; i++) {
    if (!context) context = await visitorContext(extra, mode === "warm" ? `${OUT}/profile-${kind}` : null);
    const page = await context.newPage();
    watch(page, `cold start ${kind}`);
    const profiled = process.env.BENCH_CPU_PROFILE === "1" && i === LOADS + warmups - 1 ? await page.context().newCDPSession(page) : null;
    if (profiled) {
      await profiled.send("Profiler.enable");
      await profiled.send("Profiler.setSamplingInterval", { interval: 50 });
      await profiled.send("Profiler.start");
    }
    const traced = process.env.BENCH_TRACE === "1" && i === LOADS + warmups - 1;
    const tracing = traced ? await startTrace(page) : null;
    await page.goto(url);
    try {
      await page.waitForFunction(() => window.__bench.first !== null, null, { timeout: 10000 });
    } catch {
      fail(`${kind} (${mode}): no slot changed within 10 s of loading ${url}`);
    }
    // Every slot that will change has changed (or half a second passed: the check below reports it).
    await page.waitForFunction((n) => Object.keys(window.__bench.slots).length >= n, filled[kind], { timeout: 500 }).catch(() => {});
    const r = await page.evaluate(() => {
      const res = performance.getEntriesByType("resource").filter((e) => /\/(sdk|sdk-floor|gb)\//.test(e.name));
      return {
        t0: window.__bench.t0,
        exec: window.__bench.exec ?? null,
        first: window.__bench.first,
        slots: window.__bench.slots,
        transferred: res.reduce((a, e) => a + e.transferSize, 0),
        // Tailor's start-up steps (User Timing marks "tailor:*") and the .wasm download.
        steps: Object.fromEntries([
          ...performance.getEntriesByType("mark").filter((m) => m.name.startsWith("tailor:")).map((m) => [m.name.slice(7), m.startTime]),
          ...res.filter((e) => e.name.endsWith(".wasm")).flatMap((e) => [["fetch", e.startTime], ["fetched", e.responseEnd]]),
        ].map(([k, t]) => [k, t - (window.__bench.exec ?? window.__bench.t0)])),
        texts: Object.fromEntries([...document.querySelectorAll("[data-tailor-slot]")].map((el) => [el.getAttribute("data-tailor-slot"), el.textContent.startsWith("Offer ") ? el.textContent : null])),
      };
    });
    if (tracing) writeFileSync(`${OUT}/cold-${kind}-${mode}.trace.json`, JSON.stringify({ traceEvents: await tracing.stop() }));
    if (i < warmups) await page.waitForTimeout(4000);
    if (profiled) writeFileSync(`${OUT}/cold-${kind}-${mode}.cpuprofile`, JSON.stringify((await profiled.send("Profiler.stop")).profile));
    await page.close();
    if (mode === "cold") {
      await context.close();
      context = null;
    }
    if (i >= warmups) runs.push(r);
  }
  await context?.close();
  cache = "cold";
  if (runs.some((r) => r.exec === null)) fail(`${kind} (${mode}): the script's first statement never ran (window.__bench.exec unset)`);
  const fromTag = runs.map((r) => r.first - r.t0);
  const fromExec = runs.map((r) => r.first - r.exec);
  const lastMs = runs.map((r) => Math.max(...Object.values(r.slots)) - r.exec);
  const stepNames = Object.keys(runs[0].steps);
  const steps = Object.fromEntries(stepNames.map((k) => [k, stats(runs.map((r) => r.steps[k] ?? NaN)).median]));
  return { kind, mode, loads: runs.length, steps, first: stats(fromExec), fromTag: stats(fromTag), allSlots: stats(lastMs), scriptStarts: stats(runs.map((r) => r.exec - r.t0)), transferred: stats(runs.map((r) => r.transferred)).median, texts: runs[runs.length - 1].texts };
}

const cold = {};
for (const mode of ["cold", "warm"]) {
  for (const kind of ["tailor", "tailorPreload", "growthbook", "floor", "wasmFloor"]) {
    say(`cold start: ${kind}, ${mode} cache, ${LOADS} loads`);
    cold[`${kind}-${mode}`] = await coldStart(kind, mode);
  }
}

// --- capture cost and memory ----------------------------------------------------------------

say(`capture: a burst of ${EVENTS} tailor.track() calls`);
const capture = await (async () => {
  const context = await visitorContext([[writeCounter]]);
  const page = await context.newPage();
  watch(page, "capture");
  await page.goto(TAILOR_URL);
  await tailorReady(page);
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await page.waitForTimeout(600); // the grant's own writes settle
  const before = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? null);
  const r = await page.evaluate(async (n) => {
    const chunk = 50;
    const props = { category: "shoes", price: 5, email: "dropped@example.com" };
    const w0 = window.__writes.length;
    const perEvent = [];
    let inTrack = 0;
    let stored = 0;
    const t0 = performance.now();
    for (let done = 0; done < n; done += chunk) {
      const a = performance.now();
      for (let i = 0; i < chunk; i++) if (window.tailor.track("view_item", props)) stored++;
      const d = performance.now() - a;
      inTrack += d;
      perEvent.push((d * 1000) / chunk);
      await new Promise((ok) => setTimeout(ok, 10)); // a busy page: events keep coming
    }
    const t1 = performance.now();
    const writes = window.__writes.slice(w0).filter((w) => w.t <= t1);
    const profileWrites = writes.filter((w) => w.key === "tailor:p:profile");
    return {
      events: n,
      stored,
      seconds: (t1 - t0) / 1000,
      trackUsPerEvent: (inTrack * 1000) / n,
      perChunkUs: perEvent,
      writes: writes.length,
      profileWrites: profileWrites.length,
      writesPerSecond: writes.length / ((t1 - t0) / 1000),
      profileChars: profileWrites.at(-1)?.chars ?? null,
      keys: [...new Set(writes.map((w) => w.key))],
    };
  }, EVENTS);
  const after = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? null);
  const summary = await page.evaluate(() => window.tailor.inventory().profile);
  await context.close();
  const { perChunkUs, ...rest } = r;
  return { ...rest, trackUs: stats(perChunkUs), memoryBefore: before, memoryAfter: after, profile: summary };
})();

const chromium = browser.version();
await env.close();

// --- report -------------------------------------------------------------------------------------

const budgets = {
  scriptTagGzip: 40_000, // bytes ("40 KB", the unit of the peers' published sizes)
  coldStartMedianMs: 10,
  decideRatio: 0.5,
  trackUs: 2,
  writesPerSecond: 4,
};
const ratio = decide.tailor.median / decide.gbFeatures.median;
const verdict = (ok) => (ok ? "pass" : "MISS");
const n0 = (x) => (x == null ? "—" : Math.round(x).toLocaleString("en-US"));
const f1 = (x) => (x == null ? "—" : x.toFixed(1));
const f2 = (x) => (x == null ? "—" : x.toFixed(2));
const msPair = (s) => `${f1(s.median)} / ${f1(s.p95)} ms`;
const us = (s) => `${n0(s.median)} µs`;

const rows = [];
const section = (title, head = "") => rows.push({ title, head });
const row = (what, value, beside = "", budget = "", status = "") => rows.push({ cells: [`  ${what}`, value, beside, budget, status] });
const note = (text) => rows.push({ note: `    ${text}` });

section("Weight: gzip -9 bytes", "beside: per file");
for (const [key, w] of Object.entries(weight)) {
  const scriptTag = key === "scriptTag";
  if (w.missing) row(w.label, w.missing);
  else row(`${w.label}${w.version ? ` ${w.version}` : ""}`, n0(w.gzip), w.parts.length > 1 ? w.parts.map((p) => n0(p.gzip)).join(" + ") : "", scriptTag ? `≤ ${n0(budgets.scriptTagGzip)}` : "", scriptTag ? verdict(w.gzip <= budgets.scriptTagGzip) : "");
}

section(`Cold start: the script starts executing → first slot showing its variant, median / p95 of ${LOADS} loads`, "beside: GrowthBook auto.min.js");
for (const mode of ["cold", "warm"]) {
  const t = cold[`tailor-${mode}`];
  const g = cold[`growthbook-${mode}`];
  const f = cold[`floor-${mode}`];
  row(`Tailor, ${mode} cache`, msPair(t.first), msPair(g.first), `median ≤ ${budgets.coldStartMedianMs} ms`, verdict(t.first.median <= budgets.coldStartMedianMs));
  row(`  until every slot is filled`, msPair(t.allSlots), msPair(g.allSlots));
  row(`  from the tag (page level: the script's download and wait come first)`, msPair(t.fromTag), msPair(g.fromTag));
  const p = cold[`tailorPreload-${mode}`];
  row(`  with a .wasm preload hint (no longer recommended: the .wasm request omits cookies, so the preload does not match it)`, msPair(p.first), `from the tag ${msPair(p.fromTag)}`);
  row(`  floor: a script that only fills the slots`, msPair(f.first), `from the tag ${msPair(f.fromTag)}`);
  const w = cold[`wasmFloor-${mode}`];
  row(`  floor with Tailor's .wasm: fetched, compiled, instantiated, then fill`, msPair(w.first), `from the tag ${msPair(w.fromTag)}`);
  const at = (k) => (Number.isFinite(t.steps[k]) ? f1(t.steps[k]) : "–");
  note(`Tailor's steps, median ms after the script starts (${f1(t.scriptStarts.median)} ms after the tag): .wasm requested ${at("fetch")}, downloaded ${at("fetched")}, compiled ${at("wasm")}; consent ${at("consent")}, rules read ${at("rules")}, engine ${at("engine")}, profile loaded and decided and applied ${at("decided")} (Tailor's own work once the .wasm is ready: ${f1(t.steps.decided - t.steps.wasm)} ms)`);
}
note("returning visitor (consent given, 1,000-event profile in localStorage); rules inline in the page;");
note("cold: a first visit (a new off-the-record context per load, nothing cached); warm: a returning visitor (one browser");
note("profile on disk, scripts served with max-age, after two 4 s visits: HTTP cache and V8's JS and wasm code caches)");

section(`Decisions: every slot, ${fixtures.experiences} experiences, ${fixtures.conditions} conditions, ${fixtures.events} events (median of ${RUNS})`, "beside: GrowthBook 1.8.0 in the same page");
row("Tailor Engine.decide()", us(decide.tailor), `${us(decide.gbFeatures)} (${decide.features} features)`, "≤ 0.5× GrowthBook", verdict(ratio <= budgets.decideRatio));
row("  Tailor / GrowthBook", `${f2(ratio)}×`, `${f2(decide.tailor.median / decide.gbSlots.median)}× vs ${us(decide.gbSlots)} (${decide.slots} slot features)`);
row("  reading every summary + explanation", us(decide.tailorExplained), `${n0(decide.explainedBytes)} bytes of explanations`);
row("  core only (no JSON.parse)", us(decide.tailorCore));
row("  native decide_round (--release)", `${f1(native.decideRound.median)} µs`, `decide_all with explanations ${f1(native.decideAll.median)} µs`);

section(`Capture: ${n0(capture.events)} tailor.track() calls, 50 every 10 ms, personalization granted`);
row("track() per event, mean (median chunk)", `${f2(capture.trackUsPerEvent)} (${f2(capture.trackUs.median)}) µs`, `native record_event ${f2(native.track.median)} µs`, `≤ ${budgets.trackUs} µs`, verdict(capture.trackUsPerEvent <= budgets.trackUs));
row("storage writes per second", f2(capture.writesPerSecond), `${capture.writes} setItem in ${f2(capture.seconds)} s`, `≤ ${budgets.writesPerSecond}/s`, verdict(capture.writesPerSecond <= budgets.writesPerSecond));
row("stored profile afterwards", `${n0(capture.profileChars)} chars`, `${capture.profile?.events ?? "—"} events + ${capture.profile?.rollups ?? "—"} rollups`);

section("Memory: wasm linear memory (WebAssembly.Memory buffer.byteLength)");
row(`after ${n0(capture.events)} events`, `${n0(capture.memoryAfter)} bytes`, `${n0(capture.memoryBefore)} before the burst`);

const checks = [];
if (!decide.check.matchesNative) checks.push("Tailor's decisions in Chromium differ from the native reference");
if (decide.check.mismatches.length) checks.push(`GrowthBook disagrees on ${decide.check.mismatches.length} experiences: ${decide.check.mismatches.join("; ")}`);
const expectTexts = Object.fromEntries(fixtures.expected.map((d) => [d.slot, d.text]));
for (const mode of ["cold", "warm"]) {
  const t = cold[`tailor-${mode}`].texts;
  const p = cold[`tailorPreload-${mode}`].texts;
  const g = cold[`growthbook-${mode}`].texts;
  for (const slot of Object.keys(expectTexts)) {
    if (t[slot] !== expectTexts[slot]) checks.push(`cold start (${mode}): Tailor's page shows ${JSON.stringify(t[slot])} in ${slot}, expected ${JSON.stringify(expectTexts[slot])}`);
    if (p[slot] !== expectTexts[slot]) checks.push(`cold start (${mode}): Tailor's page with the preload hint shows ${JSON.stringify(p[slot])} in ${slot}, expected ${JSON.stringify(expectTexts[slot])}`);
    if (g[slot] !== decide.check.gbShows[slot]) checks.push(`cold start (${mode}): GrowthBook's page shows ${JSON.stringify(g[slot])} in ${slot}, expected ${JSON.stringify(decide.check.gbShows[slot])}`);
  }
}
if (capture.stored !== capture.events) checks.push(`only ${capture.stored} of ${capture.events} events were stored`);

const cellRows = rows.filter((r) => r.cells);
const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...cellRows.map((r) => String(r.cells[i]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd();
const load = loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`\nTailor bench: headless Chromium ${chromium}, ${cpus().length} CPUs, load average ${loadAtStart} at start / ${load} at end, ${Math.round((Date.now() - started) / 1000)} s`);
for (const r of rows) {
  if (r.title) console.log(`\n${r.title}${r.head ? ` (${r.head})` : ""}`);
  else if (r.note) console.log(r.note);
  else console.log(line(r.cells));
}
console.log("\nChecks (same data, same answers):");
console.log(`  Tailor in Chromium decides as the native reference: ${decide.check.matchesNative ? "yes" : "NO"}`);
console.log(`  GrowthBook agrees on all ${decide.check.compared} experiences Tailor evaluated: ${decide.check.mismatches.length ? "NO" : "yes"}`);
for (const d of decide.check.slotDiffs) console.log(`  by design, slot features differ: ${d}`);
for (const c of checks) console.log(`  WARNING: ${c}`);
for (const e of [...new Set(pageErrors)]) console.log(`  page error: ${e}`);
const missingPeers = Object.entries(PEERS).filter(([p]) => !installedVersion(p));
if (missingPeers.length) console.log(`  to weigh every peer: npm i -D ${missingPeers.map(([p, v]) => `${p}@${v}`).join(" ")}`);
if (loadavg()[0] > cpus().length) console.log(`  note: the machine was busy (load ${load} on ${cpus().length} CPUs): timings are inflated and noisy; ratios measured side by side hold best`);

const report = {
  date: new Date().toISOString(),
  chromium,
  machine: { cpus: cpus().length, loadAtStart, loadAtEnd: load },
  fixtures: { experiences: fixtures.experiences, conditions: fixtures.conditions, events: fixtures.events, rollups: fixtures.rollups, now: fixtures.now, unit: fixtures.unit },
  budgets,
  weight,
  coldStart: cold,
  decide: { ...decide, ratio },
  native,
  capture,
  checks,
  pageErrors: [...new Set(pageErrors)],
};
writeFileSync("target/bench.json", JSON.stringify(report, null, 2));
console.log(`\nwrote target/bench.json`);
