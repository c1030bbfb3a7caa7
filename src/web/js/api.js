// The public JavaScript API shared by every entry point (npm for Node and browsers,
// and the script tag). It only converts: JSON text from the core becomes objects,
// error text becomes a TailorError. Decisions are made in Rust.
import * as core from "../../../pkg/wasm/tailor.js";
import { TailorError } from "./errors.js";
import { pageInputs } from "./page.js";

export { TailorError, pageInputs };

function formatProblems(problems) {
  return problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`).join("; ");
}

// Taken when the module loads; a page that removed TextEncoder gets the slower path.
const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

/**
 * Text as UTF-8 bytes for the core (`undefined` stays `undefined`). The browser copies
 * bytes into wasm memory natively; strings would be copied character by character in
 * JavaScript, which costs milliseconds for the rules and stored records at start-up.
 */
export function utf8(text) {
  if (text == null) return undefined;
  if (encoder) return encoder.encode(text);
  // Lone surrogates become U+FFFD, as TextEncoder does.
  return Uint8Array.from(unescape(encodeURIComponent(String(text).toWellFormed?.() ?? text)), (c) => c.charCodeAt(0));
}

function rulesText(rules) {
  if (typeof rules === "string") return rules;
  if (rules === null || typeof rules !== "object") {
    const found = rules === null ? "null" : typeof rules;
    throw new TailorError("RULES_INVALID", `Tailor: invalid rules: $: expected a rules document (an object or JSON text), found ${found}`, [
      { path: "$", expected: "a rules document (an object or JSON text)", found },
    ]);
  }
  try {
    return JSON.stringify(rules);
  } catch (e) {
    throw new TailorError("RULES_INVALID", `Tailor: rules cannot be serialised as JSON (${e.message})`);
  }
}

/**
 * Validates a rules document (an object or JSON text). Returns every problem found,
 * each `{ path, expected, found }`; an empty array means the document is valid. Throws
 * a TailorError (RULES_INVALID) when given neither an object nor text.
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
      this._engine = new core.Engine(utf8(rulesText(rules)));
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
    if (this._failed) throw this._failed;
    const inputs = JSON.stringify(pageInputs(page));
    let round;
    try {
      round = this._engine.decideRound(inputs, String(unit), now, viewStart);
    } catch (e) {
      throw this.fail(e);
    }
    return JSON.parse(round.decisions()).map((d, i) => new Decision(d, round, i));
  }

  /**
   * Marks the engine unusable after a failure inside it (a trap leaves its state
   * undefined): it is detached from the .wasm without being freed, so no later call or
   * garbage-collection finalizer touches it again (in Node, a finalizer that fails
   * would end the process), and every later call throws the returned ENGINE_FAILED.
   */
  fail(cause) {
    if (!this._failed) {
      this._failed = new TailorError("ENGINE_FAILED", `Tailor: the engine failed (${cause?.message ?? cause}) and cannot be used again; create a new Engine`);
      try {
        this._engine.__destroy_into_raw?.();
      } catch {
        /* already detached */
      }
    }
    return this._failed;
  }

  /** The underlying core engine (the page runtime loads the profile into it). */
  get core() {
    return this._engine;
  }
}

/**
 * What one slot shows: `slot`, `experience`, `variant`, `content`, `holdout`,
 * `sticky` (own properties), and `summary` and `explanation`, which the core builds
 * on first read (most pages never read them) from what that round of decisions
 * measured, so they describe the moment of the decision even when read later.
 * `JSON.stringify` includes them; a spread (`{...d}`) copies only the own properties.
 */
export class Decision {
  constructor(fields, round, index) {
    // Defined, not assigned: a setter a page put on Object.prototype (for `variant`,
    // say) never sees or swallows a decision's fields.
    Object.defineProperties(this, Object.getOwnPropertyDescriptors(fields));
    // Symbol-keyed: out of JSON and Object.keys (no private fields: the script tag
    // targets ES2020, where they would become WeakMap lookups).
    this[LAZY] = { round, index, summary: undefined, explanation: undefined };
  }

  /** One readable line, e.g. `hero: "spring-hero" shows variant "sale"`. */
  get summary() {
    const l = this[LAZY];
    return (l.summary ??= lazily(() => l.round.summary(l.index), (why) => `${this.slot}: (no summary: ${why})`));
  }

  /** Everything considered, stage by stage (see docs/rules.md, "Explanations"). */
  get explanation() {
    const l = this[LAZY];
    return (l.explanation ??= lazily(() => JSON.parse(l.round.explanation(l.index)), (why) => ({ error: why })));
  }

  toJSON() {
    const { [LAZY]: _, ...fields } = this;
    return { ...fields, summary: this.summary, explanation: this.explanation };
  }
}

const LAZY = Symbol("tailor.lazy");

// A summary or explanation is built by the .wasm when first read, possibly long after
// the decision (from a host's listener, a timer): a failure there (an engine that has
// failed since) gives a placeholder saying why, never an exception in the host's code.
function lazily(build, placeholder) {
  try {
    return build();
  } catch (e) {
    return placeholder(String(e?.message ?? e));
  }
}

/** The SDK version. */
export function version() {
  return core.version();
}
