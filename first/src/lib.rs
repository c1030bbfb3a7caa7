//! Tailor's first-decision module: decides every slot it can from rules compiled at
//! publish time (`tailor compile`), the page's context and the stored profile, before
//! the full engine has loaded.
//!
//! `#![no_std]`, no imports, no wasm-bindgen glue: the `.wasm` built with the
//! `standalone` feature is small enough to inline in `tailor.min.js` and compile
//! synchronously. The full engine depends on this crate for the code both stages share
//! (hashing, the context's derived attributes), and its differential test runs both
//! stages on random documents and requires equal decisions wherever this module
//! decides.
//!
//! It evaluates the context's and the profile's attributes and the behavioural
//! operators `$event`, `$since` and `$scenario` over the stored profile's events and
//! rollups (with their `where` filters on kept properties), measured as the full
//! engine measures the profile once loaded: retention applied, rollups coarsened,
//! this page view's own event counted.
//!
//! Evaluation is three-valued: where an input is outside what this module handles
//! exactly (a string that JavaScript would convert to a number in ways it does not
//! implement, a profile it cannot read, a kept property it cannot read, property
//! combinations a rollup merge would drop), the answer is "unknown" and the slot waits
//! for the full engine instead of guessing. See [`vm`] for the format.

#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod context;
pub mod hash;
pub mod profile;
pub mod time;
pub mod vm;

#[cfg(feature = "standalone")]
mod standalone;
