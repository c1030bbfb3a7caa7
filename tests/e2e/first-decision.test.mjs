// The first decision (issue 13): rules compiled by `tailor compile`, decided by the
// small module inlined in tailor.min.js while the full engine's .wasm still loads, and
// the hand-over to the full engine, in headless Chromium. The .wasm is held back by the
// server so that the two stages are seen apart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setup } from "./browser.mjs";
import { open, ready, grant, storedProfile, waitForProfile, tailorMessages, slotText, PROFILE_KEY } from "./runtime.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const OUT = fileURLToPath(new URL("../../target/e2e/compiled/", import.meta.url));
const WASM_DELAY_MS = 1500;
let wasmDelay = WASM_DELAY_MS;
let fullDelay = 0; // the full module's script (tailor.full.js)
let env;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // The compiler as a site would run it at publish time.
  execFileSync("cargo", ["run", "--quiet", "--release", "--bin", "tailor", "--", "compile", "tests/e2e/pages/first/rules.json", "-o", `${OUT}rules.compiled.json`, "--bundle", "pkg/dist/tailor.min.js", "--quiet"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  env = await setup({ mounts: [["/compiled/", OUT]], delay: (path) => (path.endsWith("tailor_bg.wasm") ? wasmDelay : path.endsWith("tailor.full.js") ? fullDelay : 0) });
});
after(() => env?.close());

// Every change to a slot's content, with the time and whether the full engine's .wasm
// had arrived: what the visitor would see flicker.
function watchSlots() {
  window.__changes = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const slot = (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest("[data-tailor-slot]");
      if (!slot) continue;
      window.__changes.push({
        slot: slot.getAttribute("data-tailor-slot"),
        text: slot.textContent.trim(),
        wasm: performance.getEntriesByName("tailor:wasm").length > 0,
      });
    }
  }).observe(document, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["class"] });
}

const visible = (page, slot) => page.evaluate((s) => getComputedStyle(document.querySelector(`[data-tailor-slot="${s}"]`)).visibility, slot);
const firstMark = (page) => page.waitForFunction(() => performance.getEntriesByName("tailor:first").length > 0);
const marks = (page) => page.evaluate(() => performance.getEntriesByType("mark").filter((m) => m.name.startsWith("tailor:")).map((m) => m.name.slice(7)));

test("compiled rules: slots are decided before the .wasm arrives, and the full engine changes nothing the visitor sees", async () => {
  const { page, context, pageErrors, consoleMessages } = await open(env, "test/first/page.html?utm_campaign=spring", { init: watchSlots, wait: false });
  await firstMark(page);
  assert.equal(await page.evaluate(() => performance.getEntriesByName("tailor:wasm").length), 0, "the first decision waited for the .wasm");
  assert.equal(await slotText(page, "hero"), "Spring sale");
  assert.equal(await visible(page, "hero"), "visible");
  const cta = await slotText(page, "cta");
  assert.match(cta, /^(Buy|Shop) now$/);
  // The $regex experience is the full engine's: its slot stays hidden until then.
  assert.equal(await visible(page, "promo"), "hidden");
  assert.equal(await slotText(page, "promo"), "Default promo");
  assert.equal(await page.evaluate(() => window.tailor.status().firstDecided), 3);
  assert.equal((await page.evaluate(() => window.tailor.decide("hero"))).variant, "spring");

  await ready(page);
  assert.deepEqual(await marks(page), ["script", "first", "wasm", "consent", "rules", "engine", "decided"]);
  assert.equal(await slotText(page, "promo"), "Promo decided by the full engine");
  assert.equal(await visible(page, "promo"), "visible");
  assert.equal(await slotText(page, "cta"), cta, "the full engine decided the A/B test differently");
  const changes = await page.evaluate(() => window.__changes);
  const afterWasm = changes.filter((c) => c.wasm);
  assert.deepEqual([...new Set(afterWasm.map((c) => c.slot))], ["promo"], `slots changed after the hand-over: ${JSON.stringify(afterWasm)}`);
  assert.ok(changes.some((c) => !c.wasm && c.slot === "hero"), "the hero was not decided before the .wasm");
  // The full engine's explanation replaces the first decision's.
  assert.equal((await page.evaluate(() => window.tailor.explain("hero"))).candidates[0].outcome, "shown");
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(tailorMessages(consoleMessages, "error"), []);
  await context.close();
});

