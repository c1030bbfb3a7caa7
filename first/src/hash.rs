//! GrowthBook's hashing (`hashFnv32a` over UTF-16 code units, hash versions 1 and 2),
//! shared with the full engine so both stages bucket a visitor identically.

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Continues an FNV-1a hash over the UTF-16 code units of `s` (JavaScript's
/// `charCodeAt`), which is how hashing `a + b` works without building it.
pub fn fnv_feed(mut h: u32, s: &str) -> u32 {
    if s.is_ascii() {
        for &b in s.as_bytes() {
            h = (h ^ b as u32).wrapping_mul(FNV_PRIME);
        }
        return h;
    }
    for unit in s.encode_utf16() {
        h = (h ^ unit as u32).wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a 32 over UTF-16 code units.
pub fn fnv1a32(s: &str) -> u32 {
    fnv_feed(FNV_OFFSET, s)
}

/// FNV-1a 32 of the decimal string of `n`, without allocating.
pub fn fnv_decimal(n: u32) -> u32 {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    digits[i..]
        .iter()
        .fold(FNV_OFFSET, |h, d| (h ^ *d as u32).wrapping_mul(FNV_PRIME))
}

/// `hash(seed, value, version)`: a number in [0, 1) from which buckets are chosen.
/// Version 1 is `fnv(value + seed) % 1000 / 1000`, version 2 is
/// `fnv(String(fnv(seed + value))) % 10000 / 10000`; any other version is `None`.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    hash_parts(&[seed], value, version)
}

/// [`hash`] with the seed given in parts (`seed + ":holdout"` without building it).
pub fn hash_parts(seed: &[&str], value: &str, version: u32) -> Option<f64> {
    let feed_seed = |h| seed.iter().fold(h, |h, s| fnv_feed(h, s));
    match version {
        2 => Some((fnv_decimal(fnv_feed(feed_seed(FNV_OFFSET), value)) % 10000) as f64 / 10000.0),
        1 => Some((feed_seed(fnv_feed(FNV_OFFSET, value)) % 1000) as f64 / 1000.0),
        _ => None,
    }
}
