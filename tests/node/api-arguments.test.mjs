// The npm API's answers to wrong arguments: a TailorError naming what was expected, never
// a TypeError from inside the glue; and validation messages that show numbers as written.
import { test } from "node:test";
import assert from "node:assert/strict";

const { validateRules, Engine, TailorError } = await import(new URL("../../pkg/dist/node.js", import.meta.url));

test("validateRules and new Engine refuse a missing or non-object document with a TailorError", () => {
  for (const value of [undefined, null, 42, true]) {
    for (const call of [() => validateRules(value), () => new Engine(value)]) {
      assert.throws(call, (e) => e instanceof TailorError && e.code === "RULES_INVALID" && e.problems[0].path === "$" && /expected a rules document \(an object or JSON text\)/.test(e.message), String(value));
    }
  }
});

test("a weight of 1e308 is reported as the number written, not a clamped integer", () => {
  const problems = validateRules({ version: 1, experiences: [{ id: "e", slot: "s", variants: [{ id: "a", weight: 1e308 }, { id: "b" }] }] });
  const weight = problems.find((p) => p.path.endsWith(".weight"));
  assert.ok(weight, JSON.stringify(problems));
  assert.equal(weight.found, "number 1e+308");
});
