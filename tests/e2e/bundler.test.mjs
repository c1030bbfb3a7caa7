// The packed npm package used from a bundler: a tiny Vite app built against the
// tarball of pkg/ and loaded in headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setup, auditedPage, storageSnapshot } from "./browser.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const app = `${root}target/vite-app/`;
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

let env;
before(async () => {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  run("npm", ["pack", "--silent", "--pack-destination", app, `${root}pkg`], root);
  const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"));
  writeFileSync(`${app}package.json`, JSON.stringify({ name: "vite-app", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--silent", `./${tarball}`], app);
  writeFileSync(`${app}index.html`, `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vite</title></head>
    <body><div data-tailor-slot="hero">Default hero</div><script type="module" src="/main.js"></script></body></html>`);
  writeFileSync(`${app}main.js`, `
    import { start, validateRules, version } from "tailor-sdk";
    const rules = { version: 1, experiences: [{ id: "bundled", slot: "hero", audience: { "utm.campaign": "spring" },
      variants: [{ id: "v", content: { text: "Bundled spring " + version() } }] }] };
    window.problems = validateRules(rules);
    window.tailor = start({ rules });
  `);
  run(`${root}node_modules/.bin/vite`, ["build", "--logLevel", "error"], app);
  env = await setup({ mounts: [["/", `${app}dist`]] });
});
after(() => env?.close());

test("a Vite build of the packed package decides the slot in Chromium", async () => {
  const { page, context, pageErrors, requests } = await auditedPage(env.browser);
  await page.goto(`${env.base}?utm_campaign=spring`);
  await page.waitForFunction(() => window.tailor?.ready);
  await page.evaluate(() => window.tailor.ready);
  assert.equal(await page.locator('[data-tailor-slot="hero"]').innerText(), "Bundled spring 0.1.0");
  assert.deepEqual(await page.evaluate(() => window.problems), []);
  assert.deepEqual(pageErrors, []);
  assert.ok(requests.some((r) => r.url.endsWith(".wasm")), "the bundler emitted and served the .wasm");
  assert.deepEqual(await storageSnapshot(page), { cookies: 0, localStorage: 0, sessionStorage: 0, indexedDB: 0, caches: 0 });
  await context.close();
});
