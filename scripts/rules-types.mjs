// Generates pkg/rules.d.ts, the TypeScript types of the rules document, from
// pkg/rules.schema.json (which tests/rules_schema.rs checks against the Rust decoder),
// so the types cannot drift from what the engine accepts.
//
// The schema is written for editors and validators; a few of its constructs come out
// of json-schema-to-typescript badly, so a copy is adjusted first (the schema itself is
// not changed):
// - every `$ref` becomes a reference by name (`tsType`): a `$ref` with a description
//   beside it would otherwise become a numbered copy of the type (Cap1, Filter2…), and
//   the description stays on the property;
// - a value with no type (the operands of `$eq`, `$gt`…) is `unknown`, not an object;
// - dates and durations are strings (their patterns cannot be types);
// - `$since`'s "at least one of within, $gt, $gte, $lt, $lte" is left to validation;
// - a fixed tuple of plain types (`prefixItems`, `items: false`) is a TypeScript tuple.
// Lists are plain arrays, not non-empty tuples: rules built with `map()` must compile;
// validation reports an empty list with its path.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const root = fileURLToPath(new URL("../", import.meta.url));
const schema = JSON.parse(readFileSync(`${root}pkg/rules.schema.json`, "utf8"));

// The exported name of each definition (the default would be its key, capitalised).
const NAMES = {
  duration: "Duration",
  date: "ScheduleDate",
  event: "EventDeclaration",
  cap: "Cap",
  experience: "Experience",
  schedule: "Schedule",
  variant: "Variant",
  content: "Content",
  classes: "Classes",
  condition: "AudienceCondition",
  filter: "EventFilter",
  conditionValue: "ConditionValue",
  operators: "Operators",
  eventOperator: "EventOperator",
  sinceOperator: "SinceOperator",
  scenarioOperator: "ScenarioOperator",
  step: "ScenarioStep",
};
for (const key of Object.keys(schema.$defs)) {
  if (!NAMES[key]) throw new Error(`scripts/rules-types.mjs: name the schema's new definition ${JSON.stringify(key)} in NAMES`);
}

// Keywords that give a schema a type; a schema with none of them accepts any value.
const TYPED = ["type", "$ref", "tsType", "anyOf", "oneOf", "allOf", "enum", "const", "properties", "patternProperties", "additionalProperties", "items"];

function adjust(node, isSchema) {
  if (Array.isArray(node)) return node.map((n) => adjust(n, isSchema));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "examples" || k === "default") out[k] = v; // values, not schemas
    else if (k === "properties" || k === "patternProperties" || k === "$defs") out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, adjust(s, true)]));
    else out[k] = adjust(v, typeof v === "object");
  }
  if (!isSchema) return out;
  if (typeof out.$ref === "string") {
    const key = out.$ref.replace(/^#\/\$defs\//, "");
    if (!NAMES[key]) throw new Error(`scripts/rules-types.mjs: unknown $ref ${out.$ref}`);
    delete out.$ref;
    out.tsType = NAMES[key];
  }
  // A fixed tuple of plain types (a namespace's [id, start, end]).
  if (Array.isArray(out.prefixItems) && out.items === false) {
    out.tsType = `[${out.prefixItems.map((p) => p.type).join(", ")}]`;
    delete out.prefixItems;
    delete out.items;
  }
  delete out.minItems;
  delete out.maxItems;
  if (!TYPED.some((k) => k in out)) out.tsType = "unknown";
  return out;
}

const copy = adjust(schema, true);
for (const [key, def] of Object.entries(copy.$defs)) def.title = NAMES[key];
copy.title = "Rules";
copy.$defs.date = { title: "ScheduleDate", description: schema.$defs.date.description, type: "string" };
delete copy.$defs.sinceOperator.anyOf;

const banner = `// The rules document, as TypeScript types. Generated from rules.schema.json by
// scripts/rules-types.mjs at build time: do not edit.`;
const types = await compile(copy, "Rules", { bannerComment: banner, unreachableDefinitions: true, unknownAny: true, format: true });
// The generator notes where each type came from in the schema: noise to a reader of the types.
const tidy = types.replace(/(\n *\*)?\n *\* This interface was referenced by [^\n]*\n *\* via the [^\n]*/g, "").replace(/\n *\/\*\*\n *\*\/\n/g, "\n");
if (tidy.includes("was referenced by")) throw new Error("scripts/rules-types.mjs: the generator's notes changed shape; update the clean-up");
writeFileSync(`${root}pkg/rules.d.ts`, tidy);
