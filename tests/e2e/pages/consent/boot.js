// Test pages of the consent audit: each page includes this script first. The test
// passes the page's set-up in the URL fragment (never sent to the server), as JSON:
//   consent  the consent configuration (inline <script type="application/json">), or
//            null for no data-consent attribute at all
//   rules    data-rules (default: rules.json beside this file)
//   sdk      false: no Tailor on this page (a CMP-only parent frame, a control page)
//   automation  false: no data-allow-automation attribute
// It then adds Tailor's script tag exactly as a site would: async, with data-rules,
// data-consent and data-allow-automation.
(() => {
  let opts = {};
  try {
    opts = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}");
  } catch {
    opts = {};
  }
  window.__opts = opts;
  window.tailor = window.tailor || [];
  // Links marked data-keep-opts carry the same set-up to the next page.
  document.addEventListener("DOMContentLoaded", () => {
    for (const a of document.querySelectorAll("a[data-keep-opts]")) a.href = a.getAttribute("href").split("#")[0] + location.hash;
  });
  if (opts.sdk === false) return;
  const add = () => {
    const head = document.head || document.documentElement;
    if (opts.consent !== null) {
      const config = document.createElement("script");
      config.type = "application/json";
      config.id = "consent-config";
      config.textContent = JSON.stringify(opts.consent ?? window.CONSENT_DEFAULT);
      head.append(config);
    }
    const s = document.createElement("script");
    s.src = opts.sdkSrc ?? "/sdk/tailor.min.js";
    s.async = true;
    s.dataset.rules = opts.rules ?? "/test/consent/rules.json";
    if (opts.consent !== null) s.dataset.consent = "consent-config";
    if (opts.automation !== false) s.setAttribute("data-allow-automation", "");
    head.append(s);
  };
  // The default configuration: GPC on, nothing else; strict; default lifetime.
  window.CONSENT_DEFAULT = {
    notice_version: "2026-03",
    purposes: {
      personalization: { text: "We remember the pages and products you look at, on this device only, to show you more relevant content." },
      measurement: { text: "We count which version of a page works better, on this device, and never send anything about you." },
    },
    rules_revision: "1",
  };
  add();
})();
