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

// After a board row is saved the form (and the focused Save button) is gone: move focus to the
// row's confirmation so keyboard and screen reader users stay where they were.
document.addEventListener("htmx:afterSettle", (event) => {
  const status = event.detail.elt.querySelector?.(".hf-saved, [data-conflict-value]");
  if (status && !event.detail.elt.querySelector("[autofocus]:focus")) {
    status.setAttribute("tabindex", "-1");
    status.focus();
  }
});
