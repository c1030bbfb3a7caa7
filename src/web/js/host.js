// What the Rust core borrows from the browser (see src/host.rs): the ECMAScript
// RegExp engine and number conversions, so the .wasm carries neither.
//
// None of these may throw (an exception would unwind through the .wasm), and none
// reads a global the host page can replace after Tailor loaded: the RegExp and
// toLowerCase functions are taken now, and numbers convert with operators.
const patterns = new Map();
const NativeRegExp = RegExp;
const regexTest = RegExp.prototype.test;
const lower = String.prototype.toLowerCase;

// Never throws: an exception here would unwind through the .wasm and leave the
// instance unusable (withdrawal included). `new RegExp` throws for a bad pattern,
// and `test` can throw too: V8 compiles lazily, so "Regular expression too large"
// or a stack overflow only appears on the first test. Both count as an invalid
// pattern (`undefined`, false in conditions), as GrowthBook, which catches them.
export function regex_test(pattern, insensitive, subject) {
  const key = (insensitive ? "i/" : "/") + pattern;
  let re = patterns.get(key);
  if (re === undefined) {
    try {
      re = new NativeRegExp(pattern, insensitive ? "i" : "");
    } catch {
      re = null;
    }
    patterns.set(key, re);
  }
  if (re === null) return undefined;
  try {
    return regexTest.call(re, subject);
  } catch {
    patterns.set(key, null);
    return undefined;
  }
}

/** `String(n)`, for a number: `"" + n` is the same ToString, and cannot be replaced. */
export function number_to_string(n) {
  return "" + n;
}

/** `Number(s)`, for a string: unary plus is the same ToNumber. */
export function string_to_number(s) {
  return +s;
}

export function to_lower_case(s) {
  try {
    return lower.call(s);
  } catch {
    return s;
  }
}
