//! A small JSON value model, parser and writer.
//!
//! Why not serde_json: it costs tens of kilobytes of gzipped .wasm, and the core needs
//! two things it does not give cheaply: objects that keep their key order (GrowthBook
//! compares objects by `JSON.stringify`, which depends on key order) and parse errors
//! with a line and column a rule author can act on.

use crate::host::Host;

/// A JSON value. Numbers are `f64`, as in JavaScript.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (also the default, left behind by `std::mem::take`)
    #[default]
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Any JSON number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in document order.
    Object(Map),
}

/// A JSON object that keeps its keys in insertion order.
///
/// Lookups are linear: rule objects have a handful of keys, and a vector is both
/// smaller in the .wasm and faster than a hash map at that size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(pub Vec<(String, Value)>);

impl Map {
    /// An empty object.
    pub fn new() -> Self {
        Map(Vec::new())
    }
    /// The value stored under `key`, if any (the last one wins, as in `JSON.parse`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// [`Map::get`], for moving or changing the value in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Sets `key`, replacing an existing entry in place or appending a new one.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
    /// Iterates over entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// Iterates over entries in order, values (and keys) open to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&mut String, &mut Value)> {
        self.0.iter_mut().map(|(k, v)| (k, v))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Value {
    /// The object behind this value, if it is one.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// The array behind this value, if it is one.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    /// The string behind this value, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The number behind this value, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    /// The boolean behind this value, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// Member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }
    /// The JSON type name used in error messages: "null", "boolean", "number",
    /// "string", "array" or "object".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
    /// What a validation message says was found: `string "x"`, `number 3`,
    /// `boolean true`, or the type name (`null`, `array`, `object`).
    pub fn describe(&self) -> String {
        match self {
            Value::String(s) => format!("string {}", quote(s)),
            Value::Number(n) => format!("number {}", plain_number(*n)),
            Value::Bool(b) => format!("boolean {b}"),
            other => other.type_name().to_string(),
        }
    }

    /// Serialises the value as compact JSON, formatting numbers as JavaScript does.
    pub fn to_json(&self, host: &dyn Host) -> String {
        let mut out = String::new();
        self.write_json(&mut out, host);
        out
    }

    fn write_json(&self, out: &mut String, host: &dyn Host) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) if n.is_finite() => out.push_str(&number_to_string(*n, host)),
            Value::Number(_) => out.push_str("null"),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out, host);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.0.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write_json(out, host);
                }
                out.push('}');
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}
impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

/// Formats a number exactly as JavaScript's `String(n)` does.
///
/// Safe integers take a fast path in Rust; everything else asks the host, because
/// JavaScript's shortest round-trip formatting (and its `1e+21` style) is not what
/// Rust's `Display` produces, and the browser already carries the real thing.
pub fn number_to_string(n: f64, host: &dyn Host) -> String {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return integer_to_string(n); // "0" for -0 too, as in JS
    }
    host.number_to_string(n)
}

/// Appends `s` as a JSON string literal (see [`quote`]).
pub(crate) fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    // Copies runs of plain characters at once; only ASCII bytes are ever escaped, so
    // every cut falls on a character boundary.
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            8 => "\\b",
            12 => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(slice(s, start..i));
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b as usize) >> 4] as char);
            out.push(HEX[(b as usize) & 15] as char);
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(slice(s, start..));
    out.push('"');
}

/// A JSON syntax error, with the 1-based line and column where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was wrong, e.g. "expected ',' or '}' after an object member".
    pub message: String,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "invalid JSON at line {}, column {} ({})", self.line, self.column, self.message)
    }
}

/// Parses a JSON text (RFC 8259). Nesting deeper than 128 levels is rejected rather
/// than risking the stack on hostile input.
///
/// Numbers go through [`decimal_to_f64`], which is exact for every number with at most
/// 15 significant digits and a decimal exponent within ±22 (all that rules, consent
/// records and profiles hold) and within an ulp beyond. Where JavaScript's exact
/// result matters (conditions from users), use [`parse_with_host`]. Rust's own float
/// parser is kept out on purpose: with its tables it weighs about 10 KB of .wasm.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    parse_numbers_with(text, &decimal_to_f64)
}

