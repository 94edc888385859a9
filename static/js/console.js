// The console's only script: shows the dialog htmx loads, and closes it when the
// server says so (the "closeDialog" event from an HX-Trigger header).
(function () {
  "use strict";

  function dialog() {
    return bootstrap.Modal.getOrCreateInstance(document.getElementById("dialog"));
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "dialog-content") {
      dialog().show();
    }
  });

  document.addEventListener("closeDialog", function () {
    dialog().hide();
  });

  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "dialog") {
      // Drop the closed form, so a stale one never shows when the next dialog opens.
      document.getElementById("dialog-content").replaceChildren();
    }
  });
})();
