// Inlined by scripts/bench.mjs as the first script of both cold-start pages, right
// before the SDK's tag: performance.now() here is "t0". A MutationObserver records
// when a slot's content first becomes a variant's ("Offer …"); the page's own
// default content ("Default …") is ignored.
(() => {
  const bench = (window.__bench = { t0: performance.now(), first: null, slots: {} });
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      const el = (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest?.("[data-tailor-slot]");
      if (!el || !el.textContent.startsWith("Offer ")) continue;
      const slot = el.getAttribute("data-tailor-slot");
      if (bench.slots[slot] === undefined) bench.slots[slot] = now;
      if (bench.first === null) bench.first = now;
    }
  }).observe(document.documentElement, { subtree: true, childList: true, characterData: true });
})();
