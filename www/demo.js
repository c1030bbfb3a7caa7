// Shows why the hero slot shows what it shows, through the queued-command API.
window.tailor = window.tailor || [];
window.tailor.push(["on", "decision", (d) => {
  if (d.slot === "hero") document.getElementById("why").textContent = "Why this hero: " + d.summary;
}]);
