/* The form designer: drag a field by its handle to reorder it, or into or out of a group
 * (SortableJS); the new order of the group it lands in (and, from another group, which field
 * came in) is posted as the page's order form, so the server saves it as a draft
 * revision and the page comes back in that order. Without script, the arrow buttons do it.
 */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("order-form");
    if (!form || typeof Sortable === "undefined") { return; }
    document.querySelectorAll("ol[data-sortable]").forEach(function (list) {
      Sortable.create(list, {
        group: "fields",
        handle: ".drag-handle",
        draggable: "> li",
        animation: 120,
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) { return; }
          var target = event.to;
          var names = Array.prototype.map.call(target.children, function (item) {
            return item.getAttribute("data-name");
          });
          form.elements.group.value = target.getAttribute("data-group");
          form.elements.order.value = names.join(",");
          form.elements.moved.value = event.from === event.to ? "" : event.item.getAttribute("data-slug");
          form.submit();
        }
      });
    });
  });
}());
