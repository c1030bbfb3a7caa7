// The README must stay true: every rules document it shows validates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const { validateRules } = await import(new URL("../../pkg/dist/node.js", import.meta.url));
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /"version": 1/.test(b));

test("the README shows rules documents, and each one validates", () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length} rules documents in the README`);
  for (const block of blocks) assert.deepEqual(validateRules(block), [], block);
});