test("a visitor who granted consent: the first decision reads the profile under the stored grant, and agrees with the full engine", async () => {
  wasmDelay = 0;
  const { page, context } = await open(env, "test/first/page.html");
  await grant(page);
  await waitForProfile(page, (p) => p.pageviews === 1);
  assert.equal(await slotText(page, "banner"), "Hello");
  wasmDelay = WASM_DELAY_MS;
  await context.addInitScript(watchSlots);
  // The next page view: the second.
  await page.reload();
  await firstMark(page);
  assert.equal(await page.evaluate(() => performance.getEntriesByName("tailor:wasm").length), 0);
  assert.equal(await slotText(page, "banner"), "Welcome back");
  await ready(page);
  assert.equal(await slotText(page, "banner"), "Welcome back");
  assert.deepEqual((await page.evaluate(() => window.__changes)).filter((c) => c.wasm && c.slot !== "promo"), []);
  assert.equal((await waitForProfile(page, (p) => p.pageviews === 2)).pageviews, 2);
  await context.close();
});

test("a visitor who revokes during the hand-over ends with nothing stored, and the slots lose what the profile gave", async () => {
  wasmDelay = 0;
  const { page, context, pageErrors } = await open(env, "test/first/page.html");
  await grant(page);
  await waitForProfile(page, (p) => p.pageviews === 1);
  wasmDelay = WASM_DELAY_MS;
  await page.reload();
  await firstMark(page);
  assert.equal(await slotText(page, "banner"), "Welcome back");
  // Before the full engine is there: withdrawal must not wait for it.
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  const personal = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")));
  assert.deepEqual(await personal(), []);
  assert.equal(await page.evaluate(() => performance.getEntriesByName("tailor:wasm").length), 0, "the .wasm arrived before the revocation");
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="banner"]').textContent.trim() === "Hello");
  await ready(page);
  assert.equal(await slotText(page, "banner"), "Hello");
  assert.equal((await page.evaluate(() => window.tailor.consent.state())).personalization.state, "denied");
  // Nothing written back by the full engine once it arrived, even after its write delay.
  await page.waitForTimeout(600);
  assert.deepEqual(await personal(), []);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("the first stage works alone: the first decision needs no full module, a withdrawal before it arrives leaves nothing stored, and a missing one keeps the page as it is", async () => {
  wasmDelay = 0;
  const { page, context, pageErrors } = await open(env, "test/first/page.html");
  await grant(page);
  await waitForProfile(page, (p) => p.pageviews === 1);
  fullDelay = 1500;
  await page.reload();
  await firstMark(page);
  // Decided from the profile, by tailor.min.js alone: the full module was not even asked for.
  assert.equal(await slotText(page, "banner"), "Welcome back");
  assert.equal(await page.evaluate(() => window.tailor.status().state), "starting");
  // The page API answers from the first stage: its decisions and what is stored.
  assert.match((await page.evaluate(() => window.tailor.decide("banner"))).summary, /\(first decision\)$/);
  const inventory = await page.evaluate(() => window.tailor.inventory());
  assert.deepEqual(inventory.keys.map((k) => [k.key, k.purpose]).sort(), [["tailor:consent", "consent record"], ["tailor:p:id", "personalization"], ["tailor:p:profile", "personalization"]]);
  assert.equal(inventory.profile, null);
  const requested = () => page.evaluate(() => performance.getEntriesByType("resource").filter((r) => /tailor(\.full\.js|_bg\.wasm)$/.test(r.name)).map((r) => r.name.replace(/.*\//, "")));
  // A withdrawal while only the first stage runs: everything of the purpose goes now,
  // the slot loses what the profile gave, and the full module writes nothing back.
  await page.evaluate(() => window.tailor.consent.revoke("personalization"));
  const personal = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("tailor:p:")));
  assert.deepEqual(await personal(), []);
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="banner"]').textContent.trim() === "Hello");
  assert.deepEqual((await requested()).filter((f) => f === "tailor_bg.wasm"), [], "the .wasm was there before the revocation");
  await ready(page);
  fullDelay = 0;
  const [first, fullStart] = await page.evaluate(() => [performance.getEntriesByName("tailor:first")[0].startTime, performance.getEntriesByType("resource").find((r) => r.name.endsWith("tailor.full.js")).startTime]);
  assert.ok(fullStart > first, `the full module was requested (${fullStart} ms) before the first decision (${first} ms)`);
  assert.equal((await page.evaluate(() => window.tailor.consent.state())).personalization.state, "denied");
  await page.waitForTimeout(600);
  assert.deepEqual(await personal(), []);
  assert.equal(await slotText(page, "banner"), "Hello");

  // No full module at all (a deployment that forgot tailor.full.js): the first decision
  // stays, status() says what failed, and withdrawal still deletes.
  await page.evaluate(() => window.tailor.consent.grant("personalization"));
  await waitForProfile(page, (p) => p.pageviews >= 1);
  await page.route("**/tailor.full.js", (route) => route.fulfill({ status: 404, body: "" }));
  await page.reload();
  await firstMark(page);
  const status = await page.evaluate(() => window.tailor.ready.then((s) => ({ state: s.state, code: s.error?.code, message: s.error?.message, firstDecided: s.firstDecided })));
  assert.equal(status.state, "failed");
  assert.equal(status.code, "START_FAILED");
  assert.match(status.message, /the full module could not load/);
  assert.equal(status.firstDecided, 3);
  assert.equal(await slotText(page, "hero"), "Default hero");
  assert.equal(await visible(page, "promo"), "visible", "a slot left for the full module stayed hidden once it had failed");
  await page.evaluate(() => window.tailor.forget());
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), []);
  assert.deepEqual(pageErrors, []);
  await context.close();
  wasmDelay = WASM_DELAY_MS;
});

