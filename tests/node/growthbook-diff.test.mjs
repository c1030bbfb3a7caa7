// Differential test: Tailor's GrowthBook-compatible conditions, hashing and bucketing
// against the real @growthbook/growthbook@1.8.0, on thousands of random inputs.
//
//   node --test tests/node/growthbook-diff.test.mjs
//
// Environment:
//   TAILOR_MODULE  the module under test (a file path, URL or package name); default
//                  ../../pkg/dist/node.js. "growthbook" compares GrowthBook with itself,
//                  which checks that the generator runs.
//   GB_DIFF_SEED   replay a run (the seed is printed on every run).
//   GB_DIFF_CASES  number of random conditions (default 3000, at least 1000).
//
// The module under test must export GrowthBook's names and signatures:
// evalCondition(attributes, condition, savedGroups?), hash(seed, value, version),
// getBucketRanges(numVariations, coverage?, weights?), chooseVariation(n, ranges),
// inNamespace(hashValue, namespace), getEqualWeights(n).
//
// Where GrowthBook throws (e.g. `{$or: null}`), Tailor must return false: a throw
// anywhere fails the whole condition. Tailor itself must never throw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
// The package's "exports" only opens "." (evalCondition, paddedVersionString); the
// hashing and bucketing helpers live in dist/esm/util.mjs, reached by file URL.
const gbRoot = pathToFileURL(require.resolve('@growthbook/growthbook/package.json'));
const gbMain = await import('@growthbook/growthbook');
const gbUtil = await import(new URL('dist/esm/util.mjs', gbRoot));
const GB = {
  evalCondition: gbMain.evalCondition,
  hash: gbUtil.hash,
  getBucketRanges: gbUtil.getBucketRanges,
  chooseVariation: gbUtil.chooseVariation,
  inNamespace: gbUtil.inNamespace,
  getEqualWeights: gbUtil.getEqualWeights,
};

async function loadTailor() {
  const spec = process.env.TAILOR_MODULE ?? new URL('../../pkg/dist/node.js', import.meta.url).href;
  if (spec === 'growthbook') return GB;
  const target = existsSync(spec) ? pathToFileURL(resolve(spec)).href : spec;
  const ns = await import(target);
  const mod = typeof ns.evalCondition === 'function' ? ns : ns.default ?? ns;
  if (mod.ready && typeof mod.ready.then === 'function') await mod.ready;
  for (const name of Object.keys(GB)) {
    assert.equal(typeof mod[name], 'function', `${spec} does not export ${name}()`);
  }
  return mod;
}
const T = await loadTailor();

// GrowthBook logs unknown operators and bad weights with console.error.
console.error = () => {};

// ---------------------------------------------------------------------------------
// Seeded randomness

