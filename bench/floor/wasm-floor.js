// make bench, cold start floor with Tailor's .wasm (the page of bench/cold-floor.html,
// served as cold-wasm-floor.html): fetches, compiles and instantiates the .wasm Tailor
// ships, as Tailor's script does, calls nothing in it, then fills every slot. What
// delivering the .wasm alone costs.
(async () => {
  const source = new URL("tailor_bg.wasm", document.currentScript.src);
  const module = await WebAssembly.compileStreaming(fetch(source));
  const imports = {};
  for (const i of WebAssembly.Module.imports(module)) {
    (imports[i.module] ??= {})[i.name] = () => {
      throw new Error(`wasm floor: ${i.name} called`);
    };
  }
  await WebAssembly.instantiate(module, imports);
  if (document.readyState === "loading") await new Promise((ok) => document.addEventListener("DOMContentLoaded", ok, { once: true }));
  for (const el of document.querySelectorAll("[data-tailor-slot]")) el.textContent = "Offer (wasm floor)";
})();
