// The inbox's "select all" box for bulk approval. Without JavaScript it stays hidden and
// each case is ticked on its own; the form posts the same either way.
(function () {
  "use strict";
  document.querySelectorAll("form[data-bulk-approve]").forEach(function (form) {
    var all = form.querySelector("input[data-select-all]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=case]"));
    if (!all || boxes.length === 0) {
      return;
    }
    function reflect() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      reflect();
    });
    boxes.forEach(function (box) { box.addEventListener("change", reflect); });
    reflect();
  });
})();
