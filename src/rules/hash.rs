//! GrowthBook-compatible hashing and bucketing (GROWTHBOOK-SEMANTICS.md §1, §2, §7).
//!
//! The reference is `util.ts` and `core.ts` of `@growthbook/growthbook@1.8.0`. Every
//! float expression is written as GrowthBook writes it (`(h % 1000) / 1000`, the
//! running sum of weights, `start + coverage * w`), so a visitor lands in the very
//! same bucket, bit for bit, as with the GrowthBook SDK.

use std::borrow::Cow;

use crate::host::Host;
use crate::json::Value;
use crate::rules::condition::{member, to_js_string, truthy};

const FNV_OFFSET: u32 = 0x811c_9dc5;

pub use tailor_first::hash::{fnv1a32, hash};
#[cfg(test)]
use tailor_first::hash::fnv_decimal;
use tailor_first::hash::fnv_feed;

/// `getEqualWeights(n)`: `n` copies of `1 / n`; empty when `n <= 0`.
pub fn get_equal_weights(n: i32) -> Vec<f64> {
    if n <= 0 {
        return Vec::new();
    }
    vec![1.0 / n as f64; n as usize]
}

/// `getBucketRanges(numVariations, coverage, weights)`: one `[start, end)` range per
/// variation. Coverage (default 1) is clamped to [0, 1]; weights of the wrong length
/// or not summing to 1 ± 0.01 are replaced by equal weights. Range `i` starts at the
/// sum of the weights before it and spans `coverage * w[i]`, so lowering coverage
/// never moves an enrolled user to another variation.
pub fn get_bucket_ranges(n: i32, coverage: Option<f64>, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    // `clamp` leaves a NaN as it is, as GrowthBook's two comparisons do.
    let coverage = coverage.unwrap_or(1.0).clamp(0.0, 1.0);
    let equal;
    let mut weights = match weights {
        Some(w) if w.len() as i64 == n as i64 => w,
        _ => {
            equal = get_equal_weights(n);
            &equal[..]
        }
    };
    let total = weights.iter().fold(0.0, |sum, w| sum + w);
    let equal_weights;
    // Not `!(0.99..=1.01).contains(..)`: a NaN sum (from 1e999 and -1e999 weights)
    // keeps the weights in JavaScript.
    #[allow(clippy::manual_range_contains)]
    let out_of_tolerance = total < 0.99 || total > 1.01;
    if out_of_tolerance {
        equal_weights = get_equal_weights(n);
        weights = &equal_weights[..];
    }
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// `inRange(n, range)`: `start <= n < end`.
pub fn in_range(n: f64, range: (f64, f64)) -> bool {
    n >= range.0 && n < range.1
}

/// `chooseVariation(n, ranges)`: the first range containing `n`, or -1.
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> i32 {
    ranges.iter().position(|r| in_range(n, *r)).map_or(-1, |i| i as i32)
}

/// `inNamespace(hashValue, [id, start, end])`: `start <= hash("__" + id, hashValue, 1) < end`.
pub fn in_namespace(hash_value: &str, namespace: (&str, f64, f64)) -> bool {
    let n = namespace_position(hash_value, namespace.0);
    n >= namespace.1 && n < namespace.2
}

/// Where `hash_value` falls in namespace `id`, 0..1 in steps of 0.001: GrowthBook's
/// `hash("__" + id, hashValue, 1)`.
pub fn namespace_position(hash_value: &str, id: &str) -> f64 {
    // hash v1 is fnv(value + seed), with seed = "__" + id.
    let h = fnv_feed(fnv_feed(fnv_feed(FNV_OFFSET, hash_value), "__"), id);
    (h % 1000) as f64 / 1000.0
}

/// One entry of an experiment's `filters` (mutual exclusion and holdouts).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The hash attribute; `None` or empty means `"id"` (no fallback attribute).
    pub attribute: Option<String>,
    /// The hash seed.
    pub seed: String,
    /// The hash version; `None` or 0 means 2.
    pub hash_version: Option<u32>,
    /// The user passes the filter when the hash falls in any of these.
    pub ranges: Vec<(f64, f64)>,
}

