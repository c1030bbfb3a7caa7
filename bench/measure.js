// Inlined by scripts/bench.mjs as the first script of every cold-start page, before the
// SDK's set-up: performance.now() here is "t0". A MutationObserver records when a
// slot's content first becomes a variant's ("Offer …"); the page's own default content
// ("Default …") is ignored. The Long Tasks API records every main-thread task over
// 50 ms, and Long Animation Frames (where the browser has them) which scripts ran in
// them, for the whole load, including what the SDK loads after its first decision.
(() => {
  const bench = (window.__bench = { t0: performance.now(), first: null, slots: {}, longtasks: [], frames: [] });
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
  const observe = (type, keep) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(keep)).observe({ type, buffered: true });
      return true;
    } catch {
      return false;
    }
  };
  bench.longtaskApi = observe("longtask", (e) => bench.longtasks.push({ start: e.startTime, duration: e.duration }));
  bench.loafApi = observe("long-animation-frame", (e) =>
    bench.frames.push({
      start: e.startTime,
      duration: e.duration,
      blocking: e.blockingDuration,
      scripts: (e.scripts ?? []).map((s) => ({ url: s.sourceURL, invoker: s.invoker, duration: s.duration, compile: s.startTime && s.executionStart ? s.executionStart - s.startTime : 0 })),
    }),
  );
})();
