// Times two builds of the npm package against each other in headless Chromium:
//   node scripts/compare-builds.mjs <pkgA> <pkgB> [runs]
// (each a copy of pkg/ after scripts/build.sh). Both builds load in one page and decide
// the bench's 100-experience document with its 1,000-event profile (examples/synthetic.rs)
// in interleaved pairs, alternating which goes first; prints each build's median and the
// median of the paired ratios B/A. The README's "Design: what is hand-written" table was
// measured with it. The page is cross-origin isolated (performance.now() at 5 µs).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chromium } from "playwright-core";

const [a, b] = process.argv.slice(2, 4).map((d) => resolve(d ?? ""));
const RUNS = Number(process.argv[4] ?? 2000);
if (!process.argv[3]) throw new Error("usage: node scripts/compare-builds.mjs <pkgA> <pkgB> [runs]");
const fixtures = execFileSync("cargo", ["run", "--quiet", "--release", "--example", "synthetic"], { maxBuffer: 1 << 26 });
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS });
const page = await browser.newPage();
// localhost: a trustworthy origin, so the isolation headers count. Nothing listens there;
// every request is answered here.
await page.route("http://localhost:9/**", (route) => {
  const path = new URL(route.request().url()).pathname;
  if (path === "/") return route.fulfill({ headers, contentType: "text/html", body: "<!doctype html><title>compare</title>" });
  if (path === "/fixtures.json") return route.fulfill({ headers, contentType: "application/json", body: fixtures });
  const [, which, ...rest] = path.split("/");
  const file = `${which === "A" ? a : b}/dist/${rest.join("/")}`;
  return route.fulfill({ headers, contentType: file.endsWith(".wasm") ? "application/wasm" : "text/javascript", body: readFileSync(file) });
});
await page.goto("http://localhost:9/");
if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error("the page is not cross-origin isolated");
console.log(await page.evaluate(async (RUNS) => {
  const fixtures = await (await fetch("/fixtures.json")).json();
  // Builds that return JSON text and builds that return values are compared alike.
  const value = (x) => (typeof x === "string" ? JSON.parse(x) : x);
  const builds = {};
  for (const name of ["A", "B"]) {
    const m = await import(`/${name}/browser.js`);
    const engine = new m.Engine(fixtures.rules);
    if (engine.core.loadProfile(new TextEncoder().encode(fixtures.profile), fixtures.now)) throw new Error("profile discarded");
    builds[name] = {
      "decide()": () => engine.decide(fixtures.page, fixtures.unit, fixtures.now),
      "decide(), every explanation read": () => { for (const d of engine.decide(fixtures.page, fixtures.unit, fixtures.now)) d.explanation; },
      "profile summary (inventory)": () => value(engine.core.profileSummary(fixtures.now)),
      validateRules: () => m.validateRules(fixtures.rules),
    };
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const lines = [];
  for (const task of Object.keys(builds.A)) {
    const [fa, fb] = [builds.A[task], builds.B[task]];
    const runs = task.includes("explanation") || task === "validateRules" ? RUNS / 5 : RUNS;
    for (let i = 0; i < 300; i++) (fa(), fb());
    const ta = [], tb = [], ratio = [];
    for (let i = 0; i < runs; i++) {
      let s, x, y;
      if (i & 1) (s = performance.now(), fa(), x = performance.now() - s, s = performance.now(), fb(), y = performance.now() - s);
      else (s = performance.now(), fb(), y = performance.now() - s, s = performance.now(), fa(), x = performance.now() - s);
      ta.push(x * 1000), tb.push(y * 1000), ratio.push(y / x);
    }
    lines.push(`${task}: A ${median(ta).toFixed(0)} µs, B ${median(tb).toFixed(0)} µs, B/A ${median(ratio).toFixed(3)} (median of ${runs} paired ratios)`);
  }
  return lines.join("\n");
}, RUNS));
await browser.close();
