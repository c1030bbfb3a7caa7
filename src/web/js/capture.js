// Event capture, installed only while personalization is granted and removed the
// moment it is not: clicks and form submissions on elements marked
// data-tailor-track="name" (properties from data-tailor-prop-*), scroll depth,
// engaged time (visible tab only) and page views of single-page-app navigations.
// What is kept of each event is decided by the rules' `keep` lists, in the core.

const PROP = "data-tailor-prop-";
const DEPTHS = [25, 50, 75, 100];

function propsOf(el) {
  const props = {};
  for (const a of el.attributes) if (a.name.startsWith(PROP)) props[a.name.slice(PROP.length)] = a.value;
  return props;
}

/**
 * Starts capturing; `record(name, props)` stores an event, `onNavigate()` runs after a
 * single-page-app navigation. Returns `{ navigated, stop }`.
 */
export function startCapture({ record, onNavigate }) {
  const off = [];
  const on = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    off.push(() => target.removeEventListener(type, fn, opts));
  };

  on(document, "click", (event) => {
    const el = event.target?.closest?.("[data-tailor-track]");
    if (!el || el.tagName === "FORM") return;
    record(el.getAttribute("data-tailor-track"), propsOf(el));
  }, { capture: true, passive: true });

  on(document, "submit", (event) => {
    const form = event.target;
    if (form?.hasAttribute?.("data-tailor-track")) record(form.getAttribute("data-tailor-track"), propsOf(form));
  }, { capture: true });

  // Scroll depth: each of 25/50/75/100 % once per page.
  const currentDepth = () => {
    const doc = document.documentElement;
    return Math.min(100, Math.round(((scrollY + innerHeight) / Math.max(doc.scrollHeight, 1)) * 100));
  };
  // Capture starting on a page already scrolled (consent granted mid-page): the depth
  // reached before the grant is not an interaction to record (no buffering), so it is
  // the baseline; only deeper scrolling counts.
  let reached = scrollY > 0 ? Math.max(0, ...DEPTHS.filter((d) => d <= currentDepth())) : 0;
  let scrollQueued = false;
  const measureScroll = () => {
    scrollQueued = false;
    const depth = currentDepth();
    for (const d of DEPTHS) {
      if (d > reached && depth >= d) {
        reached = d;
        record("scroll_depth", { percent: d });
      }
    }
  };
  on(window, "scroll", () => {
    if (!scrollQueued) {
      scrollQueued = true;
      requestAnimationFrame(measureScroll);
    }
  }, { passive: true });

  // Engaged time: only while the tab is visible; recorded when the page is left.
  let visibleSince = document.visibilityState === "visible" ? performance.now() : null;
  let engagedMs = 0;
  const pauseClock = () => {
    if (visibleSince !== null) engagedMs += performance.now() - visibleSince;
    visibleSince = null;
  };
  const recordEngaged = () => {
    pauseClock();
    const seconds = Math.round(engagedMs / 1000);
    engagedMs = 0;
    if (seconds > 0) record("engaged_time", { seconds });
    if (document.visibilityState === "visible") visibleSince = performance.now();
  };
  on(document, "visibilitychange", () => {
    if (document.visibilityState === "visible") visibleSince = performance.now();
    else recordEngaged();
  });
  on(window, "pagehide", recordEngaged);

  return {
    /** A single-page-app navigation: close the old page's engaged time, then onNavigate. */
    navigated() {
      recordEngaged();
      reached = 0;
      onNavigate();
    },
    stop() {
      for (const f of off.splice(0)) f();
    },
  };
}
