// The script-tag build: <script src=".../tailor.min.js" data-rules="/rules.json" async>.
// The first stage (stage.js, with the first-decision module inlined): starts itself from
// its own data-* attributes, exposes window.tailor and replays the commands queued
// before it loaded (window.tailor = window.tailor || []). After the first decision is
// painted it loads the full module from beside itself: tailor.full.js and
// tailor_bg.wasm (data-full and data-wasm name other places).
import firstModuleText, { SHIFT } from "../../../pkg/wasm/first.js";
import { startFirstStage } from "./stage.js";
import { inlineJsonScript, mark, ownScript } from "./dom.js";

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
    // "currentScript" cannot pose as the tag and choose the rules, the modules or the
    // consent configuration.
    const script = ownScript();
    if (!script) throw new Error("tailor.min.js must be loaded by a classic <script src> tag (document.currentScript is not a <script> element)");
    const data = script.dataset;
    const queued = Array.isArray(window.tailor) ? window.tailor : [];
    const base = script.src || location.href;
    const wasmUrl = new URL(data.wasm || "tailor_bg.wasm", base);
    const fullUrl = new URL(data.full || "tailor.full.js", base);
    const bundled = BUNDLED[0];
    const options = {
      rules: typeof bundled === "object" ? bundled : data.rules,
      consent: inlineJson(data.consent),
      antiFlickerMs: data.antiFlicker ? Number(data.antiFlicker) : undefined,
      allowAutomation: flag(data.allowAutomation),
    };
    const api = startFirstStage({
      ...options,
      firstModule: { text: firstModuleText, shift: SHIFT },
      version: TAILOR_VERSION,
      // The .wasm and the full module's script are requested together. A module script:
      // import() is the one way to load code that Trusted Types do not gate.
      loadFull() {
        const wasm = fetchWasm(wasmUrl);
        wasm.catch(() => {}); // reported by the full module; never an unhandled rejection in the host page
        return import(fullUrl.href).then((full) => (handoff) => full.takeOver(options, handoff, wasm));
      },
    });
    window.tailor = api;
    for (const command of queued) api.push(command);
  } catch (e) {
    console.error(`Tailor: could not start (${e.message})`);
  }
})();
