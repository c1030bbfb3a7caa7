// The public JavaScript API shared by every entry point (npm for Node and browsers,
// and the script tag). It only converts: JSON text from the core becomes objects,
// error text becomes a TailorError. Decisions are made in Rust.
import * as core from "../../../pkg/wasm/tailor.js";

/** An error from Tailor, with a stable `code` and, for rules, every `problem`. */
export class TailorError extends Error {
  constructor(code, message, problems = []) {
    super(message);
    this.name = "TailorError";
    this.code = code;
    this.problems = problems;
  }
}

function formatProblems(problems) {
  return problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`).join("; ");
}

function rulesText(rules) {
  if (typeof rules === "string") return rules;
  try {
    return JSON.stringify(rules);
  } catch (e) {
    throw new TailorError("RULES_INVALID", `Tailor: rules cannot be serialised as JSON (${e.message})`);
  }
}

/**
 * Validates a rules document (an object or JSON text). Returns every problem found,
 * each `{ path, expected, found }`; an empty array means the document is valid.
 */
export function validateRules(rules) {
  return JSON.parse(core.validateRulesJson(rulesText(rules)));
}

/**
 * Verifies an exported consent ledger (JSON text or object): `{ ok: true, records }`,
 * or `{ ok: false, index, kind, message }` naming the first record that fails
 * (edited, reordered, removed) and why.
 */
export function verifyLedger(ledger) {
  return JSON.parse(core.verifyLedgerJson(typeof ledger === "string" ? ledger : JSON.stringify(ledger)));
}

// --- GrowthBook-compatible functions, with GrowthBook's signatures ---------------

/** GrowthBook's `evalCondition(attributes, condition, savedGroups?)`, evaluated in Rust. */
export function evalCondition(attributes, condition, savedGroups) {
  return core.evalConditionJson(JSON.stringify(attributes ?? {}), JSON.stringify(condition ?? {}), savedGroups === undefined ? undefined : JSON.stringify(savedGroups));
}

/** GrowthBook's `hash(seed, value, version)`: a number in [0, 1), or null for an unknown version. */
export function hash(seed, value, version) {
  return core.hashValue(String(seed), String(value), Number(version)) ?? null;
}

const toInt = (n) => (Number.isFinite(n) ? Math.trunc(n) : 0);

/** GrowthBook's `getBucketRanges(numVariations, coverage = 1, weights?)`. */
export function getBucketRanges(numVariations, coverage, weights) {
  const flat = core.bucketRanges(toInt(numVariations), coverage ?? undefined, Array.isArray(weights) ? Float64Array.from(weights) : undefined);
  const ranges = [];
  for (let i = 0; i < flat.length; i += 2) ranges.push([flat[i], flat[i + 1]]);
  return ranges;
}

/** GrowthBook's `chooseVariation(n, ranges)`: the index of the range holding n, or -1. */
export function chooseVariation(n, ranges) {
  return core.chooseVariationFlat(n, Float64Array.from(ranges.flat()));
}

/** GrowthBook's `inNamespace(hashValue, [id, start, end])`. */
export function inNamespace(hashValue, namespace) {
  return core.inNamespaceParts(String(hashValue), String(namespace[0]), namespace[1], namespace[2]);
}

/** GrowthBook's `getEqualWeights(n)`. */
export function getEqualWeights(n) {
  return Array.from(core.equalWeights(toInt(n)));
}

/** A validated rules document that decides slots for a page. */
export class Engine {
  /** Throws a TailorError with code RULES_INVALID and every problem when invalid. */
  constructor(rules) {
    try {
      this._engine = new core.Engine(rulesText(rules));
    } catch (e) {
      if (typeof e !== "string") throw e;
      const problems = JSON.parse(e);
      throw new TailorError("RULES_INVALID", `Tailor: invalid rules: ${formatProblems(problems)}`, problems);
    }
  }

  /**
   * Decides every slot for a page context ({ url, referrer, userAgent, language,
   * hour, weekday, viewportWidth }). `unit` is the allocation identity (experiments
   * with several variants need one); `now` the time in ms (default: now);
   * `viewStart` when the page view started (default `now`): impressions recorded
   * since then are this page view's own and do not count against caps.
   */
  decide(page = {}, unit = "", now = Date.now(), viewStart = now) {
    return JSON.parse(this._engine.decide(JSON.stringify(pageInputs(page)), String(unit), now, viewStart));
  }

  /** The underlying core engine (the page runtime loads the profile into it). */
  get core() {
    return this._engine;
  }
}

/** Reads the page inputs the core needs from a URL and a few plain fields. */
export function pageInputs({ url = "", referrer = "", userAgent = "", language = "", hour, weekday, viewportWidth = 0 } = {}) {
  let parsed = null;
  try {
    parsed = url ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  const now = new Date();
  return {
    url: parsed ? parsed.href : "",
    host: parsed ? parsed.hostname : "",
    path: parsed ? parsed.pathname : "",
    query: parsed ? [...parsed.searchParams] : [],
    referrer,
    userAgent,
    language,
    hour: hour ?? now.getHours(),
    weekday: weekday ?? now.getDay(),
    viewportWidth,
  };
}

/** The SDK version. */
export function version() {
  return core.version();
}
