// The first decision: the small module (first/, built by scripts/build.sh into
// pkg/wasm/first.js as text) compiled synchronously, fed the compiled rules, the page
// and the stored profile, and read back as one outcome per slot. Every loop over bytes
// runs in the wasm; this file only lays the inputs out and reads the answer.
//
// Input and output layouts: first/src/standalone.rs.

import { PROFILE_KEY, RECORD_KEY, withdrawalNoted } from "./storage.js";

/** Outcome kinds, as tl_decide returns them. */
const WAIT = 0;
const SHOWN = 2;
const HOLDOUT = 3;
const DAY_MS = 86_400_000;
const DEFAULT_LIFETIME_DAYS = 183;

let exports = null;

// The module's bytes from its inlined text (scripts/inline-wasm.mjs): each character
// is a byte shifted by `shift`. One pass over ~20,000 characters: well under a
// millisecond, where base64 would cost 2.3 KB more gzip.
function bytesOf({ text, shift }) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) - shift;
  return bytes;
}

let compiled = null; // the module, compiled off the main thread by prepareModule()

/**
 * Starts compiling the inlined module off the main thread (WebAssembly.compile), while
 * the rules are still on their way; the first decision then only instantiates it.
 */
export function prepareModule(inlined) {
  try {
    WebAssembly.compile(bytesOf(inlined)).then((m) => (compiled ??= m), () => {});
  } catch {
    /* compiled synchronously when needed */
  }
}

// Instantiated once per page, synchronously: from the module prepareModule() compiled,
// or compiled here (a module of a few kilobytes compiles in a millisecond or two, less
// than an await would cost).
function module(inlined) {
  exports ??= new WebAssembly.Instance(compiled ?? new WebAssembly.Module(bytesOf(inlined))).exports;
  return exports;
}

/**
 * Whether the stored consent record lets the first decision read the profile: a
 * personalization grant that has not expired (its own expiry and the configuration's
 * lifetime), made under this configuration's rules revision, not overridden by GPC and
 * not withdrawn since (a withdrawal noted before consent handling ran). What it does not
 * check (the ledger, the notice text's digest, a consent manager's live answer), the
 * full module checks when it arrives: if that takes the grant back, the full module
 * restores the defaults and wipes, as on any withdrawal. Reading is all this does:
 * the first decision writes nothing.
 */
export function personalizationTrusted(recordText, withdrawn, config, now, gpc) {
  if (!recordText || withdrawn) return false;
  try {
    const record = JSON.parse(recordText);
    const choice = record?.personalization?.choice;
    if (record?.v !== 1 || choice?.state !== "granted") return false;
    const lifetime = Number(config?.lifetime_days ?? DEFAULT_LIFETIME_DAYS);
    if (!(now < choice.exp && now < choice.at + lifetime * DAY_MS)) return false;
    if (choice.rev !== String(config?.rules_revision ?? "")) return false;
    const honoursGpc = config?.signals?.gpc !== false;
    if (honoursGpc && (gpc || record.gpc) && !choice.gpc_override) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides every slot the compiled rules let the module decide. `compiled` is the
 * parsed compiled file ({ tailor: "compiled-rules", code, slots, rules }); `page` the
 * page inputs (pageInputs()); `profile` the stored profile text, or null when the
 * profile may not be read. Returns one entry per slot: null when the full engine must
 * decide it, else a decision shaped like the engine's. Throws when the module or the
 * compiled rules cannot be read.
 */
export function firstDecisions(inlined, compiled, page, { profile, countPageView, unit, now, viewStart }) {
  const wasm = module(inlined);
  const enc = new TextEncoder();
  const query = page.query;
  const strings = [compiled.code, page.url, page.host, page.path, page.referrer, page.userAgent, page.language, profile ?? "", unit];
  for (const [name, value] of query) strings.push(name, value);
  // UTF-8 takes at most three bytes per UTF-16 unit.
  let size = 40 + 4;
  for (const s of strings) size += 4 + 3 * s.length;
  const ptr = wasm.tl_alloc(size);
  const mem = new Uint8Array(wasm.memory.buffer);
  const view = new DataView(wasm.memory.buffer);
  let at = ptr;
  view.setUint32(at, (profile != null ? 1 : 0) | (countPageView ? 2 : 0), true);
  view.setFloat64(at + 4, now, true);
  view.setFloat64(at + 12, viewStart, true);
  view.setUint32(at + 20, page.hour, true);
  view.setUint32(at + 24, page.weekday, true);
  view.setUint32(at + 28, page.viewportWidth >>> 0, true);
  at += 32;
  const put = (s) => {
    const { written } = enc.encodeInto(s, mem.subarray(at + 4));
    view.setUint32(at, written, true);
    at += 4 + written;
  };
  for (let i = 0; i < 9; i++) put(strings[i]);
  view.setUint32(at, query.length, true);
  at += 4;
  for (let i = 9; i < strings.length; i++) put(strings[i]);
  const out = wasm.tl_decide(ptr, at - ptr);
  // The decision may have grown the memory: views are taken afresh.
  const result = new Uint32Array(wasm.memory.buffer, out);
  const count = result[0];
  if (count === 0xffffffff || count !== compiled.slots.length) throw new Error("the compiled rules could not be read (compile them again with `tailor compile`)");
  const experiences = compiled.rules.experiences;
  const decisions = [];
  for (let i = 0; i < count; i++) {
    const [kind, e, v, sticky] = result.subarray(1 + 4 * i, 5 + 4 * i);
    const slot = compiled.slots[i];
    if (kind === WAIT) {
      decisions.push(null);
      continue;
    }
    const experience = kind === SHOWN || kind === HOLDOUT ? experiences[e] : null;
    const variant = kind === SHOWN ? experience.variants[v] : null;
    const summary = experience
      ? kind === HOLDOUT
        ? `${slot}: default content (held out of "${experience.id}"; first decision)`
        : `${slot}: "${experience.id}" variant "${variant.id}" (first decision)`
      : `${slot}: default content (first decision)`;
    decisions.push({
      slot,
      experience: experience ? experience.id : null,
      variant: variant ? variant.id : null,
      holdout: kind === HOLDOUT,
      sticky: sticky === 1,
      content: variant ? variant.content ?? null : null,
      summary,
      explanation: { first: true },
    });
  }
  return decisions;
}

/**
 * The first decision of a page view: what the stored consent record lets the module
 * read (personalizationTrusted: the profile, counting this page view, and the stored
 * identifier through `unitOf(trusted)`), and the module's decision for every slot.
 * `withdrawn`: a withdrawal on this page forbids the profile. Returns `{ list,
 * usedProfile }`, `list` as firstDecisions() returns it. Reads, never writes.
 */
export function firstRound(inlined, compiled, storage, config, page, unitOf, viewStart, withdrawn) {
  const now = Date.now();
  const record = withdrawn ? null : storage.get(RECORD_KEY);
  const trusted = record !== null && personalizationTrusted(record, withdrawalNoted(storage, "personalization"), config, now, navigator.globalPrivacyControl === true);
  const list = firstDecisions(inlined, compiled, page, {
    profile: trusted ? storage.get(PROFILE_KEY) ?? "" : null,
    countPageView: trusted,
    unit: unitOf(trusted),
    now,
    viewStart,
  });
  return { list, usedProfile: trusted };
}