const SEED = process.env.GB_DIFF_SEED ? Number(process.env.GB_DIFF_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const CASES = Math.max(1000, Number(process.env.GB_DIFF_CASES ?? 3000));
console.log(`growthbook-diff: GB_DIFF_SEED=${SEED} cases=${CASES} module=${T === GB ? 'growthbook (self-check)' : process.env.TAILOR_MODULE ?? 'pkg/dist/node.js'}`);

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const chance = (p) => rand() < p;
const times = (n, f) => Array.from({ length: n }, (_, i) => f(i));

// ---------------------------------------------------------------------------------
// Values: JSON only (no undefined, functions, NaN or lone surrogates)

const NUMBERS = [0, 1, -1, 2, 5, 8, 10, 18, 30, 1.5, -2.5, 0.1, 100, 1e21, 1e-7, 123456789012, 4294967296];
const STRINGS = [
  '', '0', '1', '5', '8', '10', '9', '-1', '1.5', ' 12 ', '0x10', '1e3', 'abc', 'ABC', 'a', 'A', 'b', 'x', 'Hello',
  'hello', 'true', 'false', 'null', '1,2', '[object Object]', 'é', 'É', 'e\u0301', '😀', '日本語', 'ß', 'STRASSE',
  'ΟΔΟΣ', 'οδος', '\u212a', 'k', 'İ', 'i', 'ｱ', '\uff61', 'FR', 'DE', 'fr', 'user-1', 'u1', '/path/x', 'a/b',
  '1.2.3', 'v1.2.3', '1.2.3-rc.1', '1.2.3-beta', '1.2.3+build', '1-2-3', '1.2', '1.10.0', '2.0.0', '1.2.3.4',
  '1.0.0-Alpha', '100000.0.0', 'function Object() { [native code] }', 'price: 100USD', 'abcabc', 'line\nbreak',
];
const VERSIONS = ['1.2.3', 'v1.2.3', '1.2.3-rc.1', '1.2.3-rc.2', '1.2.3-beta', '1.2.3+x', '1-2-3', '1.2', '1.2.3.4',
  '1.2.3-4', '1.10.0', '1.9.9', '2.0.0', '0.0.1', '1.0.0-alpha', '1.0.0-Alpha', '1.0.0-1', '99999.0.0', '100000.0.0',
  '', 'v', '1.2.3\n+x', 1, 2.5, 0, null];
const REGEXES = [
  '^a', 'a$', '^\\d+$', '\\d+(?=USD)', '(?<!foo)bar', '(?<=\\$)\\d+', '(a)\\1', '(abc)\\1', '^[a-z]+$', '^[A-Z]',
  'é', '😀', '^.$', '^.{2}$', 'a/b', '^/path/', '\\/', '//', '(', '[', '*', 'a{2', '^null$', '^true$', '^1,2$',
  '^\\w+$', 'ß', '^(?:1|2)+$', '\\bx\\b', '^$', '.', 'object', 'native code', '[^/]+/x', '^\\s*12\\s*$', 'e\\u0301',
];
const TYPES = ['null', 'array', 'string', 'number', 'boolean', 'object', 'undefined', 'unknown', 'function'];
const KEYS = ['a', 'b', 'c', '0', '1', '10', 'x', '$eq', 'length', 'constructor'];

function randomScalar() {
  switch (int(4)) {
    case 0: return pick(NUMBERS);
    case 1: return pick(STRINGS);
    case 2: return chance(0.5);
    default: return null;
  }
}

function randomValue(depth = 2) {
  if (depth <= 0 || chance(0.6)) return randomScalar();
  if (chance(0.5)) return times(int(4), () => randomValue(depth - 1));
  const obj = {};
  for (let i = int(4); i > 0; i--) obj[pick(KEYS)] = randomValue(depth - 1);
  return obj;
}

// ---------------------------------------------------------------------------------
// Attributes and saved groups

const PATHS = [
  'id', 'age', 'name', 'country', 'tags', 'tags.0', 'tags.1', 'tags.length', 'tags.constructor', 'tags.map',
  'tags.__proto__', 'obj', 'obj.a', 'obj.b', 'obj.b.c', 'obj.0', 'obj.constructor', 'obj.toString', 'obj.__proto__',
  'obj.__proto__.__proto__', 'obj.hasOwnProperty', 'list', 'list.0.b', 'list.1.b', 'version', 'flag', 'zero',
  'empty', 'nul', 'num', 'strNum', 'missing', 'missing.deep', 's.length', 's.0', 'a.b', '$groups', '0', 'unicode',
  'id.length', 'nested.list', 'nested.list.length', '',
];

function randomAttributes() {
  const attrs = {};
  const put = (k, f, p = 0.8) => { if (chance(p)) attrs[k] = f(); };
  put('id', () => pick(['u1', 'u2', 'a', 'b', 1, 2, 0, '', 'user-1', '😀', null]));
  put('age', () => pick([0, 5, 17, 18, 30, '18', '30', '', null, -5, [18], 'abc']));
  put('name', () => pick(STRINGS));
  put('country', () => pick(['FR', 'DE', 'fr', 'US', '', null, ['FR', 'DE'], 1]));
  put('tags', () => pick([[], ['a', 'b'], ['A'], [0, 1], [null, 'x'], ['', false], [1, '1', 2], [[1, 2]], 'a,b', null, times(int(5), randomScalar)]));
  put('obj', () => pick([{}, { a: 1 }, { a: '1', b: { c: 2 } }, { b: { c: null } }, { 0: 'z', a: [1] }, { toString: 5 }, randomValue(3)]));
  put('list', () => pick([[{ b: 1 }, { b: 2 }], [{ b: '2' }, null, 0], [], [{}], [{ b: { c: 3 } }], times(int(3), () => randomValue(2))]));
  put('version', () => pick(VERSIONS));
  put('flag', () => chance(0.5));
  put('zero', () => 0);
  put('empty', () => '');
  put('nul', () => null);
  put('num', () => pick(NUMBERS));
  put('strNum', () => pick(['5', '10', '0', '', ' 7 ', '1e2', '0x1f', 'x']));
  put('s', () => pick(['abc', '', 'é']));
  put('a.b', () => 1, 0.3);
  put('$groups', () => pick([['x'], 'x', 1]), 0.3);
  put('0', () => pick(['a', 'h', 'x', 1, [1]]), 0.3);
  put('1', () => pick(['b', 'i', 'y']), 0.2);
  put('unicode', () => pick(['é', 'É', 'ΟΔΟΣ', '😀', '\u212a', 'ß', 'İ', '日本語']));
  put('nested', () => ({ list: times(int(4), randomScalar) }), 0.5);
  put('', () => pick([1, 'x']), 0.1);
  return attrs;
}

function randomSavedGroups() {
  return {
    v1: times(int(4) + 1, () => pick(['u1', 'a', 1, 2, 'FR', 'x', 0, '', null, '1'])),
    empty: [],
    v2id: { type: 'list', attributeKey: 'id', values: times(int(4), () => pick(['u1', 'u2', 'a', 1, '1'])) },
    v2country: { type: 'list', attributeKey: 'country', values: ['FR', 'DE'] },
    v2tags: { type: 'list', attributeKey: 'tags', values: ['a', 0] },
    v2nokey: { type: 'list', values: ['u1', 'a'] },
    v2badkey: { type: 'list', attributeKey: 5, values: ['u1'] },
    cond: { type: 'condition', condition: randomCondition(1) },
    condAdult: { type: 'condition', condition: { age: { $gte: 18 } } },
    nested: { type: 'condition', condition: { $savedGroup: { id: 'condAdult' }, country: 'FR' } },
    cycleA: { type: 'condition', condition: { $savedGroup: { id: 'cycleB' } } },
    cycleB: { type: 'condition', condition: { $or: [{ $savedGroup: { id: 'cycleA' } }, { id: 'u1' }] } },
    self: { type: 'condition', condition: { $not: { $savedGroup: { id: 'self' } } } },
    arrCond: { type: 'condition', condition: ['a'] },
    strCond: { type: 'condition', condition: 'x' },
    badList: { type: 'list', attributeKey: 'id', values: 'u1' },
    nul: null,
    future: { type: 'segment', values: ['u1'] },
    1: ['a', 'u1'],
  };
}
const GROUP_IDS = ['v1', 'empty', 'v2id', 'v2country', 'v2tags', 'v2nokey', 'v2badkey', 'cond', 'condAdult', 'nested',
  'cycleA', 'cycleB', 'self', 'arrCond', 'strCond', 'badList', 'nul', 'future', '1', 'missing', 'constructor',
  'toString', '__proto__'];

// ---------------------------------------------------------------------------------
// Conditions

function randomLiteral() {
  return chance(0.75) ? randomScalar() : randomValue(2);
}

function randomScalarList() {
  return times(int(4), () => (chance(0.85) ? randomScalar() : randomValue(1)));
}

function randomOperator(depth) {
  const op = pick([
    '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$exists', '$in', '$nin', '$ini', '$nini', '$all', '$alli',
    '$elemMatch', '$size', '$type', '$regex', '$regexi', '$not', '$veq', '$vne', '$vgt', '$vgte', '$vlt', '$vlte',
    '$inGroup', '$notInGroup', '$regx', '$notRegex', '$gt', '$in', '$elemMatch', '$regex', '$vgt',
  ]);
  let v;
  switch (op) {
    case '$eq': case '$ne': v = chance(0.9) ? randomScalar() : randomValue(1); break;
    case '$gt': case '$gte': case '$lt': case '$lte': v = chance(0.9) ? pick([...NUMBERS, ...STRINGS, null, true]) : randomValue(1); break;
    case '$exists': v = chance(0.8) ? chance(0.5) : randomScalar(); break;
    case '$in': case '$nin': case '$ini': case '$nini': v = chance(0.9) ? randomScalarList() : randomScalar(); break;
    case '$all': case '$alli':
      v = chance(0.9) ? times(int(3), () => (chance(0.7) ? randomScalar() : randomValueCondition(depth - 1))) : randomScalar();
      break;
    case '$elemMatch':
      v = chance(0.5) ? randomOperatorObject(depth - 1) : chance(0.8) ? randomCondition(depth - 1) : randomLiteral();
      break;
    case '$size': v = chance(0.6) ? pick([0, 1, 2, 3, '2']) : randomValueCondition(depth - 1); break;
    case '$type': v = chance(0.9) ? pick(TYPES) : randomScalar(); break;
    // GrowthBook caches compiled patterns under `${pattern}`, so a non-string pattern
    // whose String() was seen as a pattern before would reuse it: history-dependent,
    // so non-string patterns are kept out of REGEXES' String() values.
    case '$regex': case '$regexi': v = chance(0.95) ? pick(REGEXES) : pick([null, 5, true, {}]); break;
    case '$not': v = randomValueCondition(depth - 1); break;
    case '$veq': case '$vne': case '$vgt': case '$vgte': case '$vlt': case '$vlte': v = pick(VERSIONS); break;
    case '$inGroup': case '$notInGroup': v = chance(0.9) ? pick(GROUP_IDS) : pick([1, null, ['v1']]); break;
    default: v = randomScalar();
  }
  return [op, v];
}

function randomOperatorObject(depth) {
  const obj = {};
  for (let i = 1 + int(2); i > 0; i--) {
    const [op, v] = randomOperator(depth);
    obj[op] = v;
  }
  return obj;
}

function randomValueCondition(depth) {
  if (depth <= 0 || chance(0.35)) return randomLiteral();
  return randomOperatorObject(depth);
}

function randomCondition(depth = 3) {
  const cond = {};
  for (let i = chance(0.1) ? 0 : 1 + int(3); i > 0; i--) {
    const r = rand();
    if (depth > 0 && r < 0.08) cond.$or = times(int(4), () => randomCondition(depth - 1));
    else if (depth > 0 && r < 0.14) cond.$and = times(int(4), () => randomCondition(depth - 1));
    else if (depth > 0 && r < 0.19) cond.$nor = times(int(3), () => randomCondition(depth - 1));
    else if (depth > 0 && r < 0.25) cond.$not = randomCondition(depth - 1);
    else if (r < 0.31) {
      const ref = { id: pick(GROUP_IDS) };
      if (chance(0.3)) ref.attributeKey = pick(['id', 'country', 'tags', 'missing', 5, null]);
      cond.$savedGroup = chance(0.95) ? ref : pick(['v1', null, ['v1'], 1]);
    } else if (r < 0.325) {
      // Malformed operands: GrowthBook throws or coerces; Tailor must agree (throw = false).
      cond[pick(['$or', '$and', '$nor', '$not'])] = pick([null, 5, true, 'ax', {}, { length: 1, 0: { id: 'u1' } }, [null], ['h']]);
    } else {
      cond[pick(PATHS)] = randomValueCondition(depth);
    }
  }
  return cond;
}

// ---------------------------------------------------------------------------------
// Runner

function outcome(f) {
  try {
    return { value: f() };
  } catch (e) {
    return { threw: e };
  }
}

// Tailor never throws; in the self-check GrowthBook stands in, so its throws count as false.
const SELF_CHECK = T === GB;
function tailorCondition(attributes, condition, groups) {
  const got = outcome(() => T.evalCondition(clone(attributes), clone(condition), clone(groups)));
  return SELF_CHECK && got.threw ? { value: false } : got;
}

function report(failures, what) {
  if (!failures.length) return;
  const shown = failures.slice(0, 10).map((f) => JSON.stringify(f)).join('\n  ');
  assert.fail(`${failures.length} ${what} differ from GrowthBook (GB_DIFF_SEED=${SEED}):\n  ${shown}`);
}

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

test(`evalCondition agrees with GrowthBook 1.8.0 (seed ${SEED})`, (t) => {
  t.diagnostic(`GB_DIFF_SEED=${SEED}`);
  const failures = [];
  let evaluated = 0;
  let passed = 0;
  let threw = 0;
  for (let i = 0; i < CASES; i++) {
    const condition = randomCondition(3);
    const groups = chance(0.8) ? randomSavedGroups() : undefined;
    for (let k = 0; k < 3; k++) {
      const attributes = randomAttributes();
      const gb = outcome(() => GB.evalCondition(clone(attributes), clone(condition), clone(groups)));
      const expected = gb.threw ? false : gb.value;
      const got = tailorCondition(attributes, condition, groups);
      evaluated++;
      if (gb.threw) threw++;
      if (expected) passed++;
      if (got.threw || got.value !== expected) {
        failures.push({ attributes, condition, savedGroups: groups, growthbook: gb.threw ? `throws ${gb.threw.message}` : gb.value, tailor: got.threw ? `throws ${got.threw.message}` : got.value });
      }
    }
  }
  t.diagnostic(`${evaluated} evaluations, ${passed} true, ${threw} where GrowthBook throws`);
  // The generator must exercise both outcomes substantially.
  assert.ok(passed > evaluated * 0.1 && passed < evaluated * 0.9, `unbalanced outcomes: ${passed}/${evaluated}`);
  report(failures, 'conditions');
});

test('every operator and quirk has a fixed case too', () => {
  const attrs = { age: '8', tags: [0, 1], v: '1.2.3', s: 'abc', o: {} };
  const fixed = [
    [{ age: { $gt: 5 } }], [{ missing: { $gt: -10, $lt: 10 } }], [{ tags: { $elemMatch: { $eq: 0 } } }],
    [{ v: { $vgt: '1.2.3-rc.1' } }], [{ 's.length': null }], [{ 'o.constructor': { $exists: true } }],
    [{ 'tags.length': 2 }], [{ $nor: [] }], [{ $or: [] }], [{ age: { $regex: 'a/b' } }], [{ x: { $in: 1 } }],
    [{ x: { $nin: 1 } }], [{ id: { $inGroup: 'g' } }, { g: { type: 'condition', condition: {} } }],
    [{ id: { $notInGroup: 'g' } }, { g: { type: 'condition', condition: {} } }], [{ $or: null }],
    [{ $not: { $or: null } }], [{ tags: { $elemMatch: null } }], [{ age: { $type: 'string' } }],
  ];
  const failures = [];
  for (const [c, g] of fixed) {
    const gb = outcome(() => GB.evalCondition(clone(attrs), clone(c), clone(g)));
    const got = tailorCondition(attrs, c, g);
    if (got.threw || got.value !== (gb.threw ? false : gb.value)) failures.push({ c, g, gb, got });
  }
  report(failures, 'fixed conditions');
});

function randomUnicode(maxLen) {
  let s = '';
  for (let i = int(maxLen + 1); i > 0; i--) {
    const r = rand();
    if (r < 0.5) s += String.fromCharCode(0x20 + int(0x5f));
    else if (r < 0.65) s += String.fromCharCode(0xa0 + int(0x160));
    else if (r < 0.8) s += String.fromCharCode(0x4e00 + int(0x5000));
    else if (r < 0.9) s += String.fromCodePoint(0x1f300 + int(0x300));
    else if (r < 0.95) s += String.fromCharCode(0xe000 + int(0x1f00)); // private use up to U+FEFF
    else s += String.fromCharCode(0xff00 + int(0xff));
  }
  return s;
}

test(`hash agrees with GrowthBook on random unicode (seed ${SEED})`, () => {
  const failures = [];
  for (let i = 0; i < 5000; i++) {
    const seed = chance(0.1) ? '' : randomUnicode(12);
    const value = chance(0.05) ? '' : randomUnicode(24);
    for (const version of [1, 2, 3, 0]) {
      const expected = GB.hash(seed, value, version);
      const got = T.hash(seed, value, version);
      if (!Object.is(got, expected)) failures.push({ seed, value, version, growthbook: expected, tailor: got });
    }
  }
  report(failures, 'hashes');
});

function randomWeights(n) {
  switch (int(5)) {
    case 0: return undefined;
    case 1: { // valid
      const raw = times(n, () => rand());
      const total = raw.reduce((a, b) => a + b, 0) || 1;
      return raw.map((w) => w / total);
    }
    case 2: return times(Math.max(0, n + pick([-1, 1])), () => 1 / Math.max(1, n)); // wrong length
    case 3: return times(n, () => rand()); // bad sum (usually)
    default: return times(n, () => Math.round(rand() * 100) / 100); // maybe within 1 ± 0.01
  }
}

test(`bucketing agrees with GrowthBook (seed ${SEED})`, () => {
  const failures = [];
  for (let i = 0; i < 3000; i++) {
    const n = int(8) - 1;
    const coverage = chance(0.2) ? undefined : pick([0, 1, 0.5, rand(), rand() * 2 - 0.5, -1, 2]);
    const weights = randomWeights(Math.max(n, 0));
    const expected = GB.getBucketRanges(n, coverage, clone(weights));
    const got = T.getBucketRanges(n, coverage, clone(weights));
    try {
      assert.deepStrictEqual(got.map((r) => [...r]), expected);
    } catch {
      failures.push({ fn: 'getBucketRanges', n, coverage, weights, growthbook: expected, tailor: got });
    }
    for (let k = 0; k < 5; k++) {
      const x = pick([rand(), Math.round(rand() * 1000) / 1000, Math.round(rand() * 10000) / 10000, 0, 1, ...expected.flat()]);
      const a = GB.chooseVariation(x, expected);
      const b = T.chooseVariation(x, clone(expected));
      if (a !== b) failures.push({ fn: 'chooseVariation', x, ranges: expected, growthbook: a, tailor: b });
    }
  }
  for (let n = -2; n <= 20; n++) {
    try {
      assert.deepStrictEqual([...T.getEqualWeights(n)], GB.getEqualWeights(n));
    } catch {
      failures.push({ fn: 'getEqualWeights', n });
    }
  }
  for (let i = 0; i < 3000; i++) {
    const hashValue = randomUnicode(10);
    const start = pick([0, 0.25, 0.5, Math.round(rand() * 1000) / 1000, rand()]);
    const end = pick([1, 0.5, start + rand() * (1 - start), Math.round(rand() * 1000) / 1000]);
    const ns = [chance(0.2) ? '' : randomUnicode(6), start, end];
    const a = GB.inNamespace(hashValue, ns);
    const b = T.inNamespace(hashValue, clone(ns));
    if (a !== b) failures.push({ fn: 'inNamespace', hashValue, ns, growthbook: a, tailor: b });
  }
  report(failures, 'bucketing results');
});
