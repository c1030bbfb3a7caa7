// The script-tag build: <script src=".../tailor.min.js" data-rules="/rules.json" async>.
// Starts itself from its own data-* attributes, exposes window.tailor and replays the
// commands queued before it loaded (window.tailor = window.tailor || []).
import init from "../../../pkg/wasm/tailor.js";
import { mark, start } from "./runtime.js";

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

// A boolean data attribute: present (empty or any value but "false") means true.
function flag(value) {
  return value !== undefined && value !== "false";
}

(() => {
  mark("script");
  try {
    const script = document.currentScript;
    const data = script?.dataset ?? {};
    const queued = Array.isArray(window.tailor) ? window.tailor : [];
    const wasmUrl = new URL(data.wasm || "tailor_bg.wasm", script?.src || location.href);
    const wasmReady = init({ module_or_path: wasmUrl });
    wasmReady.catch(() => {}); // reported by start(); never an unhandled rejection in the host page
    const api = start({
      rules: data.rules,
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
