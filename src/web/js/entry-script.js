// The script-tag build: <script src=".../tailor.min.js" data-rules="/rules.json" async>.
// Starts itself from its own data-* attributes, exposes window.tailor and replays the
// commands queued before it loaded (window.tailor = window.tailor || []).
import init from "../../../pkg/wasm/tailor.js";
import firstModule from "../../../pkg/wasm/first.js";
import { mark, start } from "./runtime.js";
import { inlineJsonScript, ownScript } from "./dom.js";

// The consent configuration: the id of an inline <script type="application/json">.
function inlineJson(id) {
  if (!id) return undefined;
  try {
    return JSON.parse(inlineJsonScript(id).textContent);
  } catch (e) {
    console.error(`Tailor: data-consent="${id}" must name one inline <script type="application/json"> (${e.message}); using the defaults (everything denied)`);
    return undefined;
  }
}

// `tailor compile --bundle` replaces this string, quotes included, with the compiled
// rules: the SDK and the rules then arrive in one request. Kept in an array so that the
// minifier cannot fold the test below away.
const BUNDLED = ["__TAILOR_BUNDLED_RULES__"];

// A boolean data attribute: present (empty or any value but "false") means true.
function flag(value) {
  return value !== undefined && value !== "false";
}

// The .wasm is fetched like the rules: without cookies, and telling the server only the
// page's origin, never its URL (which may carry the visitor's query string).
function fetchWasm(url) {
  return fetch(url, { credentials: "omit", referrerPolicy: "strict-origin" });
}

(() => {
  mark("script");
  try {
    // Read through Document.prototype and checked to be a <script>: markup named
    // "currentScript" cannot pose as the tag and choose the rules, the .wasm or the
    // consent configuration.
    const script = ownScript();
    if (!script) throw new Error("tailor.min.js must be loaded by a classic <script src> tag (document.currentScript is not a <script> element)");
    const data = script.dataset;
    const queued = Array.isArray(window.tailor) ? window.tailor : [];
    const wasmUrl = new URL(data.wasm || "tailor_bg.wasm", script.src || location.href);
    const wasmReady = init({ module_or_path: fetchWasm(wasmUrl) });
    wasmReady.catch(() => {}); // reported by start(); never an unhandled rejection in the host page
    const bundled = BUNDLED[0];
    const api = start({
      rules: typeof bundled === "object" ? bundled : data.rules,
      firstModule,
      consent: inlineJson(data.consent),
      antiFlickerMs: data.antiFlicker ? Number(data.antiFlicker) : undefined,
      allowAutomation: flag(data.allowAutomation),
      wasmReady,
    });
    window.tailor = api;
    for (const command of queued) api.push(command);
  } catch (e) {
    console.error(`Tailor: could not start (${e.message})`);
  }
})();
