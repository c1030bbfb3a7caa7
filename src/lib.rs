//! Tailor: privacy-first, on-device personalization.
//!
//! The core is pure Rust: it never reads a clock, a random source, storage or the DOM.
//! Those come in as plain values or through [`host::Host`], so every rule can be
//! replayed in a native test. [`web`] (compiled only for the browser, `wasm32-unknown-unknown`) is the only module
//! that touches wasm-bindgen and the browser.
//!
//! Module map:
//! - [`json`]: the JSON value model, parser and writer shared by everything.
//! - [`host`]: what the core borrows from the browser (RegExp, number formatting).
//! - [`rules`]: the rules document, its validation, conditions, hashing and bucketing.
//! - [`consent`]: purposes, signals (GPC, TCF, GPP, CMPs), expiry, record, hash-chained ledger.
//! - [`context`]: page, campaign, channel, device and time attributes from plain inputs.
//! - [`profile`]: the on-device behavioural profile: event ring, rollups, visits,
//!   impressions, sticky assignments, compact serialization and pruning.
//! - [`decide`]: audience → schedule → caps → allocation → decision, with an explanation.
//! - [`measure`]: exposures and goals counted on the device (measurement purpose).
//! - [`web`]: the JavaScript API, the browser's host functions.

pub mod compile;
pub mod consent;
pub mod context;
pub mod decide;
pub mod host;
pub mod json;
pub mod measure;
pub mod profile;
pub mod rules;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub mod simulate;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub mod web;

/// The SDK version, as recorded in explanations and consent records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
