//! The rules document and the language it is written in.
//!
//! - [`document`]: the typed rules document, decoded from JSON with every problem
//!   reported at once (JSON path, what was expected, what was found).
//! - [`condition`]: GrowthBook-compatible condition evaluation.
//! - [`hash`]: GrowthBook-compatible hashing and bucketing.

pub mod condition;
pub mod document;
pub mod hash;

pub use document::{parse_rules, Problem, Rules};