test("tailor compile --bundle: the SDK and the compiled rules in one script, decided before the .wasm; the anti-flicker timeout spares what the first decision showed", async () => {
  const { page, context, requests, pageErrors } = await open(env, "test/first/bundled.html?utm_campaign=spring", { wait: false });
  await firstMark(page);
  assert.equal(await page.evaluate(() => performance.getEntriesByName("tailor:wasm").length), 0);
  assert.equal(await slotText(page, "hero"), "Spring sale");
  await ready(page);
  // The .wasm came after the 500 ms anti-flicker timeout: the slot the full engine had
  // to decide keeps the default the visitor is reading; the first decision stands.
  assert.equal(await slotText(page, "promo"), "Default promo");
  assert.equal((await page.evaluate(() => window.tailor.decide("promo"))).late, true);
  assert.equal(await slotText(page, "hero"), "Spring sale");
  assert.equal((await page.evaluate(() => window.tailor.decide("hero"))).variant, "spring");
  const paths = requests.map((r) => new URL(r.url).pathname);
  assert.deepEqual(paths.filter((p) => p.endsWith(".json")), [], "rules were fetched although bundled");
  assert.deepEqual(paths.filter((p) => p.endsWith(".js")), ["/compiled/rules.bundle.js", "/sdk/tailor.full.js"]);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("plain rules still work, decided by the full engine, and the console says how to get the first decision", async () => {
  wasmDelay = 0;
  const { page, context, consoleMessages } = await open(env, "test/first/plain.html?utm_campaign=spring");
  assert.equal(await slotText(page, "hero"), "Spring sale");
  assert.deepEqual(await marks(page), ["script", "wasm", "consent", "rules", "engine", "decided"]);
  assert.equal(await page.evaluate(() => window.tailor.status().firstDecided), 0);
  const info = consoleMessages.filter((m) => m.type === "info" && m.text.startsWith("Tailor:"));
  assert.equal(info.length, 1);
  assert.match(info[0].text, /tailor compile rules\.json/);
  await context.close();
});
