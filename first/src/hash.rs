//! GrowthBook's hashing (`hashFnv32a` over UTF-16 code units, hash versions 1 and 2),
//! shared with the full engine so both stages bucket a visitor identically.

/// FNV-1a's offset basis: the state before any unit is fed.
pub const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Continues an FNV-1a hash over the UTF-16 code units of `s` (JavaScript's
/// `charCodeAt`), which is how hashing `a + b` works without building it.
pub fn fnv_feed(h: u32, s: &str) -> u32 {
    fnv_feed_utf8(h, s.as_bytes())
}

/// [`fnv_feed`] over UTF-8 bytes, decoded here: the first module's texts stay bytes
/// (no validation code), and for valid UTF-8 the units are exactly `encode_utf16`'s.
/// Invalid UTF-8 hashes to some value, never a fault.
pub fn fnv_feed_utf8(mut h: u32, s: &[u8]) -> u32 {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        let (mut c, more) = match b {
            0..=0x7f => (b as u32, 0),
            0x80..=0xdf => (b as u32 & 0x1f, 1),
            0xe0..=0xef => (b as u32 & 0x0f, 2),
            _ => (b as u32 & 0x07, 3),
        };
        for _ in 0..more {
            c = c << 6 | (s.get(i).copied().unwrap_or(0) as u32 & 0x3f);
            i += 1;
        }
        if c >= 0x10000 {
            // A surrogate pair.
            h = (h ^ (0xd800 | (c - 0x10000) >> 10)).wrapping_mul(FNV_PRIME);
            c = 0xdc00 | (c & 0x3ff);
        }
        h = (h ^ c).wrapping_mul(FNV_PRIME);
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
    fnv_feed_utf8(FNV_OFFSET, &digits[i..])
}

/// `hash(seed, value, version)`: a number in [0, 1) from which buckets are chosen.
/// Version 1 is `fnv(value + seed) % 1000 / 1000`, version 2 is
/// `fnv(String(fnv(seed + value))) % 10000 / 10000`; any other version is `None`.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    if version == 1 {
        hash_from(FNV_OFFSET, value.as_bytes(), seed.as_bytes(), 1)
    } else {
        hash_from(fnv1a32(seed), value.as_bytes(), b"", version)
    }
}

/// [`hash`] with the seed resolved ahead (at publish time for the first module): the
/// FNV state after the text before `value` (version 2: the seed; version 1: none,
/// [`FNV_OFFSET`]) and the text after it (version 1: the seed; version 2: none).
pub fn hash_from(prefix: u32, value: &[u8], suffix: &[u8], version: u32) -> Option<f64> {
    let h = fnv_feed_utf8(fnv_feed_utf8(prefix, value), suffix);
    match version {
        2 => Some((fnv_decimal(h) % 10000) as f64 / 10000.0),
        1 => Some((h % 1000) as f64 / 1000.0),
        _ => None,
    }
}
