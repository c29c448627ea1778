/* Editors of a draft: leaving the page with changes not saved asks first (the browser's own
 * "leave site?" dialog). A form opts in with data-warn-unsaved; submitting it is no leaving.
 */
(function () {
  "use strict";
  var dirty = false;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
      form.addEventListener("input", function () { dirty = true; });
      form.addEventListener("change", function () { dirty = true; });
      form.addEventListener("submit", function () { dirty = false; });
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers show their dialog only when this is set
  });
}());
