// A failure inside the engine (a WebAssembly trap) is contained: the Engine says
// ENGINE_FAILED from then on, other engines and the rest of the module keep working,
// and the garbage collector never touches the failed engine (in Node a failing
// finalizer ends the process). The trap is real: the engine's handle is pointed
// outside the module's memory, so the .wasm faults on its first read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const script = `
const { Engine, validateRules } = await import(${JSON.stringify(new URL("../../pkg/dist/node.js", import.meta.url).href)});
const rules = { version: 1, experiences: [{ id: "e", slot: "hero", variants: [{ id: "v", content: { text: "x" } }] }] };
const broken = new Engine(rules);
broken.core.__wbg_ptr = 0xfffffff0; // outside the module's memory
let first, second;
try { broken.decide({ url: "https://shop.example/" }); } catch (e) { first = e; }
try { broken.decide({ url: "https://shop.example/" }); } catch (e) { second = e; }
const healthy = new Engine(rules);
const [d] = healthy.decide({ url: "https://shop.example/" }, "u");
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((ok) => setTimeout(ok, 20)); }
console.log(JSON.stringify({ first: [first?.name, first?.code], same: first === second, variant: d.variant, problems: validateRules(rules).length }));
`;

test("a trap inside an Engine is reported as ENGINE_FAILED, and neither later calls nor garbage collection crash", () => {
  const run = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout.trim().split("\n").at(-1)), { first: ["TailorError", "ENGINE_FAILED"], same: true, variant: "v", problems: 0 });
});
