// The host page's own code: a single-page-app style form that never reloads.
document.getElementById("signup").addEventListener("submit", (e) => e.preventDefault());
