// The console's only script: shows the dialog htmx loads, and closes it when the
// server says so (the "closeDialog" event from an HX-Trigger header), giving the focus
// back to what opened it; shows the messages of actions done in place ("showMessage");
// asks before the forms marked data-confirm are sent; copies text for the Copy buttons;
// keeps htmx's copies of the page for the back button free of inline styles; shows a
// deployment target's settings for the kind chosen only.
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

  // The button or link that opened the dialog: the focus goes back to it when it closes.
  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.target && config.target.id === "dialog-content" && !isInDialog(event.detail.elt)) {
      opener = event.detail.elt;
    }
  });

  function isInDialog(element) {
    return Boolean(element && element.closest && element.closest("#dialog"));
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    // A history restore swaps the whole page and names no target.
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "dialog-content") {
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
      if (opener && opener.isConnected) {
        opener.focus();
      }
      opener = null;
    }
  });

  // After paging, the list's top comes back into view (the pager sits at its bottom).
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail && event.detail.requestConfig;
    var source = config && config.elt;
    if (!source || !source.closest || !source.closest(".pagination")) {
      return;
    }
    var list = document.getElementById("certificate-list");
    if (list && list.getBoundingClientRect().top < 0) {
      list.scrollIntoView({ block: "start", behavior: "instant" });
    }
  });

  // {"showMessage": {"level": "success", "message": "..."}} from an HX-Trigger header.
  document.addEventListener("showMessage", function (event) {
    var region = document.getElementById("messages");
    if (!region || !event.detail || !event.detail.message) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (event.detail.level === "error" ? "danger" : event.detail.level || "info");
    alert.setAttribute("role", "alert");
    alert.textContent = event.detail.message;
    region.replaceChildren(alert);
  });

  // Irreversible or disruptive forms (withdraw, reissue) ask first.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <button data-copy="#id">: copies that element's text (or a field's value).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = source.matches("input, textarea") ? source.value : source.textContent.trim();
    var label = button.textContent;
    // The words come from the page (base.html's data-copied, data-copy-failed), in its language.
    var copied = document.body.getAttribute("data-copied") || "Copied";
    var failed = document.body.getAttribute("data-copy-failed") || "Copy failed";
    function done(word) {
      button.textContent = word;
      window.setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(copied); }, function () { done(failed); });
    } else {
      done(failed);
    }
  });

  // htmx keeps the page's HTML for the back button and puts it back as markup, where
  // the CSP refuses style attributes. Scripts set some (Bootstrap's display: none on
  // the closed dialog, which its .modal class hides anyway; empty ones left behind):
  // none of them is needed in the copy.
  // A deployment target's form: the fieldsets marked data-for-kind="webhook ssh" show
  // only for those kinds (all of them while no kind is chosen).
  function showKindFields(select) {
    var form = select.form;
    if (!form) {
      return;
    }
    form.querySelectorAll("[data-for-kind]").forEach(function (fieldset) {
      var kinds = fieldset.getAttribute("data-for-kind").split(" ");
      fieldset.hidden = Boolean(select.value) && kinds.indexOf(select.value) === -1;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-kind-select]")) {
      showKindFields(event.target);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-kind-select]").forEach(showKindFields);
  });

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
