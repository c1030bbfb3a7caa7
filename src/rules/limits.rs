//! The limits on a rules document's size and shape.
//!
//! A rules document is written by people, but it is also input the SDK must survive:
//! every limit here is checked at validation, with a problem that names the limit,
//! the JSON path, and what was found, and within them validating and deciding do
//! near-linear work. `pkg/rules.schema.json` states the same limits (`maxLength`,
//! `maxItems`, `maxProperties`), checked by `tests/rules_schema.rs`.
//!
//! The numbers are far above what a real document needs (a site with a thousand
//! running experiences is already unusual) and low enough that the worst document
//! within them validates and decides in milliseconds.

/// Bytes of the document's text (UTF-8): 1 MiB. Larger documents are rejected before
/// they are parsed.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Experiences in one document.
pub const MAX_EXPERIENCES: usize = 1_000;
/// Variants of one experience.
pub const MAX_VARIANTS: usize = 100;
/// Named audiences (`audiences`).
pub const MAX_AUDIENCES: usize = 1_000;
/// Saved groups (`savedGroups`).
pub const MAX_SAVED_GROUPS: usize = 1_000;
/// Declared events (`events`); goals name declared events, so they are bounded too.
pub const MAX_EVENTS: usize = 256;
/// Properties an event keeps (`events.*.keep`).
pub const MAX_KEEP: usize = 64;
/// Class names in `content.classes.add` and in `content.classes.remove`, each.
pub const MAX_CLASSES: usize = 100;
/// Attributes a variant sets (`content.attributes`).
pub const MAX_ATTRIBUTES: usize = 100;
/// Characters in a name or id: experience and variant ids, slots, seeds, the
/// revision, template names, event, audience and saved-group names, kept property
/// names, class names, attribute names.
pub const MAX_NAME_LENGTH: usize = 256;
/// Characters in a variant's `text`, `html`, or an attribute value.
pub const MAX_CONTENT_LENGTH: usize = 65_536;
/// How deep a condition may nest (objects and arrays, each a level), counting the
/// conditions of the audiences (`$audience`) and saved groups (`$savedGroup`) it
/// refers to as nested where the reference stands. Deciding evaluates conditions
/// recursively; this keeps the recursion far from the .wasm's stack limit.
pub const MAX_CONDITION_DEPTH: usize = 32;
/// Problems reported for one document: beyond them, one more problem says how many
/// were left out (a broken generator can produce a million).
pub const MAX_PROBLEMS: usize = 100;
