// Start the NHS design system's components on page load and after every htmx swap.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

// A browser that runs this module supports the design system's scripts.
document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
document.addEventListener("htmx:afterSettle", (event) => initAll({ scope: event.detail.elt }));

// Print buttons: no inline script, so the page stays within a strict Content Security Policy.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
