// Regular expressions cannot freeze the page (issue 12, item 5): `$regex` runs the
// browser's backtracking RegExp on visitor-controlled subjects, so patterns that could
// backtrack for long are refused and subjects are bounded (src/rules/regex_safety.rs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, auditedPage } from "./browser.mjs";

let env;
before(async () => (env = await setup()));
after(() => env?.close());

// The payload: a visitor's ?q=aaaa…a! against ^(a+)+$ blocked the main thread.
const ATTACK = "a".repeat(40) + "!";
const HOSTILE = { version: 1, audiences: { searchers: { "query.q": { $regex: "^(a+)+$" } } },
  experiences: [{ id: "e", slot: "hero", audience: "searchers", variants: [{ id: "v", content: { text: "Searcher" } }] }] };

/** A page of our own at `path` (served for this page only), with `rules` inline. */
async function pageWithRules(rules, query) {
  const audited = await auditedPage(env.browser);
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
    <script type="application/json" id="r">${JSON.stringify(rules)}</script>
    <script src="/sdk/tailor.min.js" data-rules="r"></script></head>
    <body><div data-tailor-slot="hero">Default hero</div></body></html>`;
  await audited.page.route("**/test/regex-page.html*", (route) => route.fulfill({ contentType: "text/html", body: html }));
  await audited.page.goto(`${env.base}test/regex-page.html?q=${query}`);
  await audited.page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await audited.page.evaluate(() => window.tailor.ready);
  return audited;
}

test("validateRules refuses the issue's patterns with their path, and evalCondition treats them as invalid at once", async () => {
  const { page, context, pageErrors } = await auditedPage(env.browser);
  await page.goto(env.base + "test/blank.html");
  const out = await page.evaluate(async ([hostile, attack]) => {
    const t = await import("/sdk/browser.js");
    const problems = t.validateRules(hostile);
    const huge = t.validateRules({ version: 1, audiences: { x: { q: { $regex: "a".repeat(100000) } } } });
    const start = performance.now();
    const matched = t.evalCondition({ q: attack }, { q: { $regex: "^(a+)+$" } });
    const ms = performance.now() - start;
    // The instance is still healthy afterwards.
    const after = t.evalCondition({ q: "/products/1" }, { q: { $regex: "^/products/" } });
    return { problems, huge, matched, ms, after };
  }, [HOSTILE, ATTACK]);
  assert.equal(out.problems.length, 1, JSON.stringify(out.problems));
  assert.equal(out.problems[0].path, '$.audiences.searchers["query.q"].$regex');
  assert.match(out.problems[0].expected, /without a repetition inside a repetition.*exponential time/);
  assert.equal(out.problems[0].found, 'string "^(a+)+$"');
  assert.equal(out.huge[0].expected, "a regular expression of at most 512 characters");
  assert.equal(out.matched, false);
  assert.ok(out.ms < 1000, `${out.ms} ms`);
  assert.equal(out.after, true);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("the page runtime refuses the payload with one clear message and the page stays responsive", async () => {
  const { page, context, consoleMessages, pageErrors } = await pageWithRules(HOSTILE, ATTACK);
  assert.equal(await page.locator('[data-tailor-slot="hero"]').innerText(), "Default hero");
  const errors = consoleMessages.filter((m) => m.type === "error" && m.text.startsWith("Tailor:")).map((m) => m.text);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0], /invalid rules in #r: \$\.audiences\.searchers\["query\.q"\]\.\$regex: expected a regular expression without a repetition inside a repetition/);
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("accepted patterns decide in well under a second on a visitor's 100,000-character subject", async () => {
  // The costliest kinds the analyser accepts: one repetition that gives characters
  // back, unanchored; two, anchored; a backreference to a growing group.
  const patterns = [".*x", "^.*a.*x", "(a+)!\\1x", "(?:^|&)q=[^&]*x"];
  const rules = { version: 1, audiences: Object.fromEntries(patterns.map((p, i) => [`a${i}`, { "query.q": { $regex: p } }])),
    experiences: patterns.map((_, i) => ({ id: `e${i}`, slot: "hero", audience: `a${i}`, variants: [{ id: "v", content: { text: `matched ${i}` } }] })) };
  const { page, context, pageErrors } = await pageWithRules(rules, "a".repeat(100000) + "!");
  assert.equal(await page.locator('[data-tailor-slot="hero"]').innerText(), "Default hero");
  const [rulesMark, decided] = await page.evaluate(() => ["tailor:engine", "tailor:decided"].map((n) => performance.getEntriesByName(n)[0]?.startTime));
  assert.ok(decided - rulesMark < 1000, `deciding took ${decided - rulesMark} ms`);
  const timings = await page.evaluate(async (patterns) => {
    const t = await import("/sdk/browser.js");
    const subject = "a".repeat(100000) + "!";
    return patterns.map((p) => {
      const start = performance.now();
      t.evalCondition({ q: subject }, { q: { $regex: p } });
      return performance.now() - start;
    });
  }, patterns);
  for (const [i, ms] of timings.entries()) assert.ok(ms < 1000, `${patterns[i]}: ${ms} ms`);
  assert.deepEqual(pageErrors, []);
  await context.close();
});
