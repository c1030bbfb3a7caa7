// The host renders one more slot a moment after the page was parsed (before the slow
// rules arrive): it must be hidden from its first frame, like the slots that were parsed.
addEventListener("DOMContentLoaded", () => {
  setTimeout(() => {
    const slot = document.createElement("div");
    slot.setAttribute("data-tailor-slot", "lazy");
    slot.textContent = "Lazy default";
    document.body.append(slot);
    requestAnimationFrame(() => (window.__lazyVisibility = getComputedStyle(slot).visibility));
  }, 50);
});