/// Converts a JSON number literal (already validated) to `f64` without Rust's float
/// parser: Clinger's fast path, exact when the significand fits in 2^53 and the
/// exponent in ±22; a close approximation otherwise.
pub fn decimal_to_f64(literal: &str) -> f64 {
    decimal_with_exactness(literal).0
}

/// `literal` converted, and whether the result is exact: Clinger's fast path (every
/// digit kept, significand below 2^53, exponent within ±22) rounds once, correctly,
/// so it equals JavaScript's `Number(literal)`.
fn decimal_with_exactness(literal: &str) -> (f64, bool) {
    let (negative, body) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal),
    };
    // Integers of up to 15 digits (counts, times, indexes: most numbers stored).
    if !body.is_empty() && body.len() <= 15 && body.bytes().all(|b| b.is_ascii_digit()) {
        let n = body.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')) as f64;
        return (if negative { -n } else { n }, true);
    }
    let (mantissa_part, exp_part) = match body.bytes().position(|b| b == b'e' || b == b'E') {
        Some(i) => (slice(body, ..i), slice(body, i + 1..)),
        None => (body, ""),
    };
    let mut exponent: i32 = 0;
    if !exp_part.is_empty() {
        let (sign, digits) = match exp_part.as_bytes()[0] {
            b'-' => (-1, slice(exp_part, 1..)),
            b'+' => (1, slice(exp_part, 1..)),
            _ => (1, exp_part),
        };
        let mut e: i32 = 0;
        for d in digits.bytes() {
            e = e.saturating_mul(10).saturating_add((d - b'0') as i32);
        }
        exponent = sign * e;
    }
    let mut significand: u64 = 0;
    let mut digits = 0;
    let mut dropped = false;
    let mut seen_point = false;
    for b in mantissa_part.bytes() {
        if b == b'.' {
            seen_point = true;
            continue;
        }
        // The exponent saturates: an exponent literal may already be at i32's bound.
        if significand == 0 && b == b'0' {
            if seen_point {
                exponent = exponent.saturating_sub(1);
            }
            continue;
        }
        if digits < 19 {
            significand = significand * 10 + (b - b'0') as u64;
            digits += 1;
            if seen_point {
                exponent = exponent.saturating_sub(1);
            }
        } else {
            dropped |= b != b'0';
            if !seen_point {
                exponent = exponent.saturating_add(1); // digits beyond 19 only scale
            }
        }
    }
    let exact = !dropped && (significand == 0 || (significand < (1 << 53) && (-22..=22).contains(&exponent)));
    let m = significand as f64;
    let value = if significand == 0 {
        0.0
    } else if significand < (1 << 53) && (-22..=22).contains(&exponent) {
        if exponent >= 0 { m * POW10[exponent as usize] } else { m / POW10[(-exponent) as usize] }
    } else if exponent > 308 + 19 {
        f64::INFINITY
    } else if exponent < -343 {
        0.0
    } else {
        // Split the scaling so intermediate values neither overflow nor underflow early.
        let mut v = m;
        let mut e = exponent;
        while e > 22 {
            v *= 1e22;
            e -= 22;
        }
        while e < -22 {
            v /= 1e22;
            e += 22;
        }
        if e >= 0 { v * POW10[e as usize] } else { v / POW10[(-e) as usize] }
    };
    (if negative { -value } else { value }, exact)
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `s[range]`, or `""` when the range is out of bounds or would cut a character. Every
/// caller cuts at ASCII positions it found itself, so this never happens; unlike
/// indexing, it has no panic path, whose message formatting (and Unicode tables) cost
/// the .wasm several KB.
pub fn slice<R: std::slice::SliceIndex<str, Output = str>>(s: &str, range: R) -> &str {
    s.get(range).unwrap_or("")
}

/// A JSON string literal for `s` (quotes and escapes), for messages: cheaper in the
/// .wasm than `{:?}`, which pulls in Unicode printability tables.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

