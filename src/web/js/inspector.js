// The live inspector (tailor.inspect.js): a panel that tailor.inspect() or `?tailor-debug`
// opens on any page running Tailor, loaded only then. It shows every slot's decision and
// why, the candidates that lost, the audiences' conditions with what was seen, consent
// per purpose with its source, and the last events, live; and it lets whoever looks at
// it force a variant or decide as for a fresh profile, on this page only (nothing of
// either is recorded or stored).
//
// Updates rebuild the panel but keep what was open and focused; Escape or Close shuts it
// and ends what it forced. When Tailor failed to start, it shows why.
//
// It reads only what the page API reads (explain(), consent.state()), and the events
// this page was asked to track while it is open: what consent did not allow is not
// kept, so it is not shown. Built with DOM calls and a constructed style sheet inside a
// shadow root: no markup parsing, no inline style, so it works under a strict CSP with
// Trusted Types, and the page's styles and its own do not mix.

const STYLE = `
:host { all: initial; }
.panel { position: fixed; top: 12px; right: 12px; bottom: 12px; z-index: 2147483647; width: min(440px, calc(100vw - 24px));
  overflow: auto; box-sizing: border-box; padding: 12px 14px; border-radius: 10px; background: #101418; color: #e8edf2;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; box-shadow: 0 8px 40px rgba(0,0,0,.35); }
header { display: flex; align-items: center; gap: 8px; justify-content: space-between; }
h1 { font-size: 14px; margin: 0; }
h2 { font-size: 12px; margin: 14px 0 4px; color: #9fb3c8; text-transform: uppercase; letter-spacing: .05em; }
button, select, label { font: inherit; color: inherit; }
button, select { background: #1f2a35; border: 1px solid #3a4a5a; border-radius: 6px; padding: 2px 8px; }
button:focus-visible, select:focus-visible { outline: 2px solid #7cc4ff; }
.slot { margin: 6px 0 10px; padding: 8px; border-radius: 8px; background: #182029; }
.summary { color: #fff; }
.forced { color: #ffd479; }
.row { display: flex; gap: 6px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
details { margin-top: 6px; }
summary { cursor: pointer; color: #9fb3c8; }
ul { margin: 4px 0; padding-left: 16px; }
li { margin: 2px 0; }
.pass { color: #7ee2a8; }
.fail { color: #ff9b9b; }
.muted { color: #8a9aab; }
`;

/**
 * Opens the panel for the Tailor running on this page (`h`: what runtime.js lends the
 * inspector). Returns `{ close() }`; opening it again returns the open one.
 */
