// Event capture, installed only while personalization is granted and removed the
// moment it is not: clicks and form submissions on elements marked
// data-tailor-track="name" (properties from data-tailor-prop-*), scroll depth and
// engaged time (visible tab only). Page views, including single-page-app navigations,
// are recorded by the runtime. What is kept of each event is decided by the rules'
// `keep` lists, in the core.

import { doc } from "./dom.js";

const PROP = "data-tailor-prop-";
const DEPTHS = [25, 50, 75, 100];

function propsOf(el) {
  const props = {};
  for (const a of el.attributes) if (a.name.startsWith(PROP)) props[a.name.slice(PROP.length)] = a.value;
  return props;
}

/**
 * Starts capturing; `record(name, props)` stores an event. Returns `{ navigated,
 * hidden, visible, stop }`: the runtime calls `hidden()` when the tab is hidden or the
 * page is left, *before* it flushes the profile, so the engaged time of those last
 * seconds is part of that final write.
 */
export function startCapture({ record }) {
  const off = [];
  // The document's listeners go through Document.prototype (see dom.js).
  const on = (target, type, fn, opts) => {
    const add = target === document ? doc.addEventListener : (...a) => target.addEventListener(...a);
    const remove = target === document ? doc.removeEventListener : (...a) => target.removeEventListener(...a);
    add(type, fn, opts);
    off.push(() => remove(type, fn, opts));
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
    const root = doc.documentElement();
    return Math.min(100, Math.round(((scrollY + innerHeight) / Math.max(root.scrollHeight, 1)) * 100));
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

  // Engaged time: counted only while the tab is visible; each visible stretch is
  // recorded when it ends (tab hidden, page left, single-page-app navigation).
  let visibleSince = doc.visibilityState() === "visible" ? performance.now() : null;
  const closeEngaged = () => {
    if (visibleSince === null) return;
    const seconds = Math.round((performance.now() - visibleSince) / 1000);
    visibleSince = null;
    if (seconds > 0) record("engaged_time", { seconds });
  };
  const resume = () => {
    if (visibleSince === null && doc.visibilityState() === "visible") visibleSince = performance.now();
  };

  return {
    /** A single-page-app navigation: the old page's engaged time ends, scroll depth restarts. */
    navigated() {
      closeEngaged();
      resume();
      reached = 0;
    },
    /** The tab was hidden or the page is being left. */
    hidden: closeEngaged,
    /** The tab is visible again. */
    visible: resume,
    /** Removes every listener; nothing more is recorded. */
    stop() {
      visibleSince = null;
      for (const f of off.splice(0)) f();
    },
  };
}
