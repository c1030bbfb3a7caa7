// What the Rust core borrows from the browser (see src/host.rs): the ECMAScript
// RegExp engine and number conversions, so the .wasm carries neither.
const patterns = new Map();

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
  return re === null ? undefined : re.test(subject);
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