/// `isFilteredOut(filters)`: whether any filter excludes the user. A filter excludes
/// when its hash attribute is falsy, when its hash version is unknown, or when the
/// hash falls in none of its ranges.
pub fn is_filtered_out(filters: &[Filter], attributes: &Value, host: &dyn Host) -> bool {
    filters.iter().any(|f| {
        let Some(value) = hash_attribute_value(attributes, attribute_or_id(f.attribute.as_deref()), host) else {
            return true;
        };
        match hash(&f.seed, &value, version_or(f.hash_version, 2)) {
            Some(n) => !f.ranges.iter().any(|r| in_range(n, *r)),
            None => true,
        }
    })
}

/// A force rule's rollout (`isIncludedInRollout`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rollout<'a> {
    /// `rule.seed || featureKey`.
    pub seed: &'a str,
    /// `rule.hashAttribute`; `None` or empty means `"id"`.
    pub hash_attribute: Option<&'a str>,
    /// `rule.fallbackAttribute`, only when sticky bucketing is in use (the caller
    /// decides, as GrowthBook does).
    pub fallback_attribute: Option<&'a str>,
    /// `rule.range`; when present, coverage is ignored.
    pub range: Option<(f64, f64)>,
    /// `rule.coverage`: included when `hash <= coverage` (inclusive); 0 excludes all.
    pub coverage: Option<f64>,
    /// `rule.hashVersion`; `None` or 0 means 1.
    pub hash_version: Option<u32>,
}

/// `isIncludedInRollout`: with a range, `range.0 <= n < range.1`; with only a
/// coverage, `n <= coverage` (and coverage 0 excludes everyone); with neither,
/// everyone is included. A falsy hash attribute or an unknown hash version excludes.
pub fn is_included_in_rollout(rollout: &Rollout, attributes: &Value, host: &dyn Host) -> bool {
    if rollout.range.is_none() {
        match rollout.coverage {
            None => return true,
            Some(0.0) => return false, // -0 too, as `coverage === 0`
            Some(_) => {}
        }
    }
    let (_, value) = get_hash_attribute(attributes, rollout.hash_attribute, rollout.fallback_attribute, host);
    let Some(value) = value else { return false };
    let Some(n) = hash(rollout.seed, &value, version_or(rollout.hash_version, 1)) else { return false };
    match (rollout.range, rollout.coverage) {
        (Some(range), _) => in_range(n, range),
        (None, Some(coverage)) => n <= coverage,
        (None, None) => true,
    }
}

/// `getHashAttribute(attr, fallback)`: the attribute used (`attr || "id"`, or the
/// fallback when the primary value is falsy and the fallback's is not) and its
/// value as a string, `None` when both are falsy.
pub fn get_hash_attribute<'a>(
    attributes: &Value,
    hash_attribute: Option<&'a str>,
    fallback_attribute: Option<&'a str>,
    host: &dyn Host,
) -> (&'a str, Option<String>) {
    let name = attribute_or_id(hash_attribute);
    let value = hash_attribute_value(attributes, name, host);
    match fallback_attribute {
        Some(fallback) if value.is_none() && !fallback.is_empty() => {
            match hash_attribute_value(attributes, fallback, host) {
                Some(v) => (fallback, Some(v)),
                None => (name, None),
            }
        }
        _ => (name, value),
    }
}

/// The hash value of attribute `name`: `attributes[name]`, a top-level key (no dot
/// paths; as in JavaScript, inherited members such as `constructor` count), used
/// only when truthy (`0`, `""`, `false`, `null` and absent are `None`), then turned
/// into a string as JavaScript's `seed + value` does (`123` → `"123"`,
/// `[1, 2]` → `"1,2"`, `[]` → `""`). An object with its own `toString` key, which
/// makes GrowthBook throw, is `None` too.
pub fn hash_attribute_value(attributes: &Value, name: &str, host: &dyn Host) -> Option<String> {
    let v = member(attributes, name)?;
    if !truthy(v) {
        return None;
    }
    to_js_string(v, host).ok().map(Cow::into_owned)
}

fn attribute_or_id(name: Option<&str>) -> &str {
    match name {
        Some(n) if !n.is_empty() => n,
        _ => "id",
    }
}

