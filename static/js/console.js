// The console's only script: shows the dialog htmx loads, and closes it when the
// server says so (the "closeDialog" event from an HX-Trigger header); keeps htmx's
// copies of the page for the back button free of inline styles.
(function () {
  "use strict";

  var FIELDS = "input:not([type=hidden]), textarea, select, .modal-footer .btn";

  function dialog() {
    return bootstrap.Modal.getOrCreateInstance(document.getElementById("dialog"));
  }

  // Focus the first field with an error, else the first field: a swap drops the
  // focus, and without it in the dialog neither typing nor Escape reach it.
  function focusFirstField(container) {
    var field = container.querySelector(".is-invalid") || container.querySelector(FIELDS);
    if (field) {
      field.focus();
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "dialog-content") {
      return;
    }
    var element = document.getElementById("dialog");
    if (element.classList.contains("show")) {
      focusFirstField(element);
    } else {
      dialog().show();
    }
  });

  document.addEventListener("shown.bs.modal", function (event) {
    focusFirstField(event.target);
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

  // htmx keeps the page's HTML for the back button and puts it back as markup, where
  // the CSP refuses style attributes. Scripts set some (Bootstrap's display: none on
  // the closed dialog, which its .modal class hides anyway; empty ones left behind):
  // none of them is needed in the copy.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var closed = document.querySelector("#dialog:not(.show)");
    if (closed) {
      closed.removeAttribute("style");
    }
    document.querySelectorAll('[style=""]').forEach(function (element) {
      element.removeAttribute("style");
    });
  });
})();
