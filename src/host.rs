//! What the core borrows from its host: the ECMAScript pieces that the browser already
//! ships (RegExp, number formatting and parsing). In the browser `web/` lends the real
//! ones through js-sys; natively [`NativeHost`] provides ECMAScript-compatible
//! stand-ins so every rule can be tested with `cargo test`.

/// ECMAScript facilities the core needs but does not carry in the .wasm.
pub trait Host {
    /// `new RegExp(pattern, insensitive ? "i" : "").test(subject)`; `None` when the
    /// pattern is not a valid ECMAScript regular expression.
    fn regex_test(&self, pattern: &str, insensitive: bool, subject: &str) -> Option<bool>;
    /// JavaScript `String(n)` for a number.
    fn number_to_string(&self, n: f64) -> String;
    /// JavaScript `Number(s)` for a string (`""` is 0, `" 0x1F "` is 31, junk is NaN).
    fn string_to_number(&self, s: &str) -> f64;
    /// JavaScript `s.toLowerCase()`. The default lowers ASCII only; the browser lends
    /// its own and [`NativeHost`] uses Rust's Unicode lowering, so the .wasm carries
    /// no case tables.
    fn to_lower_case(&self, s: &str) -> String {
        s.to_ascii_lowercase()
    }
}

/// Number formatting for the core's own storage formats and messages, where JavaScript's
/// exact `String(n)` does not matter and no host is at hand: [`crate::json::plain_number`]
/// and [`crate::json::decimal_to_f64`], which keep Rust's float formatting and parsing
/// (about 30 KB of .wasm) out. No regex support.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainHost;

impl Host for PlainHost {
    fn regex_test(&self, _pattern: &str, _insensitive: bool, _subject: &str) -> Option<bool> {
        None
    }
    fn number_to_string(&self, n: f64) -> String {
        crate::json::plain_number(n)
    }
    fn string_to_number(&self, s: &str) -> f64 {
        let t = s.trim();
        // Only JSON number literals are converted here; anything else is NaN.
        match crate::json::parse(t) {
            Ok(crate::json::Value::Number(n)) => n,
            _ => f64::NAN,
        }
    }
}

/// The native host: the `regress` ECMAScript regex engine and `ryu-js` formatting.
/// Used by native tests and benchmarks; never compiled into the .wasm.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeHost;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Host for NativeHost {
    fn regex_test(&self, pattern: &str, insensitive: bool, subject: &str) -> Option<bool> {
        let flags = if insensitive { "i" } else { "" };
        let re = regress::Regex::with_flags(pattern, flags).ok()?;
        Some(re.find(subject).is_some())
    }

    fn number_to_string(&self, n: f64) -> String {
        if n.is_nan() {
            return "NaN".into();
        }
        if n.is_infinite() {
            return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
        }
        ryu_js::Buffer::new().format(n).to_string()
    }

    fn string_to_number(&self, s: &str) -> f64 {
        js_string_to_number(s)
    }

    fn to_lower_case(&self, s: &str) -> String {
        s.to_lowercase()
    }
}

/// ECMAScript StringToNumber (ECMA-262 §7.1.4.1.1), for the native host.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn js_string_to_number(s: &str) -> f64 {
    // JS whitespace and line terminators.
    let is_ws = |c: char| {
        matches!(c, '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}'
            | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}'
            | '\u{3000}' | '\u{feff}')
    };
    let t = s.trim_matches(is_ws);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(digits) = t.strip_prefix(prefix) {
            if digits.is_empty() {
                return f64::NAN;
            }
            let mut v = 0.0f64;
            for c in digits.chars() {
                match c.to_digit(radix) {
                    Some(d) => v = v * radix as f64 + d as f64,
                    None => return f64::NAN,
                }
            }
            return v;
        }
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'-' => (-1.0, &t[1..]),
        b'+' => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    // StrDecimalLiteral: digits [. digits] [e[+-]digits], or . digits; nothing else
    // (Rust's parser would also accept "inf", "nan", "infinity").
    let b = body.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if int + frac == 0 {
        return f64::NAN;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return f64::NAN;
        }
    }
    if i != b.len() {
        return f64::NAN;
    }
    // Rust rejects "5." and ".5"? It accepts both; normalise anyway for safety.
    let normal = if body.ends_with('.') { format!("{body}0") } else { body.to_string() };
    normal.parse::<f64>().map(|v| sign * v).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_number_follows_ecmascript() {
        let h = NativeHost;
        for (s, want) in [
            ("", 0.0),
            ("  12 ", 12.0),
            ("0x1F", 31.0),
            ("0b101", 5.0),
            ("-1.5e3", -1500.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("+Infinity", f64::INFINITY),
        ] {
            assert_eq!(h.string_to_number(s), want, "{s:?}");
        }
        for s in ["abc", "1,2", "inf", "NaN", "-0x10", "1e", "."] {
            assert!(h.string_to_number(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn number_to_string_follows_ecmascript() {
        let h = NativeHost;
        assert_eq!(h.number_to_string(0.1), "0.1");
        assert_eq!(h.number_to_string(1e21), "1e+21");
        assert_eq!(h.number_to_string(1.5e-7), "1.5e-7");
        assert_eq!(h.number_to_string(f64::NAN), "NaN");
    }

    #[test]
    fn regex_is_ecmascript() {
        let h = NativeHost;
        assert_eq!(h.regex_test("^a(?=b)", false, "ab"), Some(true));
        assert_eq!(h.regex_test("(a)\\1", false, "aa"), Some(true));
        assert_eq!(h.regex_test("^A", true, "abc"), Some(true));
        assert_eq!(h.regex_test("(", false, "x"), None);
    }
}
