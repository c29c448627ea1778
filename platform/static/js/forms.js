/* Generated forms, a little smoother with JavaScript; everything works without it.
 *
 * - A field that decides which other fields exist (an if/then condition, a dependency,
 *   the choice between alternatives) re-shows the form from the server when it changes,
 *   instead of waiting for the "Update the form" button.
 * - After "add row", "remove row" or an update, the page comes back at the same place.
 */
(function () {
  "use strict";
  var SCROLL_KEY = "formflow:scroll:" + location.pathname;

  function refreshButton(form) {
    return form.querySelector("button.ff-refresh");
  }

  function remember() {
    try { sessionStorage.setItem(SCROLL_KEY, String(window.scrollY)); } catch (e) { /* private mode */ }
  }

  function restore() {
    var saved = null;
    try { saved = sessionStorage.getItem(SCROLL_KEY); sessionStorage.removeItem(SCROLL_KEY); } catch (e) { return; }
    if (saved !== null) { window.scrollTo(0, parseInt(saved, 10) || 0); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    restore();
    document.querySelectorAll("[data-ff-form]").forEach(function (fields) {
      var form = fields.closest("form");
      var button = form && refreshButton(form);
      if (!button) { return; }
      button.hidden = true;
      fields.addEventListener("change", function (event) {
        if (event.target.closest("[data-ff-refresh]")) {
          remember();
          form.requestSubmit(button);
        }
      });
    });
    document.addEventListener("click", function (event) {
      if (event.target.closest("button.ff-add, button.ff-remove, button.ff-refresh")) { remember(); }
    });
    var summary = document.querySelector(".ff-summary");
    if (summary) { summary.focus(); }
  });
})();
