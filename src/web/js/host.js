// What the Rust core borrows from the browser (see src/host.rs): the ECMAScript
// RegExp engine and number conversions, so the .wasm carries neither.
const patterns = new Map();

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
      re = new RegExp(pattern, insensitive ? "i" : "");
    } catch {
      re = null;
    }
    patterns.set(key, re);
  }
  if (re === null) return undefined;
  try {
    return re.test(subject);
  } catch {
    patterns.set(key, null);
    return undefined;
  }
}

export function number_to_string(n) {
  return String(n);
}

export function string_to_number(s) {
  return Number(s);
}

export function to_lower_case(s) {
  return s.toLowerCase();
}
