// make bench, decision latency (runs in the page; scripts/bench.mjs calls
// window.benchDecide(runs) and reads the result).
//
// - Tailor: `Engine.decide(page, unit, now)` of the npm browser entry with the
//   1,000-event profile loaded (`engine.core.loadProfile`): every slot of the
//   100-experience document, as the page runtime decides (summaries and
//   explanations are built when read); also with every summary and explanation read,
//   and the core call alone (`decideRound` + `decisions()`, no JSON.parse).
// - GrowthBook 1.8 (ESM bundle): `evalFeature` of the 100 per-experience features,
//   and of the 10 per-slot features, with the precomputed attributes (see
//   examples/synthetic.rs for the mapping).
// Each sample is one whole round (all slots / all features), timed with
// performance.now() (5 µs resolution: the page is cross-origin isolated).
import { Engine } from "/sdk/browser.js";
import { GrowthBook } from "/gb/esm.min.js";

const fixtures = await (await fetch("/bench/fixtures.json")).json();

function summarise(us) {
  const sorted = Array.from(us).sort((a, b) => a - b);
  const q = (p) => sorted[Math.round((sorted.length - 1) * p)];
  return { runs: sorted.length, median: q(0.5), p95: q(0.95), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, min: sorted[0] };
}

/**
 * Times `runs` rounds of each function, interleaved (round i of every function runs
 * back to back), so a busy machine slows them alike and ratios stay meaningful. A
 * warm-up of at least `warmMs` first lets V8 tier the wasm and JS up.
 */
function interleaved(runs, fns, warmMs = 1500) {
  const names = Object.keys(fns);
  const end = performance.now() + warmMs;
  for (let i = 0; i < 200 || performance.now() < end; i++) for (const n of names) fns[n]();
  const us = Object.fromEntries(names.map((n) => [n, new Float64Array(runs)]));
  for (let i = 0; i < runs; i++) {
    for (const n of names) {
      const t = performance.now();
      fns[n]();
      us[n][i] = (performance.now() - t) * 1000;
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarise(us[n])]));
}

function tailorEngine() {
  const engine = new Engine(fixtures.rules);
  // UTF-8 bytes since the profile stopped crossing as a string; a string for older builds (BENCH_SDK).
  let discarded;
  try {
    discarded = engine.core.loadProfile(new TextEncoder().encode(fixtures.profile), fixtures.now);
  } catch {
    discarded = engine.core.loadProfile(fixtures.profile, fixtures.now);
  }
  if (discarded) throw new Error(`profile discarded: ${discarded}`);
  return engine;
}

function growthbook(features) {
  return new GrowthBook({ attributes: fixtures.growthbook.attributes, features, enableDevMode: false });
}

/** What each experience / slot gets, Tailor against GrowthBook. */
function equivalence(engine) {
  const decisions = engine.decide(fixtures.page, fixtures.unit, fixtures.now);
  const gb = growthbook(fixtures.growthbook.features);
  const mismatches = [];
  let compared = 0;
  for (const d of decisions) {
    for (const c of d.explanation.candidates) {
      if (c.outcome === "outranked") continue;
      compared++;
      const tailor = c.outcome === "shown" ? c.allocation.variant : null;
      const r = gb.evalFeature(c.experience);
      const other = r.source === "experiment" ? r.value : null;
      if (tailor !== other) mismatches.push(`${c.experience}: Tailor ${tailor} (${c.outcome}), GrowthBook ${other} (${r.source})`);
    }
  }
  const slots = growthbook(fixtures.growthbook.slotFeatures);
  const slotDiffs = [];
  for (const d of decisions) {
    const tailor = d.experience ? `${d.experience}:${d.variant ?? "holdout"}` : null;
    const other = slots.evalFeature(d.slot).value;
    if (tailor !== other) slotDiffs.push(`${d.slot}: Tailor ${tailor}, GrowthBook ${other}${d.holdout ? " (Tailor holdout reserves the slot)" : ""}`);
  }
  // What GrowthBook's script tag ends up showing in each slot: every experiment it
  // enrols the visitor in applies its text, lowest priority first, so the last one
  // wins (the first in Tailor's order whose variation carries text).
  const texts = {};
  for (const exp of fixtures.growthbook.auto) {
    for (const v of exp.variations) for (const m of v.domMutations) texts[`${exp.key}:${exp.variations.indexOf(v)}`] = m.value;
  }
  const gbShows = {};
  for (const [slot, feature] of Object.entries(fixtures.growthbook.slotFeatures)) {
    gbShows[slot] = null;
    for (const rule of feature.rules) {
      const r = gb.evalFeature(rule.key);
      const text = r.source === "experiment" ? texts[`${rule.key}:${r.experimentResult.variationId}`] : undefined;
      if (text !== undefined) {
        gbShows[slot] = text;
        break;
      }
    }
  }
  const expected = fixtures.expected.map((e) => `${e.slot}:${e.experience}:${e.variant}`).join();
  const got = decisions.map((d) => `${d.slot}:${d.experience}:${d.variant}`).join();
  return { compared, mismatches, slotDiffs, matchesNative: expected === got, gbShows };
}

window.benchDecide = (runs = 1000) => {
  const engine = tailorEngine();
  const check = equivalence(engine);
  // What Engine.decide passes to the core (api.js pageInputs()), built once.
  const p = fixtures.page;
  const url = new URL(p.url);
  const pageJson = JSON.stringify({
    url: url.href, host: url.hostname, path: url.pathname, query: [...url.searchParams], referrer: p.referrer,
    userAgent: p.userAgent, language: p.language, hour: p.hour, weekday: p.weekday, viewportWidth: p.viewportWidth,
  });
  const gb = growthbook(fixtures.growthbook.features);
  const keys = Object.keys(fixtures.growthbook.features);
  const gbs = growthbook(fixtures.growthbook.slotFeatures);
  const slotKeys = Object.keys(fixtures.growthbook.slotFeatures);
  const main = interleaved(runs, {
    tailor: () => engine.decide(fixtures.page, fixtures.unit, fixtures.now),
    tailorCore: () => {
      const round = engine.core.decideRound(pageJson, fixtures.unit, fixtures.now);
      round.decisions();
      round.free();
    },
    gbFeatures: () => {
      for (const k of keys) gb.evalFeature(k);
    },
    gbSlots: () => {
      for (const k of slotKeys) gbs.evalFeature(k);
    },
  });
  const { tailorExplained } = interleaved(Math.min(runs, 300), {
    tailorExplained: () => {
      for (const d of engine.decide(fixtures.page, fixtures.unit, fixtures.now)) {
        if (!d.summary || !d.explanation) throw new Error("no explanation");
      }
    },
  }, 300);
  const decisions = engine.decide(fixtures.page, fixtures.unit, fixtures.now);
  const round = engine.core.decideRound(pageJson, fixtures.unit, fixtures.now);
  const bytes = round.decisions().length;
  round.free();
  const explainedBytes = JSON.stringify(decisions).length;
  return { crossOriginIsolated, check, ...main, tailorExplained, decisionJsonBytes: bytes, explainedBytes, features: keys.length, slots: slotKeys.length };
};
window.benchReady = true;
