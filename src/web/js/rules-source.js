// Where the rules come from: the script tag's data-rules (a URL or the id of an inline
// JSON script), an object, or rules bundled into the script; and whether they are
// compiled (`tailor compile`). Shared by the first-decision script and the full module.
import { TailorError } from "./errors.js";
import { doc, inlineJsonScript, own } from "./dom.js";

/** A rules request that has not answered by then has failed (withdrawal never waits for it). */
export const RULES_TIMEOUT_MS = 10_000;
// Where the rules came from, for messages: "/rules.json", "#tailor-rules".
export function rulesOrigin(source) {
  if (typeof source !== "string") return null;
  return isUrl(source) ? source : `#${source}`;
}

// data-rules is a URL when it has a "/", "." or ":", else the id of an inline script.
const isUrl = (source) => /[/.:]/.test(source);

/**
 * The rules from `source`: an object as it is, the text of an inline JSON script (by
 * id), or the text at a URL (fetched without cookies, within RULES_TIMEOUT_MS).
 */
export async function loadRules(source) {
  if (source === undefined || source === null || source === "") {
    throw new TailorError("RULES_MISSING", "Tailor: no rules given (set data-rules on the script tag, or pass `rules` to start())");
  }
  if (typeof source === "object") return source;
  if (!isUrl(source)) {
    // An inline script after the SDK's tag is only there once the document is parsed.
    await domReady();
    try {
      return inlineJsonScript(source).textContent;
    } catch (e) {
      throw new TailorError("RULES_MISSING", `Tailor: data-rules="${source}" must name one inline <script type="application/json"> (${e.message})`);
    }
  }
  let response;
  const abort = typeof AbortController === "function" ? new AbortController() : null;
  const timer = setTimeout(() => abort?.abort(), RULES_TIMEOUT_MS);
  try {
    // The only request Tailor makes: no cookies, and the rules URL carries nothing
    // about the visitor.
    response = await fetch(source, { credentials: "omit", referrerPolicy: "strict-origin", signal: abort?.signal });
    return await response.text().then((text) => {
      if (!response.ok) throw new TailorError("RULES_UNREACHABLE", `Tailor: could not fetch rules from ${source} (HTTP ${response.status})`);
      return text;
    });
  } catch (e) {
    if (e instanceof TailorError) throw e;
    const why = abort?.signal.aborted ? `no answer within ${RULES_TIMEOUT_MS / 1000} s` : e.message;
    throw new TailorError("RULES_UNREACHABLE", `Tailor: could not fetch rules from ${source} (${why})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the document is parsed. */
export function domReady() {
  if (doc.readyState() !== "loading") return Promise.resolve();
  return new Promise((resolve) => doc.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

/** The compiled file behind `rules` (text or object), or null for plain rules. */
export function compiledFile(rules) {
  if (typeof rules === "string") {
    if (!rules.slice(0, 64).includes('"compiled-rules"')) return null;
    rules = JSON.parse(rules);
  }
  return own(rules, "tailor") === "compiled-rules" && typeof own(rules, "code") === "string" ? rules : null;
}