/// Formats a number for messages and the core's own storage formats without a host:
/// exact for integers below 2^53, six decimals at most otherwise; magnitudes from
/// 2^64 up and non-zero ones below 10^-6 in JavaScript's exponent style with six
/// significant digits at most (`1e+308`, `1.5e-7`). (Rust's float formatting weighs
/// about 20 KB of .wasm.)
pub fn plain_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return integer_to_string(n);
    }
    // Beyond u64 the integer digits below cannot be written (the cast saturates), and
    // below a micro-unit the six decimals would say 0.
    if n.abs() >= 18_446_744_073_709_551_616.0 || n.abs() < 1e-6 {
        return exponent_form(n);
    }
    let scaled = (n.abs() * 1e6).round();
    if scaled >= 9_007_199_254_740_992.0 {
        // Beyond 2^53 micro-units: the integer part is all that is meaningful.
        return integer_to_string(n.trunc());
    }
    let int = (scaled / 1e6).trunc();
    let mut frac = (scaled - int * 1e6) as u64;
    let mut out = if n < 0.0 { String::from("-") } else { String::new() };
    out.push_str(&integer_to_string(int));
    if frac > 0 {
        let mut width = 6;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        let digits = integer_to_string(frac as f64);
        out.push('.');
        for _ in digits.len()..width {
            out.push('0');
        }
        out.push_str(&digits);
    }
    out
}

/// `n` (finite, non-zero) as `d.ddddde±x`, six significant digits at most, the way
/// JavaScript writes large and tiny numbers.
fn exponent_form(n: f64) -> String {
    let mut m = n.abs();
    let mut exponent = 0i32;
    // At most 324 steps each way; the rounding error they add stays far below the
    // sixth digit.
    while m >= 10.0 {
        m /= 10.0;
        exponent += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        exponent -= 1;
    }
    let mut digits = (m * 1e5).round();
    if digits >= 1e6 {
        digits = (digits / 10.0).round();
        exponent += 1;
    }
    let mut digits = digits as u64;
    while digits % 10 == 0 && digits >= 10 {
        digits /= 10;
    }
    let text = integer_to_string(digits as f64);
    let mut out = String::with_capacity(16);
    if n < 0.0 {
        out.push('-');
    }
    out.push_str(slice(&text, ..1));
    if text.len() > 1 {
        out.push('.');
        out.push_str(slice(&text, 1..));
    }
    out.push_str(if exponent < 0 { "e-" } else { "e+" });
    out.push_str(&integer_to_string(exponent.unsigned_abs() as f64));
    out
}

