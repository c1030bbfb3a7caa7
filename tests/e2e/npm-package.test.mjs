// The packed npm package (npm pack of pkg/), installed into an empty folder and
// imported from Node exactly as a user would.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const work = `${root}target/npm-consumer/`;

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

before(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(`${work}app`, { recursive: true });
  run("npm", ["pack", "--silent", "--pack-destination", work, `${root}pkg`], root);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  writeFileSync(`${work}app/package.json`, JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--silent", `${work}${tarball}`], `${work}app`);
});

function node(code) {
  return JSON.parse(run("node", ["--input-type=module", "-e", code], `${work}app`));
}

test("the tarball holds the built files and nothing from the repository's sources", () => {
  const files = run("tar", ["-tzf", `${work}${readdirSync(work).find((f) => f.endsWith(".tgz"))}`], work).split("\n").filter(Boolean).sort();
  for (const f of ["package/package.json", "package/index.d.ts", "package/rules.d.ts", "package/README.md", "package/LICENSE", "package/dist/node.js", "package/dist/browser.js", "package/dist/tailor.min.js", "package/dist/tailor_bg.wasm"]) {
    assert.ok(files.includes(f), `${f} missing from ${files.join(", ")}`);
  }
  assert.ok(!files.some((f) => f.includes("src/") || f.endsWith(".rs")), files.join(", "));
});

test("await import('tailor-sdk') in Node returns ready-to-call exports", () => {
  const out = node(`
    const t = await import("tailor-sdk");
    const rules = { version: 1, experiences: [{ id: "spring", slot: "hero", audience: { "utm.campaign": "spring" },
      variants: [{ id: "v", content: { text: "Spring!" } }] }] };
    const engine = new t.Engine(rules);
    console.log(JSON.stringify({
      version: t.version(),
      spring: engine.decide({ url: "https://shop.example/?utm_campaign=spring" })[0],
      other: engine.decide({ url: "https://shop.example/" })[0].variant,
      problems: t.validateRules({ version: 1, experiences: [{ id: "x", slot: "hero", variants: [{ id: "a", weight: 2 }] }] }),
    }));
  `);
  assert.equal(out.version, "0.1.0");
  assert.equal(out.spring.variant, "v");
  assert.equal(out.spring.content.text, "Spring!");
  assert.equal(out.other, null);
  assert.deepEqual(out.problems, [{ path: "$.experiences[0].variants[0].weight", expected: "a number between 0 and 1", found: "number 2" }]);
});

test("invalid rules throw a TailorError with a stable code and every problem", () => {
  const out = node(`
    const { Engine, TailorError } = await import("tailor-sdk");
    try { new Engine({ version: 3, experiences: "none" }); } catch (e) {
      console.log(JSON.stringify({ isTailor: e instanceof TailorError, isError: e instanceof Error, code: e.code, paths: e.problems.map((p) => p.path) }));
    }
  `);
  assert.deepEqual(out, { isTailor: true, isError: true, code: "RULES_INVALID", paths: ["$.version", "$.experiences"] });
});

