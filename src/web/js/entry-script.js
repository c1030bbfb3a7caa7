// The script-tag build: <script src=".../tailor.min.js" data-rules="/rules.json" async>.
// Starts itself from its own data-* attributes, exposes window.tailor and replays the
// commands queued before it loaded (window.tailor = window.tailor || []).
import init from "../../../pkg/wasm/tailor.js";
import { start } from "./runtime.js";

// The consent configuration: the id of an inline <script type="application/json">.
function inlineJson(id) {
  if (!id) return undefined;
  const el = document.getElementById(id);
  try {
    return JSON.parse(el.textContent);
  } catch (e) {
    console.error(`Tailor: data-consent="${id}" must name an inline JSON script (${el ? e.message : "no such element"}); using the defaults (everything denied)`);
    return undefined;
  }
}

(() => {
  try {
    const script = document.currentScript;
    const queued = Array.isArray(window.tailor) ? window.tailor : [];
    const wasmUrl = new URL(script?.dataset.wasm || "tailor_bg.wasm", script?.src || location.href);
    const wasmReady = init({ module_or_path: wasmUrl });
    wasmReady.catch(() => {}); // reported by start(); never an unhandled rejection in the host page
    const api = start({
      rules: script?.dataset.rules,
      consent: inlineJson(script?.dataset.consent),
      antiFlickerMs: script?.dataset.antiFlicker ? Number(script.dataset.antiFlicker) : undefined,
      // data-allow-automation (present, or "true"): enrol automated browsers too.
      allowAutomation: script?.dataset.allowAutomation !== undefined && script.dataset.allowAutomation !== "false",
      wasmReady,
    });
    window.tailor = api;
    for (const command of queued) api.push(command);
  } catch (e) {
    console.error(`Tailor: could not start (${e.message})`);
  }
})();