export function open(h) {
  if (open.current) return open.current;
  const host = document.createElement("div");
  host.setAttribute("data-tailor-inspector", "");
  const root = host.attachShadow({ mode: "open" });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    /* no constructed style sheets: the panel shows unstyled */
  }
  const panel = el("section", { class: "panel", role: "dialog", "aria-label": "Tailor inspector", tabindex: "-1" });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") current.close();
  });
  root.append(panel);
  (document.body ?? document.documentElement).append(host);
  // What the visitor had open or focused survives each update.
  const openSlots = new Set();

  let queued = false;
  const refresh = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      render();
    });
  };
  const unwatch = h.watch(refresh);

  function render() {
    const focused = root.activeElement?.getAttribute("data-key");
    for (const d of panel.querySelectorAll("details[data-slot]")) (d.open ? openSlots.add(d.dataset.slot) : openSlots.delete(d.dataset.slot));
    panel.replaceChildren(...sections());
    for (const d of panel.querySelectorAll("details[data-slot]")) d.open = openSlots.has(d.dataset.slot);
    if (focused) root.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  function sections() {
    const api = h.api;
    let version = "";
    try {
      version = ` · ${api.version()}`;
    } catch {
      /* the engine is not there: its version neither */
    }
    const head = el("header", {}, el("h1", {}, `Tailor inspector${version}`), button("Close", () => current.close(), "close"));
    const status = api.status();
    if (status.state === "failed" || status.state === "starting") {
      // What went wrong, when it did: the panel is most needed then.
      const why = status.error ? `${status.error.code}: ${status.error.message}` : "the engine is still loading";
      return [head, el("h2", {}, "Status"), el("p", { class: "fail" }, `${status.state}: ${why}`), el("p", { class: "muted" }, `First decisions made before: ${status.firstDecided}. Withdrawal still works.`)];
    }
    const keep = eventsKept(h.rules());
    const fresh = el("input", { type: "checkbox", id: "fresh", "data-key": "fresh" });
    fresh.checked = h.fresh();
    fresh.addEventListener("change", () => h.useFreshProfile(fresh.checked));
    const freshRow = el("div", { class: "row" }, el("label", {}, fresh, " Decide as a fresh profile (this page only; the real profile is untouched)"));

    const consent = status.consent ? api.consent.state() : null;
    const consentList = el("ul", {});
    if (!consent) consentList.append(el("li", { class: "muted" }, "consent handling is not running"));
    else {
      for (const purpose of ["personalization", "measurement"]) {
        const p = consent[purpose];
        const when = p.decided_at ? ` on ${new Date(p.decided_at).toISOString().slice(0, 16).replace("T", " ")}` : "";
        consentList.append(el("li", { class: p.state === "granted" ? "pass" : "fail" }, `${purpose}: ${p.state.replace("_", " ")}${p.source ? ` (${p.source}${when})` : ""}`));
      }
      if (consent.gpc_honored) consentList.append(el("li", {}, "Global Privacy Control honoured"));
    }

    const slots = el("div", {});
    for (const slot of h.slots().sort()) slots.append(slotView(slot));
    if (!h.slots().length) slots.append(el("p", { class: "muted" }, "no slot decided yet"));

    const events = el("ul", {});
    for (const e of h.events().reverse()) {
      const time = new Date(e.at).toISOString().slice(11, 19);
      const kept = e.stored ? pick(e.props, keep.get(e.name)) : null;
      events.append(
        el("li", { class: e.stored ? "" : "muted" }, `${time} ${e.name}`, e.stored ? (kept && Object.keys(kept).length ? ` ${JSON.stringify(kept)}` : "") : ` not kept: ${e.why}`),
      );
    }
    if (!events.children.length) events.append(el("li", { class: "muted" }, "none since the inspector opened"));

    return [head, freshRow, el("h2", {}, "Consent"), consentList, el("h2", {}, "Slots"), slots, el("h2", {}, "Last events"), events];
  }

  function slotView(slot) {
    const why = h.api.explain(slot) ?? { summary: `${slot}: not decided yet` };
    const box = el("div", { class: "slot", "data-slot": slot });
    box.append(el("div", { class: why.forced ? "summary forced" : "summary" }, why.summary));
    // Force a variant: every variant of every experience on this slot.
    const choose = el("select", { "aria-label": `Force a variant in ${slot}`, "data-key": `force:${slot}` });
    choose.append(el("option", { value: "" }, "as decided"));
    for (const e of (h.rules()?.experiences ?? []).filter((x) => x.slot === slot)) {
      for (const v of e.variants ?? []) {
        const o = el("option", { value: `${e.id}\u0000${v.id}` }, `${e.id} · ${v.id}`);
        if (why.forced && why.experience === e.id && why.variant === v.id) o.selected = true;
        choose.append(o);
      }
    }
    choose.addEventListener("change", () => {
      const [experience, variant] = choose.value ? choose.value.split("\u0000") : [null, null];
      h.force(slot, experience, variant);
    });
    box.append(el("div", { class: "row" }, el("span", { class: "muted" }, "force:"), choose));
    const candidates = why.candidates ?? [];
    if (candidates.length) {
      const list = el("ul", {});
      for (const c of candidates) {
        const item = el("li", { class: c.outcome === "shown" || c.outcome === "holdout" ? "pass" : "" }, `${c.experience} (priority ${c.priority ?? 0}): ${c.outcome}${c.reason ? `, ${c.reason}` : ""}`);
        const conditions = c.audience?.conditions ?? [];
        if (conditions.length) {
          const cl = el("ul", {});
          for (const k of conditions) cl.append(el("li", { class: k.passed ? "pass" : "fail" }, `${k.passed ? "✓" : "✗"} ${c.audience.name ? `${c.audience.name}: ` : ""}${k.label}`, el("span", { class: "muted" }, ` seen ${JSON.stringify(k.seen ?? null)}`)));
          item.append(cl);
        }
        list.append(item);
      }
      box.append(el("details", { "data-slot": slot }, el("summary", {}, `${candidates.length} candidate${candidates.length === 1 ? "" : "s"}`), list));
    }
    return box;
  }

  const current = {
    /** Closes the panel; what it forced and the fresh profile end with it. */
    close() {
      unwatch();
      host.remove();
      open.current = null;
      h.reset();
    },
  };
  open.current = current;
  render();
  root.querySelector('[data-key="close"]')?.focus();
  return current;
}
open.current = null;

function el(name, attrs, ...children) {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function button(label, onClick, key) {
  const b = el("button", { type: "button", "data-key": key }, label);
  b.addEventListener("click", onClick);
  return b;
}

// Event name → the properties the rules keep for it (what the profile holds).
function eventsKept(rules) {
  const keep = new Map();
  const events = rules?.events;
  if (events && typeof events === "object") for (const [name, spec] of Object.entries(events)) keep.set(name, Array.isArray(spec?.keep) ? spec.keep : []);
  return keep;
}

function pick(props, keys) {
  if (!props || !keys) return null;
  return Object.fromEntries(keys.filter((k) => Object.hasOwn(props, k)).map((k) => [k, props[k]]));
}