fn integer_to_string(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    let mut digits = Vec::new();
    let mut v = n.abs() as u64;
    while v > 0 {
        digits.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
    if n < 0.0 {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// [`parse`], converting numbers with the host's `Number(s)`: JSON's number grammar is a
/// subset of JavaScript's, so the result is identical and correctly rounded. Literals
/// the fast path converts exactly (integers, prices, weights like `0.05`) never leave
/// Rust: in the browser each host call crosses into JavaScript.
pub fn parse_with_host(text: &str, host: &dyn Host) -> Result<Value, ParseError> {
    parse_numbers_with(text, &|s: &str| match decimal_with_exactness(s) {
        (v, true) => v,
        _ => host.string_to_number(s),
    })
}

fn parse_numbers_with(text: &str, number: &dyn Fn(&str) -> f64) -> Result<Value, ParseError> {
    if text.starts_with('\u{feff}') {
        return Err(ParseError { line: 1, column: 1, message: "a byte-order mark (BOM) starts the text; save the file as UTF-8 without BOM".into() });
    }
    let mut p = Parser { src: text.as_bytes(), pos: 0, text, number };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.src.len() {
        return Err(p.error("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    text: &'a str,
    number: &'a dyn Fn(&str) -> f64,
}

const MAX_DEPTH: usize = 128;

/// Up to this many keys, a repeated key is found by a linear scan as it is parsed.
const SMALL_OBJECT: usize = 16;

/// Leaves one entry per key, where the key first appeared, holding its last value
/// (what `JSON.parse` builds, and what [`Map::insert`] does one key at a time).
fn keep_last_of_each_key(entries: &mut Vec<(String, Value)>) {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Stable: the entries of one key stay in document order.
    crate::rules::sort_positions(&mut order, &|a, b| entries[a].0.cmp(&entries[b].0));
    let mut repeated = vec![false; entries.len()];
    let mut any = false;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && entries[order[j]].0 == entries[order[i]].0 {
            j += 1;
        }
        if j - i > 1 {
            let last = std::mem::take(&mut entries[order[j - 1]].1);
            entries[order[i]].1 = last;
            for &k in &order[i + 1..j] {
                repeated[k] = true;
            }
            any = true;
        }
        i = j;
    }
    if any {
        let mut k = 0;
        entries.retain(|_| {
            k += 1;
            !repeated[k - 1]
        });
    }
}

impl Parser<'_> {
    fn error(&self, message: &str) -> ParseError {
        let before = slice(self.text, ..self.pos.min(self.text.len()));
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError { line, column, message: message.into() }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting is deeper than 128 levels"));
        }
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                return Err(self.error("a trailing comma before '}' (JSON allows none)"));
            }
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let v = self.value(depth + 1)?;
            // Small objects replace a repeated key at once; larger ones are freed of
            // repeats in one sorted pass at the end, so a hostile object of many keys
            // costs n log n rather than n² comparisons.
            if map.len() < SMALL_OBJECT {
                map.insert(key, v);
            } else {
                map.0.push((key, v));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    if map.len() > SMALL_OBJECT {
                        keep_last_of_each_key(&mut map.0);
                    }
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected ',' or '}' after an object member")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b']') {
                return Err(self.error("a trailing comma before ']' (JSON allows none)"));
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']' after an array element")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self.src.get(self.pos..self.pos + 4).ok_or_else(|| self.error("bad \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.error("bad \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        // Most strings have no escape: one exact allocation, no growing.
        let start = self.pos;
        let plain_end = self.src[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|n| start + n);
        if let Some(end) = plain_end.filter(|&e| self.src[e] == b'"') {
            self.pos = end + 1;
            return Ok(slice(self.text, start..end).to_owned());
        }
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(slice(self.text, start..self.pos));
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or_else(|| self.error("unterminated string"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.src[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            // A lone surrogate cannot live in a Rust string: it becomes U+FFFD.
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape in string"));
                        }
                    }
                }
                Some(_) => return Err(self.error("control character in string")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let int_len = self.pos - int_start;
        if int_len == 0 || (int_len > 1 && self.src[int_start] == b'0') {
            return Err(self.error("invalid number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let frac = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == frac {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let exp = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == exp {
                return Err(self.error("invalid number"));
            }
        }
        Ok(Value::Number((self.number)(slice(self.text, start..self.pos))))
    }
}

/// Where a value is in a JSON text: 1-based line and column (in characters), as
/// [`ParseError`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// The position in `text` (a valid JSON text) of what `path` names, as the rules'
/// problems write paths: `$`, then `.key` or `["key"]` for a member, `[n]` for an array
/// element. A member is located at its key (where an unknown or misspelt field is
/// written), an element at its first character; of repeated keys, the last (the one
/// `JSON.parse` keeps). `None` when the text is not valid JSON or the path does not lead
/// to a value in it.
pub fn locate(text: &str, path: &str) -> Option<Position> {
    let steps = path_steps(path)?;
    let src = text.as_bytes();
    let mut at = skip_space(src, 0);
    let mut found = at;
    for step in steps {
        let next = match step {
            Step::Key(key) => member(text, at, &key)?,
            Step::Index(n) => element(src, at, n)?,
        };
        found = next.0;
        at = next.1;
    }
    let before = slice(text, ..found);
    Some(Position {
        line: before.matches('\n').count() + 1,
        column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
    })
}

enum Step {
    Key(String),
    Index(usize),
}

/// `$.a["b c"][2]` as steps; `None` for anything else.
fn path_steps(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted key: a JSON string up to its closing quote.
            let mut end = 0;
            let b = r.as_bytes();
            while end < b.len() && b[end] != b'"' {
                end += if b[end] == b'\\' { 2 } else { 1 };
            }
            let key = match parse(&rest[1..end + 3]).ok()? {
                Value::String(k) => k,
                _ => return None,
            };
            steps.push(Step::Key(key));
            rest = r.get(end + 1..)?.strip_prefix(']')?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            steps.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

fn skip_space(src: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = src.get(at) {
        at += 1;
    }
    at
}

/// The end of the string starting at `at` (its opening quote).
fn string_end(src: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        match src.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The end of the value starting at `at`.
fn value_end(src: &[u8], at: usize) -> Option<usize> {
    match src.get(at)? {
        b'"' => string_end(src, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match src.get(i)? {
                    b'"' => {
                        i = string_end(src, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while let Some(c) = src.get(i) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

/// In the object at `at`: the last member named `key`, as (its key's offset, its
/// value's offset).
fn member(text: &str, at: usize, key: &str) -> Option<(usize, usize)> {
    let src = text.as_bytes();
    if src.get(at) != Some(&b'{') {
        return None;
    }
    let mut i = skip_space(src, at + 1);
    let mut found = None;
    while src.get(i) == Some(&b'"') {
        let key_end = string_end(src, i)?;
        let value = skip_space(src, skip_space(src, key_end) + 1);
        if matches!(parse(slice(text, i..key_end)), Ok(Value::String(ref k)) if k == key) {
            found = Some((i, value));
        }
        i = skip_space(src, value_end(src, value)?);
        if src.get(i) != Some(&b',') {
            break;
        }
        i = skip_space(src, i + 1);
    }
    found
}

/// In the array at `at`: element `n`, as (its offset, its offset).
fn element(src: &[u8], at: usize, n: usize) -> Option<(usize, usize)> {
    if src.get(at) != Some(&b'[') {
        return None;
    }
    let mut i = skip_space(src, at + 1);
    for _ in 0..n {
        if src.get(i) == Some(&b']') {
            return None;
        }
        i = skip_space(src, value_end(src, i)?);
        if src.get(i) != Some(&b',') {
            return None;
        }
        i = skip_space(src, i + 1);
    }
    (src.get(i).is_some_and(|c| *c != b']')).then_some((i, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_and_a_bom_are_named() {
        let e = parse("{\"a\": [1, 2,\n]}").unwrap_err();
        assert_eq!((e.line, e.column, e.message.as_str()), (2, 1, "a trailing comma before ']' (JSON allows none)"));
        let e = parse("{\"a\": 1, }").unwrap_err();
        assert_eq!((e.column, e.message.as_str()), (10, "a trailing comma before '}' (JSON allows none)"));
        let e = parse("\u{feff}{}").unwrap_err();
        assert!(e.message.starts_with("a byte-order mark (BOM)"), "{}", e.message);
    }

    #[test]
    fn locate_finds_keys_elements_and_quoted_keys() {
        let text = "{\n  \"a\": [1, {\"b\": 2}],\n  \"odd key\": {\"x\": \"}]\\\"\", \"y\": true},\n  \"a\": [7, 8]\n}";
        let at = |p: &str| locate(text, p).map(|q| (q.line, q.column));
        assert_eq!(at("$"), Some((1, 1)));
        // Repeated keys: the last one, which JSON.parse keeps.
        assert_eq!(at("$.a"), Some((4, 3)));
        assert_eq!(at("$.a[1]"), Some((4, 12)));
        assert_eq!(at("$.a[2]"), None);
        assert_eq!(at("$[\"odd key\"].y"), Some((3, 28)));
        assert_eq!(at("$[\"odd key\"].z"), None);
        assert_eq!(at("$.a.b"), None);
        assert_eq!(at("nonsense"), None);
    }

    #[test]
    fn locate_counts_columns_in_characters() {
        let text = "{\"é\": {\"ü\": 1, \"k\": 2}}";
        assert_eq!(locate(text, "$[\"é\"].k"), Some(Position { line: 1, column: 16 }));
        assert_eq!(locate(text, "$[\"é\"][\"ü\"]"), Some(Position { line: 1, column: 8 }));
    }
    use crate::host::NativeHost;

    /// Found by fuzzing (`fuzz/corpus/rules/regression-exponent-overflow`): a huge
    /// exponent saturates, and digits that scale it further (beyond the 19 kept in the
    /// integer part, or zeros after the point) must not overflow it: in a test build
    /// that panicked, in the .wasm it wrapped round, so `1…1e2147483647` read as 0.
    #[test]
    fn huge_exponents_saturate_instead_of_overflowing() {
        let twenty_ones = "1".repeat(20);
        for (lit, want) in [
            (format!("{twenty_ones}e2147483647"), f64::INFINITY),
            (format!("{twenty_ones}e99999999999"), f64::INFINITY),
            (format!("-{twenty_ones}e2147483647"), f64::NEG_INFINITY),
            ("0.001e-2147483648".to_string(), 0.0),
            ("0.0000000000000000000001e-99999999999".to_string(), 0.0),
            (format!("0.{twenty_ones}e-2147483647"), 0.0),
        ] {
            assert_eq!(decimal_to_f64(&lit), want, "{lit}");
            assert_eq!(parse_with_host(&lit, &NativeHost), Ok(Value::Number(want)), "{lit}");
        }
    }

    /// What the fast path calls exact is bit for bit the correctly rounded value
    /// (Rust's parser, as JavaScript's `Number`), over 20,000 generated literals.
    #[test]
    fn exact_conversions_are_correctly_rounded() {
        for lit in ["0", "-0", "7", "-42", "123456789012345", "0.05", "0.5", "19.99", "-0.0", "1e22", "2.5e-3", "100e-2"] {
            let (v, exact) = decimal_with_exactness(lit);
            assert!(exact, "{lit}");
            assert_eq!(v.to_bits(), NativeHost.string_to_number(lit).to_bits(), "{lit}");
        }
        for lit in ["1e23", "1.5e-30", "12345678901234567890", "9007199254740993", "0.1e-22"] {
            assert!(!decimal_with_exactness(lit).1, "{lit}");
        }
        let mut seed = 0x2545_f491_u32;
        let mut next = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        let mut exact_seen = 0;
        for _ in 0..20_000 {
            let mut lit = String::new();
            if next(2) == 0 {
                lit.push('-');
            }
            let int_digits = 1 + next(18);
            for i in 0..int_digits {
                lit.push((b'0' + if i == 0 && int_digits > 1 { 1 + next(9) } else { next(10) } as u8) as char);
            }
            if next(2) == 0 {
                lit.push('.');
                for _ in 0..1 + next(8) {
                    lit.push((b'0' + next(10) as u8) as char);
                }
            }
            if next(3) == 0 {
                lit.push_str(&format!("e{}{}", ["", "-", "+"][next(3) as usize], next(40)));
            }
            let (v, exact) = decimal_with_exactness(&lit);
            if exact {
                exact_seen += 1;
                assert_eq!(v.to_bits(), NativeHost.string_to_number(&lit).to_bits(), "{lit}");
            }
        }
        assert!(exact_seen > 5_000, "{exact_seen}");
    }

    /// A host that counts its calls: documents of integers and short decimals are
    /// converted without a single crossing into JavaScript.
    #[test]
    fn plain_numbers_never_ask_the_host() {
        struct Counting(std::cell::Cell<usize>);
        impl Host for Counting {
            fn regex_test(&self, _: &str, _: bool, _: &str) -> Option<bool> {
                None
            }
            fn number_to_string(&self, n: f64) -> String {
                NativeHost.number_to_string(n)
            }
            fn string_to_number(&self, s: &str) -> f64 {
                self.0.set(self.0.get() + 1);
                NativeHost.string_to_number(s)
            }
            fn to_lower_case(&self, s: &str) -> String {
                s.to_lowercase()
            }
        }
        let host = Counting(std::cell::Cell::new(0));
        let v = parse_with_host(r#"{"weights": [0.05, 0.95], "coverage": 0.5, "price": 19.99, "at": 1767225600000, "n": -3}"#, &host).unwrap();
        assert_eq!(host.0.get(), 0);
        assert_eq!(v.get("price").and_then(Value::as_f64), Some(19.99));
        parse_with_host("[1e300, 0.1e-30]", &host).unwrap();
        assert_eq!(host.0.get(), 2);
    }

    #[test]
    fn strings_are_escaped_as_json_stringify_does() {
        let s = "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}\u{1f}é😀\u{7f}z";
        let want = "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001\\u001fé😀\u{7f}z\"";
        assert_eq!(Value::from(s).to_json(&NativeHost), want);
        assert_eq!(parse(want).unwrap(), Value::from(s));
        assert_eq!(Value::from("").to_json(&NativeHost), "\"\"");
    }

    #[test]
    fn round_trips_and_keeps_key_order() {
        let text = r#"{"b":1,"a":[true,false,null,"x\"\\\n\u00e9\ud83d\ude00"],"c":{"z":-0.5,"y":1e21}}"#;
        let v = parse(text).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(
            v.to_json(&NativeHost),
            r#"{"b":1,"a":[true,false,null,"x\"\\\né😀"],"c":{"z":-0.5,"y":1e+21}}"#
        );
    }

    #[test]
    fn reports_line_and_column() {
        let err = parse("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!((err.line, err.column), (3, 7));
        assert!(err.message.contains("':'"), "{}", err.message);
        assert_eq!(parse("[1,]").unwrap_err().column, 4);
        assert!(parse("01").is_err());
        assert!(parse("1 2").is_err());
        assert!(parse("\"abc").is_err());
        assert!(parse(&"[".repeat(200)).unwrap_err().message.contains("nesting"));
    }

    #[test]
    fn host_numbers_are_exact() {
        let literals = ["0", "-0.5", "1e21", "123456789.123456789", "5e-324", "1.7976931348623157e308"];
        let text = format!("[{}]", literals.join(","));
        let parsed = parse_with_host(&text, &NativeHost).unwrap();
        let want: Vec<Value> = literals.iter().map(|l| Value::Number(l.parse().unwrap())).collect();
        assert_eq!(parsed, Value::Array(want));
    }

    #[test]
    fn decimal_to_f64_is_exact_where_it_promises() {
        for lit in ["0", "-0", "1", "0.5", "0.1", "123.456", "1e22", "1.5e-7", "-2.25", "9007199254740991", "0.000001", "100e-2", "3.14159265358979"] {
            assert_eq!(decimal_to_f64(lit), lit.parse::<f64>().unwrap(), "{lit}");
        }
        for lit in ["1e300", "1.7976931348623157e308", "5e-324", "123456789012345678901234567890", "2.2250738585072014e-308"] {
            let (got, want) = (decimal_to_f64(lit), lit.parse::<f64>().unwrap());
            assert!((got - want).abs() <= want.abs() * 4.0 * f64::EPSILON, "{lit}: {got} vs {want}");
        }
        assert_eq!(decimal_to_f64("1e400"), f64::INFINITY);
    }

    #[test]
    fn plain_numbers_and_quotes() {
        assert_eq!(plain_number(42.0), "42");
        assert_eq!(plain_number(-0.5), "-0.5");
        assert_eq!(plain_number(0.05), "0.05");
        assert_eq!(plain_number(1.0 / 3.0), "0.333333");
        assert_eq!(plain_number(f64::NAN), "NaN");
        // Beyond u64 and below a micro-unit: JavaScript's exponent style, never a
        // saturated cast ("18446744073709551615") or a "0".
        assert_eq!(plain_number(1e308), "1e+308");
        assert_eq!(plain_number(-1e300), "-1e+300");
        assert_eq!(plain_number(f64::MAX), "1.79769e+308");
        assert_eq!(plain_number(2.5e21), "2.5e+21");
        assert_eq!(plain_number(1.5e-7), "1.5e-7");
        assert_eq!(plain_number(5e-324), "4.94066e-324");
        assert_eq!(plain_number(1e19), "10000000000000000000");
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_like_json_parse() {
        let v = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Number(2.0)));
        assert_eq!(v.as_object().unwrap().len(), 1);
        // A large object: each key once, where it first appeared, with its last value.
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{}\":{i},", i % 25));
        }
        text.push_str("\"k3\":\"last\"}");
        let v = parse(&text).unwrap();
        let m = v.as_object().unwrap();
        let keys: Vec<String> = m.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, (0..25).map(|i| format!("k{i}")).collect::<Vec<_>>());
        assert_eq!(m.get("k0"), Some(&Value::Number(25.0)));
        assert_eq!(m.get("k3"), Some(&Value::from("last")));
        assert_eq!(m.get("k24"), Some(&Value::Number(24.0)));
    }

    /// An object of 200,000 distinct keys parses in n log n: a quadratic check for
    /// repeated keys (2·10^10 comparisons) would take minutes.
    #[test]
    fn many_keys_parse_quickly() {
        let mut text = String::from("{");
        for i in 0..200_000 {
            text.push_str(&format!("\"key{i}\":0,"));
        }
        text.push_str("\"end\":0}");
        let t = std::time::Instant::now();
        assert_eq!(parse(&text).unwrap().as_object().unwrap().len(), 200_001);
        assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    }
}