test("the TypeScript declarations match the runtime and compile under tsc --strict", () => {
  const dts = readFileSync(`${work}app/node_modules/tailor-sdk/index.d.ts`, "utf8");
  const declared = [...dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]).sort();
  const runtime = node(`console.log(JSON.stringify(Object.keys(await import("tailor-sdk")).sort()))`);
  assert.deepEqual(runtime, declared);
  writeFileSync(`${work}app/usage.ts`, `
    import { Engine, TailorError, validateRules, version, start, type Decision, type Problem, type Tailor, type Rules, type Experience, type Variant, type Dropped } from "tailor-sdk";
    import fromFile from "./rules.json" with { type: "json" };
    const problems: Problem[] = validateRules({ version: 1 });
    const unknownShape: Problem[] = validateRules(JSON.parse("{}") as object);
    const engine = new Engine('{"version":1}');
    const decisions: Decision[] = engine.decide({ url: "https://x.example/", hour: 3 }, "unit");
    const v: string = version();
    // A rules document written in TypeScript, checked field by field.
    const variants: Variant[] = ["a", "b"].map((id) => ({ id, weight: 0.5, content: { text: id, classes: { add: ["x"] } } }));
    const experience: Experience = { id: "spring", slot: "hero", audience: { "utm.campaign": { $in: ["spring"] }, $event: { name: "view_item", within: "14d", count: { $gte: 3 } } }, schedule: { start: "2026-03-01" }, cap: { impressions: 3, per: "1d" }, variants };
    const rules: Rules = { version: 1, events: { view_item: { keep: ["category"], retention: "90d" } }, audiences: { fan: { visits: { $gte: 2 } } }, experiences: [experience, { id: "b", slot: "banner", audience: "fan", variants: [{ id: "control" }] }] };
    const typed = new Engine(rules).decide({ url: "https://x.example/" })[0]?.content?.text;
    // A JSON module widens version: 1 to number: asserting the type is what docs/api.md says to do.
    new Engine(fromFile as Rules);
    function useTailor(t: Tailor) {
      t.on("decision", (d) => d.variant?.toUpperCase());
      t.on("error", (e: TailorError) => e.code);
      t.on("dropped", (d: Dropped) => (d.reason === "undeclared" ? d.name : d.message));
      const why = t.explain("hero");
      const passed: boolean | undefined = why?.candidates[0]?.audience?.conditions[0]?.passed;
      const summary: string | undefined = why?.summary;
      t.track("signup", { plan: "pro" });
      const failed: string | undefined = t.status().state === "failed" ? t.status().error?.code : undefined;
      return t.ready.then((s) => [passed, summary, failed, s.state, s.consent, decisions[0]?.explanation.candidates.length]);
    }
    const started: Tailor = start({ rules, consent: { purposes: { personalization: { text: "p" }, measurement: { text: "m" } } } });
    started.stop();
    started.destroy();
    export { problems, unknownShape, decisions, v, typed, useTailor };
  `);
  // A script-tag page's own script, importing nothing: window.tailor is the command
  // queue before tailor.min.js runs, the page API after.
  writeFileSync(`${work}app/script-tag.ts`, `/// <reference types="tailor-sdk" />
    window.tailor = window.tailor || [];
    window.tailor.push(["consent.grant", "personalization"]);
    const tailor = window.tailor;
    if (!Array.isArray(tailor)) tailor.ready.then((s) => s.state === "ready" && tailor.decide("hero")?.variant);
  `);
  writeFileSync(`${work}app/rules.json`, JSON.stringify({ version: 1, experiences: [{ id: "a", slot: "hero", variants: [{ id: "x" }] }] }));
  writeFileSync(`${work}app/tsconfig.json`, JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [], resolveJsonModule: true }, files: ["usage.ts", "script-tag.ts"] }));
  run(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.json"], `${work}app`);
  // And misuses must fail to compile, or the check above proves nothing: not a rules
  // document at all, and a rules document with an experience id that is not a string.
  const misuses = [
    ["new Engine(42);", /TS2345/],
    ["new Engine({ version: 1, experiences: [{ id: 1 }] });", /TS2322: Type 'number' is not assignable to type 'string'/],
  ];
  for (const [misuse, error] of misuses) {
    writeFileSync(`${work}app/usage.ts`, `import { Engine } from "tailor-sdk"; ${misuse}`);
    writeFileSync(`${work}app/script-tag.ts`, "");
    assert.throws(() => run(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.json"], `${work}app`), (e) => error.test(e.stdout), misuse);
  }
});

test("importable during server-side rendering: no window at import time, start() fails clearly", () => {
  const out = node(`
    const t = await import("tailor-sdk");
    let code = null;
    try { t.start({ rules: {} }); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ window: typeof window, document: typeof document, code }));
  `);
  assert.deepEqual(out, { window: "undefined", document: "undefined", code: "NO_DOCUMENT" });
});

test("the package's bin runs the same command line: npx tailor validate, simulate and diff", () => {
  const app = `${work}app`;
  writeFileSync(`${app}/rules.json`, readFileSync(`${root}docs/examples/mistaken-rules.json`));
  const npx = (args, input) => {
    try {
      return { code: 0, out: execFileSync("npx", ["--no-install", "tailor", ...args], { cwd: app, encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] }) };
    } catch (e) {
      return { code: e.status, out: e.stdout, err: e.stderr };
    }
  };
  // A relative path, as a user types it in their project.
  const bad = npx(["validate", "rules.json"]);
  assert.equal(bad.code, 1, bad.err);
  let native = "";
  try {
    execFileSync(`${root}target/release/tailor`, ["validate", "rules.json"], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch (e) {
    native = e.stdout;
  }
  assert.equal(bad.out, native, "the npm bin and the native binary print the same");
  assert.match(bad.out, /^rules\.json:5:37: \$\.experiences\[0\]\.audeince: .*\(did you mean "audience"\?\)$/m);
  assert.equal(bad.err, "", "no warning from Node's WASI host");
  const fromStdin = npx(["validate", "-", "--format", "json"], '{"version": 1, "experiences": []}');
  assert.equal(fromStdin.code, 0);
  assert.deepEqual(JSON.parse(fromStdin.out), { valid: true, files: [{ file: "<stdin>", valid: true, problems: [] }] });
  const examples = `${root}docs/examples`;
  const sim = npx(["simulate", `${examples}/shop-rules.json`, "--journey", `${examples}/journeys/returning-shoe-fan.json`]);
  assert.equal(sim.code, 0, sim.err);
  assert.match(sim.out, /^ {2}hero: "cart-reminder" shows variant "reminder" \(sticky\)$/m);
  const diff = npx(["diff", `${examples}/shop-rules.json`, `${examples}/shop-rules.json`, "--journeys", `${examples}/journeys`]);
  assert.deepEqual([diff.code, diff.out], [0, "no decision changed on 1 journey\n"]);
  const help = npx(["help"]);
  assert.match(help.out, /simulate <rules\.json> --journey <journey\.json>/);
});
