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
pub mod time;

pub use document::{parse_rules, parse_rules_with, Problem, Rules};
