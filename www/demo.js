// The demo shop's own script: its catalog, a consent banner that calls Tailor's consent
// API, the events a shop tracks (product views, cart adds, purchases), and a "why am I
// seeing this" panel fed by tailor.explain(). It uses the queued-command API, so it
// works whether it runs before or after tailor.min.js. It stores nothing itself.
window.tailor = window.tailor || [];

const CATALOG = [
  { id: "trail-runner", name: "Trail Runner 3", category: "shoes", price: 129, text: "Grippy, light, made for muddy paths." },
  { id: "city-sneaker", name: "City Sneaker", category: "shoes", price: 89, text: "A clean leather sneaker for every day." },
  { id: "hiking-boot", name: "Ridge Hiking Boot", category: "shoes", price: 159, text: "Waterproof, ankle-high, resoleable." },
  { id: "rain-jacket", name: "Storm Rain Jacket", category: "jackets", price: 119, text: "Taped seams and a hood that stays put." },
  { id: "fleece", name: "Grid Fleece", category: "jackets", price: 69, text: "Warm, breathable, packs small." },
  { id: "day-pack", name: "Day Pack 22", category: "bags", price: 59, text: "A 22-litre pack with a laptop sleeve." },
];

const $ = (id) => document.getElementById(id);
const SLOTS = ["notice", "hero", "shipping"];

// Runs `fn(tailor)` once the page API is there (the script tag replaces the queue).
function withTailor(fn) {
  if (Array.isArray(window.tailor)) return setTimeout(() => withTailor(fn), 20);
  fn(window.tailor);
}

function productList(except) {
  const list = $("products");
  if (!list) return;
  for (const p of CATALOG.filter((p) => p.id !== except)) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/product.html?id=${p.id}`;
    a.textContent = p.name;
    const meta = document.createElement("span");
    meta.textContent = ` ${p.category} · €${p.price}`;
    li.append(a, meta);
    list.append(li);
  }
}

// A product page: the view is tracked, and so are the cart and purchase buttons. Tailor
// keeps them only under personalization consent (and counts the purchase as a goal under
// measurement); without it, track() drops them and says why.
function productPage() {
  const id = new URLSearchParams(location.search).get("id");
  const p = CATALOG.find((x) => x.id === id) ?? CATALOG[0];
  document.title = `${p.name} · Tailor demo shop`;
  $("product-name").textContent = p.name;
  $("product-category").textContent = p.category;
  $("product-text").textContent = p.text;
  $("product-price").textContent = `€${p.price}`;
  productList(p.id);
  const status = $("status");
  const kept = (name, stored) => (status.textContent = stored === false ? `"${name}" was not kept: Tailor keeps nothing without your consent to personalization.` : `"${name}" noted, on this device only.`);
  window.tailor.push(["track", "view_item", { category: p.category, id: p.id }]);
  $("add-to-cart").addEventListener("click", () => withTailor((t) => kept("add_to_cart", t.track("add_to_cart", { category: p.category, id: p.id }))));
  $("buy").addEventListener("click", () => withTailor((t) => kept("purchase", t.track("purchase", { id: p.id }))));
}

// The banner asks until the visitor has chosen; "Privacy choices" opens it again.
function consentBanner(t) {
  if (!t.status().consent) return; // consent handling could not start: nothing to ask
  const banner = $("consent-banner");
  const choices = $("banner-choices");
  const chooseButton = $("consent-choose");
  const state = () => t.consent.state();
  const open = () => {
    const s = state();
    $("choice-personalization").checked = s?.personalization.state === "granted";
    $("choice-measurement").checked = s?.measurement.state === "granted";
    banner.hidden = false;
  };
  const close = () => {
    banner.hidden = true;
    choices.hidden = true;
    chooseButton.textContent = "Choose";
  };
  $("consent-accept").addEventListener("click", () => (t.consent.grant(["personalization", "measurement"], "accept_all"), close()));
  $("consent-refuse").addEventListener("click", () => (t.consent.decide({ personalization: false, measurement: false }, "reject_all"), close()));
  chooseButton.addEventListener("click", () => {
    if (choices.hidden) {
      choices.hidden = false;
      chooseButton.textContent = "Save my choices";
      return;
    }
    t.consent.decide({ personalization: $("choice-personalization").checked, measurement: $("choice-measurement").checked }, "custom");
    close();
  });
  $("consent-open").addEventListener("click", open);
  const s = state();
  if (!s || (s.personalization.state === "not_asked" && s.measurement.state === "not_asked")) open();
}

// Why each slot shows what it shows, in Tailor's words, and when the hero was decided.
function whyPanel(t) {
  const at = (step) => {
    const script = performance.getEntriesByName("tailor:script")[0];
    const mark = performance.getEntriesByName(`tailor:${step}`)[0];
    return script && mark ? `${(mark.startTime - script.startTime).toFixed(1)} ms` : null;
  };
  const render = () => {
    const lines = SLOTS.map((slot) => t.explain(slot)?.summary).filter(Boolean);
    if (t.consent.state()?.personalization.state !== "granted") lines.push("Without your consent to personalization nothing is remembered, so the A/B test draws its version again on every page.");
    const consent = t.consent.state();
    if (consent) lines.push(`Consent: personalization ${consent.personalization.state.replace("_", " ")}, measurement ${consent.measurement.state.replace("_", " ")}.`);
    const first = at("first");
    const full = at("decided");
    if (full && document.querySelector('[data-tailor-slot="hero"]')) lines.push(first ? `The hero was decided ${first} after the script started, by the small module inlined in it; the full engine took over at ${full}.` : `Decided ${full} after the script started.`);
    $("why").textContent = lines.join("\n");
  };
  t.on("decision", render);
  t.consent.on("change", render);
  render();
}

if ($("product")) productPage();
else productList();
// The live inspector (also `?tailor-debug` in any page's URL): loaded only when opened.
$("inspector-open").addEventListener("click", () => withTailor((t) => t.inspect()));
withTailor((t) =>
  t.ready.then(() => {
    consentBanner(t);
    whyPanel(t);
  }),
);
