// Every example of the README and of docs/*.md runs as a reader would paste it.
//
// What runs: each ```json and ```html fenced block of README.md and docs/*.md (one test per
// block, named file:line). HTML comments on the lines just before a fence (blank lines
// allowed) are directives for that block:
//
//   <!-- not-runnable: why -->
//       The block is deliberately partial (a placeholder to fill in): it is skipped but
//       counted, and more than MAX_SKIPPED skipped blocks fail the run.
//   <!-- example: url=?utm_campaign=spring slot=hero shows="Spring sale" variant=spring experience=e -->
//       For an HTML block: open the page at `url` (relative to the example page), and check
//       that the slot's visible text contains `shows`, and that tailor.decide(slot) has
//       this `variant` (`none` for null) and `experience`. Every key is optional but `slot`
//       is needed for the checks; an unknown key fails, so a typo cannot disable a check.
//
// JSON blocks: a rules document (an object with "version", "experiences" or "audiences")
// must pass validateRules of the built npm package with no problem; any other block must
// parse as JSON.
//
// HTML blocks: served as the body of a page at /example/ by the end-to-end server (the
// built SDK at /sdk/), with /rules.json answered by the rules document nearest before the
// block in the same file (or, when there is none before it, the first one after it; in a
// file without one, the README's quick-start rules, which the docs build on). The
// page must log no console error or `Tailor:` warning and throw no page error; when it
// loads the SDK, tailor.ready must resolve before the checks run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { setup } from "./browser.mjs";

const { validateRules } = await import(new URL("../../pkg/dist/node.js", import.meta.url));

