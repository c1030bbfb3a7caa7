// The RegExp the browser lends the core (src/web/js/host.js) must never throw: a
// throw would unwind through the .wasm and poison the instance (issue 12, item 1).
//
//   node --test tests/node/host-regex.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { regex_test } from '../../src/web/js/host.js';

test('a pattern V8 compiles but cannot run counts as invalid, every time', () => {
  // `new RegExp` accepts it; V8 compiles on the first `test` and throws
  // "Regular expression too large" there.
  const huge = 'a'.repeat(100_000);
  assert.throws(() => new RegExp(huge).test('b'), SyntaxError);
  assert.equal(regex_test(huge, false, 'b'), undefined);
  assert.equal(regex_test(huge, false, 'b'), undefined);
  assert.equal(regex_test(huge, true, 'b'), undefined);
});

test('an invalid pattern is undefined and a valid one still answers', () => {
  assert.equal(regex_test('(', false, 'x'), undefined);
  assert.equal(regex_test('^a(?=b)', false, 'ab'), true);
  assert.equal(regex_test('(?<!foo)bar', false, 'foobar'), false);
  assert.equal(regex_test('^A', true, 'abc'), true);
});
