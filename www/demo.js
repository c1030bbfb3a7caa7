// Shows why the hero slot shows what it shows, and when it was decided, through the
// queued-command API.
window.tailor = window.tailor || [];
const why = () => document.getElementById("why");
const at = (step) => {
  const script = performance.getEntriesByName("tailor:script")[0];
  const mark = performance.getEntriesByName(`tailor:${step}`)[0];
  return script && mark ? `${(mark.startTime - script.startTime).toFixed(1)} ms` : null;
};
window.tailor.push(["on", "decision", (d) => {
  if (d.slot === "hero") why().textContent = "Why this hero: " + d.summary;
}]);
(function whenReady() {
  const t = window.tailor;
  if (Array.isArray(t)) return setTimeout(whenReady, 20);
  t.ready.then(() => {
    const first = at("first");
    const full = at("decided");
    why().textContent = `Why this hero: ${t.explain("hero")?.summary}\n` +
      (first ? `Decided ${first} after the script started, by the small module inlined in it; the full engine took over at ${full}.` : `Decided ${full} after the script started.`);
  });
})();
