// The runtime on hostile pages: a strict CSP with Trusted Types, variant HTML that
// tries to run script, and failures that must never reach the host's error handlers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setup, auditedPage } from "./browser.mjs";

const STRICT = "default-src 'self'; img-src 'self' data:; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'";
const HEADERS = {
  "/test/csp-tt.html": { "content-security-policy": `${STRICT}; trusted-types tailor` },
  "/test/csp-no-policy.html": { "content-security-policy": `${STRICT}; trusted-types 'none'` },
};

let env;
before(async () => (env = await setup({ extraHeaders: (path) => HEADERS[path] ?? {} })));
after(() => env?.close());

async function load(path) {
  const audited = await auditedPage(env.browser);
  await audited.page.goto(env.base + path);
  await audited.page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await audited.page.evaluate(() => window.tailor.ready);
  return audited;
}

const slot = (page, name) => page.locator(`[data-tailor-slot="${name}"]`);

test("under a strict CSP with Trusted Types, variant HTML is sanitized and nothing is violated", async () => {
  const { page, context, consoleMessages, pageErrors } = await load("test/csp-tt.html");
  assert.equal(await page.evaluate(() => !!window.trustedTypes && document.querySelector("meta[http-equiv]") === null), true);
  const html = await slot(page, "hero").innerHTML();
  assert.equal(html, '<h2 class="promo">Rich <em>offer</em></h2><img alt="pic"><a>x</a><a href="/ok">ok</a>');
  assert.equal(await slot(page, "side").innerText(), "<b>just text</b>");
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  // Parsing the hostile HTML (even inert, before sanitizing) makes Chromium report the
  // blocked inline handler; nothing else is violated and nothing ran.
  assert.deepEqual([...new Set(await page.evaluate(() => window.violations))], ["script-src-attr inline"]);
  assert.deepEqual(await page.evaluate(() => window.hostErrors), []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleMessages.filter((m) => m.type === "error" && !/inline event handler/.test(m.text)), []);
  await context.close();
});

test("when Trusted Types forbid Tailor's policy, HTML variants keep the default with one message; text still works", async () => {
  const { page, context, consoleMessages } = await load("test/csp-no-policy.html");
  assert.equal(await slot(page, "hero").innerText(), "Default hero");
  assert.equal(await slot(page, "side").innerText(), "<b>just text</b>");
  const errors = consoleMessages.filter((m) => m.type === "error" && m.text.startsWith("Tailor:"));
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0].text, /Tailor: could not apply slot "hero" \(variant HTML needs the Trusted Types policy "tailor"/);
  assert.deepEqual(await page.evaluate(() => window.hostErrors), []);
  await context.close();
});

test("a throwing host listener, unknown commands and a missing .wasm never reach the host's error handlers", async () => {
  for (const path of ["test/failures.html", "test/missing-wasm.html"]) {
    const { page, context, consoleMessages, pageErrors } = await load(path);
    assert.deepEqual(await page.evaluate(() => window.hostErrors), [], path);
    assert.deepEqual(pageErrors, [], path);
    assert.equal(await slot(page, "hero").evaluate((el) => getComputedStyle(el).visibility), "visible");
    const messages = consoleMessages.filter((m) => m.type === "error" && m.text.startsWith("Tailor:")).map((m) => m.text);
    if (path === "test/failures.html") {
      assert.equal(await slot(page, "hero").locator("h2").innerText(), "Rich offer");
      assert.ok(messages.some((t) => /unknown command "noSuchCommand"/.test(t)), messages.join("\n"));
      assert.ok(messages.some((t) => /a listener threw/.test(t)), messages.join("\n"));
    } else {
      assert.equal(await slot(page, "hero").innerText(), "Default hero");
      assert.equal(messages.length, 1, messages.join("\n"));
    }
    await context.close();
  }
});

test("the script tag loads with the SRI hash that make build prints", async () => {
  const sri = readFileSync(new URL("../../pkg/dist/tailor.min.js.sri", import.meta.url), "utf8").trim();
  const { page, context } = await auditedPage(env.browser);
  await page.goto(env.base + "test/inline-rules.html?utm_campaign=spring");
  // Re-inject the tag with its integrity into a fresh document and check it runs.
  await page.setContent(`<div data-tailor-slot="hero">Default hero</div>
    <script type="application/json" id="r">{"version":1,"experiences":[{"id":"e","slot":"hero","variants":[{"id":"v","content":{"text":"With SRI"}}]}]}</script>
    <script src="/sdk/tailor.min.js" integrity="${sri}" data-rules="r"></script>`);
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
  assert.equal(await slot(page, "hero").innerText(), "With SRI");
  await context.close();
  const tampered = await auditedPage(env.browser);
  await tampered.page.goto(env.base + "test/blank.html");
  await tampered.page.setContent(`<script src="/sdk/tailor.min.js" integrity="sha384-AAAA${sri.slice(11)}" data-rules="r"></script>`);
  assert.equal(await tampered.page.evaluate(() => typeof window.tailor), "undefined");
  await tampered.context.close();
});
