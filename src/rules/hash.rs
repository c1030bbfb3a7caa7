//! GrowthBook-compatible hashing and bucketing (see GROWTHBOOK-SEMANTICS.md §1, §2, §7).
//!
//! PLACEHOLDER: replaced by the full implementation.

/// FNV-1a 32 over UTF-16 code units.
pub fn fnv1a32(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for c in s.encode_utf16() {
        h ^= c as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}
