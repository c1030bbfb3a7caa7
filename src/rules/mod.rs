//! The rules document and the language it is written in.
//!
//! - [`document`]: the typed rules document, decoded from JSON with every problem
//!   reported at once (JSON path, what was expected, what was found).
//! - [`condition`]: GrowthBook-compatible condition evaluation.
//! - [`time`]: durations, schedule dates and ISO weeks.
//! - [`hash`]: GrowthBook-compatible hashing and bucketing.

pub mod condition;
pub mod document;
pub mod hash;
pub mod limits;
pub mod regex_safety;
pub mod time;

pub use document::{parse_rules, parse_rules_with, Problem, Rules};

use std::cmp::Ordering;

/// Sorts positions in a list, stably, by `order`. The core's sorts of positions go
/// through this one function so the .wasm carries one copy of the standard library's
/// stable sort (about 3.5 KB per element type and comparison).
pub(crate) fn sort_positions(positions: &mut [usize], order: &dyn Fn(usize, usize) -> Ordering) {
    positions.sort_by(|&a, &b| order(a, b));
}
