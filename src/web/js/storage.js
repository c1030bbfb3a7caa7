// Where Tailor keeps its bytes: localStorage, or memory when storage is blocked,
// throws (private modes, disabled cookies) or is full. Keys all start with "tailor:".

const PREFIX = "tailor:";

export function createStorage() {
  const memory = new Map();
  let local = null;
  let fallbackReason = null;
  try {
    local = globalThis.localStorage ?? null;
  } catch (e) {
    fallbackReason = `localStorage is not available (${e.name}); keeping data in memory for this page only`;
  }
  if (!local && !fallbackReason) fallbackReason = "localStorage is not available; keeping data in memory for this page only";
  // Said once, like every other storage fault.
  if (fallbackReason) console.warn(`Tailor: ${fallbackReason}`);

  function fallBack(e) {
    if (!fallbackReason) {
      fallbackReason = `localStorage failed (${e.name}); keeping data in memory for this page only`;
      console.warn(`Tailor: ${fallbackReason}`);
    }
  }

  return {
    /** Reads a key; null when absent. */
    get(key) {
      if (memory.has(key)) return memory.get(key);
      if (!local) return null;
      try {
        return local.getItem(key);
      } catch (e) {
        fallBack(e);
        return null;
      }
    },
    /** Writes a key, falling back to memory on QuotaExceededError or a throwing storage. */
    set(key, value) {
      if (local && !memory.has(key)) {
        try {
          local.setItem(key, value);
          return;
        } catch (e) {
          fallBack(e);
        }
      }
      memory.set(key, value);
    },
    /** Deletes a key everywhere it may be. */
    remove(key) {
      memory.delete(key);
      if (!local) return;
      try {
        local.removeItem(key);
      } catch (e) {
        fallBack(e);
      }
    },
    /** The names of the keys starting with `prefix`, without reading their values. */
    names(prefix = PREFIX) {
      const out = new Set();
      if (local) {
        try {
          for (let i = 0; i < local.length; i++) {
            const k = local.key(i);
            if (k?.startsWith(prefix)) out.add(k);
          }
        } catch (e) {
          fallBack(e);
        }
      }
      for (const k of memory.keys()) if (k.startsWith(prefix)) out.add(k);
      return [...out];
    },
    /** Every Tailor key held, with where it lives and its size in bytes (UTF-16). */
    keys(prefix = PREFIX) {
      return this.names(prefix).map((key) => ({
        key,
        store: memory.has(key) ? "memory" : "localStorage",
        bytes: 2 * (key.length + (this.get(key)?.length ?? 0)),
      }));
    },
    /** Why data is kept in memory, or null when localStorage works. */
    get fallbackReason() {
      return fallbackReason;
    },
  };
}

/** Each purpose's keys share a prefix (the core's consent effects delete by it too). */
export const PURPOSE_PREFIXES = Object.freeze({ personalization: "tailor:p:", measurement: "tailor:m:" });

/**
 * Deletes every key of `purposes` ("personalization", "measurement"), found by name
 * only: deleting a purpose's data never reads it, and needs neither the .wasm nor the
 * rules.
 */
export function wipePurposes(storage, purposes) {
  for (const p of purposeList(purposes)) for (const key of storage.names(PURPOSE_PREFIXES[p])) storage.remove(key);
}

/**
 * What inventory() says of storage: `keys` (`[{ key, store, bytes, purpose }]`),
 * `storage` ("localStorage" or "memory") and `fallbackReason`.
 */
export function storedKeys(storage) {
  const purposeOf = (k) => (k.startsWith(PURPOSE_PREFIXES.personalization) ? "personalization" : k.startsWith(PURPOSE_PREFIXES.measurement) ? "measurement" : "consent record");
  return {
    keys: storage.keys().map((k) => ({ ...k, purpose: purposeOf(k.key) })),
    storage: storage.fallbackReason ? "memory" : "localStorage",
    fallbackReason: storage.fallbackReason,
  };
}

/** The known purposes among `p` (one name or a list); anything else is ignored. */
export function purposeList(p) {
  return (Array.isArray(p) ? p : [p]).filter((x) => Object.prototype.hasOwnProperty.call(PURPOSE_PREFIXES, x));
}

/** The visitor's profile (personalization). */
export const PROFILE_KEY = `${PURPOSE_PREFIXES.personalization}profile`;
/** The visitor's stored allocation identity (personalization). */
export const ID_KEY = `${PURPOSE_PREFIXES.personalization}id`;

/** Where the consent record is kept. */
export const RECORD_KEY = "tailor:consent";
/**
 * Withdrawals made before consent handling could run (the .wasm still loading), one
 * key per purpose, beside the record: `tailor:consent:withdrawn:<purpose>`. The consent
 * engine logs them when it starts, on this page or the next.
 */
export const WITHDRAWN = "tailor:consent:withdrawn:";

/**
 * Notes a withdrawal of `purposes` made before consent handling runs, so that it holds
 * even if the page is closed before the .wasm arrives. Written only where a consent
 * record exists (a visitor who never chose has nothing to withdraw, and gets no key).
 */
export function recordWithdrawal(storage, purposes) {
  if (storage.get(RECORD_KEY) === null) return;
  for (const p of purposes) storage.set(WITHDRAWN + p, String(Date.now()));
}

/** Whether a withdrawal of `purpose` was noted by recordWithdrawal() and not yet logged. */
export function withdrawalNoted(storage, purpose) {
  return storage.get(WITHDRAWN + purpose) !== null;
}