/// `hashVersion || default`.
fn version_or(version: Option<u32>, default: u32) -> u32 {
    match version {
        Some(v) if v != 0 => v,
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    //! Expected numbers come from `@growthbook/growthbook@1.8.0` run in Node.
    use super::*;
    use crate::host::NativeHost;
    use crate::json::parse;

    fn j(s: &str) -> Value {
        parse(s).unwrap()
    }

    #[test]
    fn fnv_is_over_utf16_code_units() {
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
        // "é" is the single unit 0xE9, not the UTF-8 bytes C3 A9.
        assert_eq!(fnv1a32("é"), (0x811c_9dc5u32 ^ 0xE9).wrapping_mul(16_777_619));
        assert_ne!(fnv1a32("é"), fnv1a32("\u{C3}\u{A9}"));
        // An emoji is two surrogate units.
        let pair = [0xD83Du32, 0xDE00];
        let by_hand = pair.iter().fold(0x811c_9dc5u32, |h, u| (h ^ u).wrapping_mul(16_777_619));
        assert_eq!(fnv1a32("😀"), by_hand);
    }

    #[test]
    fn hash_matches_growthbook() {
        let cases: [(&str, &str, f64, f64); 12] = [
            ("seed", "é", 0.137, 0.8663),
            ("seed", "😀", 0.429, 0.4346),
            ("seed", "a😀é", 0.781, 0.0111),
            ("", "é", 0.94, 0.8917),
            ("exp", "日本語", 0.913, 0.931),
            ("a", "b", 0.708, 0.6912),
            ("exp-1", "user-1", 0.809, 0.5069),
            ("f", "123", 0.647, 0.4564),
            ("f", "true", 0.953, 0.136),
            ("f", "1,2", 0.952, 0.4196),
            ("f", "", 0.601, 0.9),
            ("seed", "\u{FFFF}", 0.831, 0.1646),
        ];
        for (seed, value, v1, v2) in cases {
            assert_eq!(hash(seed, value, 1), Some(v1), "v1 {seed:?} {value:?}");
            assert_eq!(hash(seed, value, 2), Some(v2), "v2 {seed:?} {value:?}");
            assert_eq!(hash(seed, value, 3), None);
            assert_eq!(hash(seed, value, 0), None);
        }
        // The UTF-8 answer the doc warns about.
        assert_ne!(hash("seed", "é", 1), Some(0.248));
        // v1 is value + seed, v2 seed + value.
        assert_eq!(hash("b", "a", 1).unwrap(), (fnv1a32("ab") % 1000) as f64 / 1000.0);
        assert_eq!(hash("a", "b", 2).unwrap(), (fnv1a32(&fnv1a32("ab").to_string()) % 10000) as f64 / 10000.0);
        assert_eq!(fnv_decimal(0), fnv1a32("0"));
        assert_eq!(fnv_decimal(u32::MAX), fnv1a32("4294967295"));
    }

    #[test]
    fn equal_weights() {
        assert!(get_equal_weights(0).is_empty());
        assert!(get_equal_weights(-3).is_empty());
        assert_eq!(get_equal_weights(1), [1.0]);
        assert_eq!(get_equal_weights(3), [0.3333333333333333; 3]);
        assert_eq!(get_equal_weights(7), [0.14285714285714285; 7]);
    }

    #[test]
    fn bucket_ranges_match_growthbook() {
        let third = 0.3333333333333333;
        let two_thirds = 0.6666666666666666;
        assert_eq!(get_bucket_ranges(3, None, None), [(0.0, third), (third, two_thirds), (two_thirds, 1.0)]);
        assert_eq!(
            get_bucket_ranges(3, Some(0.7), None),
            [(0.0, 0.2333333333333333), (third, 0.5666666666666667), (two_thirds, 0.8999999999999999)]
        );
        assert_eq!(get_bucket_ranges(2, Some(0.5), None), [(0.0, 0.25), (0.5, 0.75)]);
        assert_eq!(get_bucket_ranges(2, Some(0.5), Some(&[0.1, 0.9])), [(0.0, 0.05), (0.1, 0.55)]);
        assert_eq!(
            get_bucket_ranges(4, Some(0.3), Some(&[0.1, 0.2, 0.3, 0.4])),
            [(0.0, 0.03), (0.1, 0.16), (0.30000000000000004, 0.39), (0.6000000000000001, 0.7200000000000001)]
        );
        assert_eq!(
            get_bucket_ranges(3, Some(0.37), Some(&[0.1, 0.2, 0.7])),
            [(0.0, 0.037), (0.1, 0.174), (0.30000000000000004, 0.559)]
        );
        assert_eq!(
            get_bucket_ranges(3, Some(1.0), Some(&[0.333, 0.333, 0.334])),
            [(0.0, 0.333), (0.333, 0.666), (0.666, 1.0)]
        );
        // Bad weights: a sum outside 1 ± 0.01, or the wrong length.
        assert_eq!(get_bucket_ranges(3, Some(1.0), Some(&[0.2, 0.2, 0.2])), get_bucket_ranges(3, None, None));
        assert_eq!(get_bucket_ranges(2, Some(1.0), Some(&[0.5])), [(0.0, 0.5), (0.5, 1.0)]);
        assert_eq!(get_bucket_ranges(2, Some(1.0), Some(&[0.3, 0.3, 0.4])), [(0.0, 0.5), (0.5, 1.0)]);
        assert_eq!(get_bucket_ranges(2, Some(1.0), Some(&[0.995, 0.0])), [(0.0, 0.995), (0.995, 0.995)]);
        // Coverage is clamped.
        assert_eq!(get_bucket_ranges(2, Some(-1.0), None), [(0.0, 0.0), (0.5, 0.5)]);
        assert_eq!(get_bucket_ranges(2, Some(5.0), Some(&[0.4, 0.6])), [(0.0, 0.4), (0.4, 1.0)]);
        assert!(get_bucket_ranges(0, None, None).is_empty());
        assert!(get_bucket_ranges(-2, None, Some(&[])).is_empty());
    }

    #[test]
    fn ranges_and_variations() {
        assert!(in_range(0.2, (0.2, 0.3)));
        assert!(!in_range(0.3, (0.2, 0.3)));
        let ranges = get_bucket_ranges(2, Some(0.5), None);
        assert_eq!(choose_variation(0.0, &ranges), 0);
        assert_eq!(choose_variation(0.25, &ranges), -1);
        assert_eq!(choose_variation(0.5, &ranges), 1);
        assert_eq!(choose_variation(0.74, &ranges), 1);
        assert_eq!(choose_variation(0.9, &ranges), -1);
        assert_eq!(choose_variation(0.1, &[]), -1);
        // Overlapping explicit ranges: the first wins.
        assert_eq!(choose_variation(0.5, &[(0.0, 1.0), (0.4, 0.6)]), 0);
    }

    #[test]
    fn namespaces() {
        // hash("__ns", id, 1): u1 0.866, u3 0.44, u4 0.093, é 0.805.
        for (id, n) in [("u1", 0.866), ("u3", 0.44), ("u4", 0.093), ("é", 0.805)] {
            assert_eq!(hash("__ns", id, 1), Some(n));
            assert_eq!(in_namespace(id, ("ns", 0.0, 0.5)), n < 0.5, "{id}");
            assert_eq!(in_namespace(id, ("ns", 0.5, 1.0)), n >= 0.5, "{id}");
        }
        assert!(in_namespace("u3", ("ns", 0.44, 0.45)));
        assert!(!in_namespace("u3", ("ns", 0.43, 0.44)));
    }

    #[test]
    fn filters() {
        let host = NativeHost;
        // hash("fseed", id, 2): u1 0.2255, u2 0.1415; hash("fseed", id, 1): u1 0.474.
        let f = |attribute: Option<&str>, hash_version, ranges: &[(f64, f64)]| Filter {
            attribute: attribute.map(str::to_string),
            seed: "fseed".into(),
            hash_version,
            ranges: ranges.to_vec(),
        };
        let u1 = j(r#"{"id":"u1","company":"u2","zero":0,"empty":""}"#);
        assert!(!is_filtered_out(&[], &u1, &host));
        assert!(!is_filtered_out(&[f(None, None, &[(0.2, 0.3)])], &u1, &host));
        assert!(is_filtered_out(&[f(None, None, &[(0.0, 0.2), (0.3, 1.0)])], &u1, &host));
        assert!(!is_filtered_out(&[f(Some(""), Some(0), &[(0.2255, 0.2256)])], &u1, &host));
        assert!(!is_filtered_out(&[f(None, Some(1), &[(0.474, 0.475)])], &u1, &host));
        assert!(is_filtered_out(&[f(None, Some(3), &[(0.0, 1.0)])], &u1, &host));
        assert!(!is_filtered_out(&[f(Some("company"), None, &[(0.14, 0.15)])], &u1, &host));
        // Any single filter excludes.
        assert!(is_filtered_out(&[f(None, None, &[(0.0, 1.0)]), f(Some("company"), None, &[(0.5, 1.0)])], &u1, &host));
        // Falsy or missing hash attributes exclude; there is no fallback.
        for attr in ["zero", "empty", "missing"] {
            assert!(is_filtered_out(&[f(Some(attr), None, &[(0.0, 1.0)])], &u1, &host), "{attr}");
        }
        assert!(is_filtered_out(&[f(None, None, &[(0.0, 1.0)])], &j("{}"), &host));
        assert!(is_filtered_out(&[f(None, None, &[])], &u1, &host));
    }

    #[test]
    fn hash_attribute_values_are_js_strings() {
        let host = NativeHost;
        let attrs =
            j(r#"{"n":123,"t":true,"f":false,"z":0,"e":"","a":[1,2],"none":[],"o":{"x":1},"d":{"x":"y"},"nul":null}"#);
        let v = |name| hash_attribute_value(&attrs, name, &host);
        assert_eq!(v("n").as_deref(), Some("123"));
        assert_eq!(v("t").as_deref(), Some("true"));
        assert_eq!(v("a").as_deref(), Some("1,2"));
        assert_eq!(v("none").as_deref(), Some(""));
        assert_eq!(v("o").as_deref(), Some("[object Object]"));
        for falsy in ["f", "z", "e", "nul", "missing", "d.x"] {
            assert_eq!(v(falsy), None, "{falsy}");
        }
        // `attributes[name]` sees inherited members too.
        assert_eq!(v("constructor").as_deref(), Some("function Object() { [native code] }"));
        // GrowthBook throws on `seed + value` here; Tailor excludes the user.
        assert_eq!(hash_attribute_value(&j(r#"{"id":{"toString":1}}"#), "id", &host), None);
        assert_eq!(hash_attribute_value(&j(r#"{"id":[{"toString":1}]}"#), "id", &host), None);
        assert_eq!(hash("feature", "123", 1), Some(0.863));
        assert_eq!(get_hash_attribute(&attrs, None, None, &host), ("id", None));
        assert_eq!(get_hash_attribute(&attrs, Some(""), Some("n"), &host), ("n", Some("123".into())));
        assert_eq!(get_hash_attribute(&attrs, Some("t"), Some("n"), &host), ("t", Some("true".into())));
        assert_eq!(get_hash_attribute(&attrs, Some("z"), Some("e"), &host), ("z", None));
    }

    #[test]
    fn rollouts() {
        let host = NativeHost;
        // hash("feature", id, 1): u1 0.207, u2 0.696; hash("feature", id, 2): u1 0.7203.
        let u1 = j(r#"{"id":"u1","n":123}"#);
        let r = Rollout { seed: "feature", ..Rollout::default() };
        assert!(is_included_in_rollout(&r, &u1, &host));
        assert!(is_included_in_rollout(&r, &j("{}"), &host));
        let cov = |c| Rollout { coverage: Some(c), ..r };
        assert!(!is_included_in_rollout(&cov(0.0), &u1, &host));
        assert!(is_included_in_rollout(&cov(0.207), &u1, &host)); // inclusive
        assert!(!is_included_in_rollout(&cov(0.206), &u1, &host));
        assert!(is_included_in_rollout(&cov(1.0), &u1, &host));
        assert!(!is_included_in_rollout(&cov(1.0), &j("{}"), &host));
        assert!(!is_included_in_rollout(&cov(1.0), &j(r#"{"id":0}"#), &host));
        assert!(!is_included_in_rollout(&Rollout { hash_version: Some(3), ..cov(1.0) }, &u1, &host));
        assert!(is_included_in_rollout(&Rollout { hash_version: Some(2), ..cov(0.7203) }, &u1, &host));
        assert!(!is_included_in_rollout(&Rollout { hash_version: Some(2), ..cov(0.72) }, &u1, &host));
        // A range wins over coverage, and is end-exclusive; coverage 0 does not matter then.
        let range = |a, b| Rollout { range: Some((a, b)), coverage: Some(0.0), ..r };
        assert!(is_included_in_rollout(&range(0.2, 0.3), &u1, &host));
        assert!(!is_included_in_rollout(&range(0.0, 0.207), &u1, &host));
        assert!(is_included_in_rollout(&range(0.207, 0.208), &u1, &host));
        // hash("feature", "123", 1) = 0.863, through a custom attribute or a fallback.
        let by_n = Rollout { hash_attribute: Some("n"), ..range(0.863, 0.864) };
        assert!(is_included_in_rollout(&by_n, &u1, &host));
        let fallback =
            Rollout { hash_attribute: Some("missing"), fallback_attribute: Some("n"), ..range(0.863, 0.864) };
        assert!(is_included_in_rollout(&fallback, &u1, &host));
        let no_fallback = Rollout { hash_attribute: Some("missing"), ..range(0.0, 1.0) };
        assert!(!is_included_in_rollout(&no_fallback, &u1, &host));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Valid weights (non-negative, summing to 1 within GrowthBook's tolerance).
    fn weights() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(0u32..1000, 1..6).prop_filter_map("all zero", |raw| {
            let total: u32 = raw.iter().sum();
            (total > 0).then(|| raw.iter().map(|w| *w as f64 / total as f64).collect())
        })
    }

    proptest! {
        /// Lowering coverage never moves an enrolled user to another variation: whoever
        /// is in variation v at the lower coverage is in v at any higher one.
        #[test]
        fn lowering_coverage_never_moves_a_user(
            w in weights(),
            low in 0.0f64..=1.0,
            extra in 0.0f64..=1.0,
            id in "\\PC{0,12}",
            seed in "[a-z]{1,8}",
            version in 1u32..=2,
        ) {
            let high = (low + extra).min(1.0);
            let n = hash(&seed, &id, version).unwrap();
            let k = w.len() as i32;
            let at_low = choose_variation(n, &get_bucket_ranges(k, Some(low), Some(&w)));
            let at_high = choose_variation(n, &get_bucket_ranges(k, Some(high), Some(&w)));
            if at_low >= 0 {
                prop_assert_eq!(at_low, at_high);
            }
        }

        /// Bucketing is a pure function of its inputs, in range, with v1 on 3 and
        /// v2 on 4 decimals.
        #[test]
        fn bucketing_is_deterministic(id in "\\PC{0,16}", seed in "\\PC{0,8}", w in weights(), coverage in 0.0f64..=1.0) {
            for version in [1u32, 2] {
                let a = hash(&seed, &id, version).unwrap();
                prop_assert_eq!(Some(a), hash(&seed, &id, version));
                prop_assert!((0.0..1.0).contains(&a));
                let scale = if version == 1 { 1000.0 } else { 10000.0 };
                prop_assert_eq!((a * scale).round() / scale, a);
                let k = w.len() as i32;
                let ranges = get_bucket_ranges(k, Some(coverage), Some(&w));
                prop_assert_eq!(ranges.len(), w.len());
                prop_assert_eq!(choose_variation(a, &ranges), choose_variation(a, &get_bucket_ranges(k, Some(coverage), Some(&w))));
            }
            prop_assert_eq!(hash(&seed, &id, 3), None);
        }

        /// Full coverage with valid weights enrolls everyone except at the very top,
        /// where float sums may end a hair below 1.
        #[test]
        fn full_coverage_enrolls(id in "[a-z0-9]{1,12}", w in weights()) {
            let n = hash("s", &id, 2).unwrap();
            let ranges = get_bucket_ranges(w.len() as i32, None, Some(&w));
            let last_end = ranges.last().unwrap().1;
            if n < last_end {
                prop_assert!(choose_variation(n, &ranges) >= 0);
            }
        }
    }
}