const ROOT = new URL("../../", import.meta.url);
const FILES = ["README.md", ...readdirSync(new URL("docs/", ROOT)).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
/** Blocks that may be marked not-runnable, in all: placeholders are the exception. */
const MAX_SKIPPED = 3;
const DIRECTIVE_KEYS = new Set(["url", "slot", "shows", "variant", "experience"]);

/** The ```json and ```html blocks of a Markdown text, with their line and directives. */
function blocksOf(file) {
  const lines = readFileSync(new URL(file, ROOT), "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)```(\w*)\s*$/);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const lang = open[2];
    if (lang === "json" || lang === "html") {
      const text = lines.slice(i + 1, end).map((l) => l.slice(Math.min(open[1].length, l.search(/\S|$/)))).join("\n");
      blocks.push({ file, line: i + 1, lang, text, ...directives(lines, i, file) });
    }
    i = end;
  }
  return blocks;
}

// The HTML comments on the lines just above line `fence` (blank lines between allowed).
function directives(lines, fence, file) {
  const found = { skip: null, example: null };
  for (let j = fence - 1; j >= 0; j--) {
    const line = lines[j].trim();
    if (line === "") continue;
    const m = line.match(/^<!--\s*(not-runnable|example):(.*)-->$/);
    if (!m) break;
    if (m[1] === "not-runnable") {
      found.skip = m[2].trim();
      continue;
    }
    const example = {};
    for (const [, key, quoted, bare] of m[2].matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) {
      assert.ok(DIRECTIVE_KEYS.has(key), `${file}:${j + 1}: unknown example directive "${key}" (known: ${[...DIRECTIVE_KEYS].join(", ")})`);
      example[key] = quoted ?? bare;
    }
    found.example = example;
  }
  return found;
}

const isRules = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && ("version" in v || "experiences" in v || "audiences" in v);

const blocks = FILES.flatMap(blocksOf);
for (const b of blocks) {
  if (b.lang !== "json" || b.skip !== null) continue;
  try {
    b.value = JSON.parse(b.text);
  } catch (e) {
    b.parseError = e.message;
  }
}

/**
 * The rules an HTML block gets at /rules.json: the nearest before it in its file, else the
 * first after it, else (a file without rules) the README's first rules document.
 */
function rulesFor(block) {
  const rulesIn = (file) => blocks.filter((b) => b.file === file && b.lang === "json" && isRules(b.value));
  const own = rulesIn(block.file);
  return own.filter((b) => b.line < block.line).at(-1) ?? own.find((b) => b.line > block.line) ?? rulesIn("README.md")[0] ?? null;
}

let env;
before(async () => (env = await setup()));
after(() => env?.close());

test("the README and docs/ show examples, and few are skipped", () => {
  const count = (lang) => blocks.filter((b) => b.lang === lang).length;
  assert.ok(count("json") >= 5, `found ${count("json")} JSON examples`);
  assert.ok(count("html") >= 8, `found ${count("html")} HTML examples`);
  assert.ok(blocks.some((b) => b.file === "README.md" && b.lang === "html" && b.example?.shows), "the README's quick start has no checked example");
  const skipped = blocks.filter((b) => b.skip !== null);
  assert.ok(skipped.length <= MAX_SKIPPED, `${skipped.length} examples are marked not-runnable (at most ${MAX_SKIPPED}): ${skipped.map((b) => `${b.file}:${b.line}`).join(", ")}`);
});

for (const block of blocks) {
  const name = `${block.file}:${block.line} (${block.lang})`;
  if (block.skip !== null) {
    test(name, { skip: `not runnable: ${block.skip}` }, () => {});
    continue;
  }
  if (block.lang === "json") {
    test(name, () => {
      assert.equal(block.parseError, undefined, `${name} is not JSON: ${block.parseError}\n${block.text}`);
      if (isRules(block.value)) assert.deepEqual(validateRules(block.text), [], `${name}: the rules document has problems`);
    });
    continue;
  }
  test(name, async () => {
    const rules = rulesFor(block);
    const page = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${name}</title></head>\n<body>\n${block.text}\n</body></html>`;
    const context = await env.browser.newContext();
    try {
      const p = await context.newPage();
      const problems = [];
      p.on("console", (m) => {
        if (m.type() === "error" || (m.type() === "warning" && m.text().startsWith("Tailor:"))) problems.push(`console ${m.type()}: ${m.text()}`);
      });
      p.on("pageerror", (e) => problems.push(`page error: ${e}`));
      await p.route((url) => url.pathname === "/example/" || url.pathname === "/rules.json", (route) => {
        const { pathname } = new URL(route.request().url());
        if (pathname === "/example/") return route.fulfill({ contentType: "text/html; charset=utf-8", body: page });
        if (!rules) return route.fulfill({ status: 404, body: `no rules document in ${block.file}` });
        return route.fulfill({ contentType: "application/json", body: rules.text });
      });
      const example = block.example ?? {};
      await p.goto(new URL(example.url ?? "", `${env.base}example/`).href);
      if (block.text.includes("tailor.min.js")) {
        await p.waitForFunction(() => window.tailor && !Array.isArray(window.tailor), null, { timeout: 10_000 });
        await p.evaluate(() => window.tailor.ready);
      }
      if (example.shows !== undefined || example.variant !== undefined || example.experience !== undefined) {
        assert.ok(example.slot, `${name}: the example directive needs slot= for its checks`);
        const slot = p.locator(`[data-tailor-slot="${example.slot}"]`).first();
        assert.equal(await slot.count(), 1, `${name}: no element with data-tailor-slot="${example.slot}"`);
        const decision = await p.evaluate((s) => window.tailor.decide(s), example.slot);
        const why = decision ? decision.summary : "no decision";
        if (example.shows !== undefined) {
          const text = await slot.innerText();
          assert.ok(text.includes(example.shows), `${name}: slot "${example.slot}" shows ${JSON.stringify(text)}, not ${JSON.stringify(example.shows)} (${why})`);
        }
        if (example.variant !== undefined) assert.equal(decision?.variant ?? "none", example.variant, `${name}: ${why}`);
        if (example.experience !== undefined) assert.equal(decision?.experience, example.experience, `${name}: ${why}`);
      }
      // Errors raised by what the decisions triggered (listeners, late writes) surface by
      // the next task; a round trip through the page lets them arrive.
      await p.evaluate(() => new Promise((ok) => setTimeout(ok, 0)));
      assert.deepEqual(problems, [], `${name} (rules from ${rules ? `${rules.file}:${rules.line}` : "nowhere"})`);
    } finally {
      await context.close();
    }
  });
}
