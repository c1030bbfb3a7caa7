// A minimal single-page app: history.pushState navigation, and each route's view
// rendered a moment after the URL changed (as framework routers do), with a slot of
// its own.
const titles = { "/test/runtime/spa/sale": "Sale", "/test/runtime/spa/new": "New in" };

function render() {
  const title = titles[location.pathname] ?? "Home";
  const heading = document.createElement("h2");
  heading.textContent = title;
  const slot = document.createElement("div");
  slot.className = "route";
  slot.setAttribute("data-tailor-slot", "route");
  slot.textContent = `Route default (${title})`;
  document.getElementById("view").replaceChildren(heading, slot);
}

window.go = (path) => {
  history.pushState({}, "", path);
  setTimeout(render, 10);
};
addEventListener("popstate", () => setTimeout(render, 10));
render();
