/* The condition builder (templates/rules/_builder.html), a little smoother with JavaScript;
 * everything works without it.
 *
 * - Each row shows only what its comparison uses: a value, several values, a table value
 *   and the field it is looked up by, or nothing ("is empty").
 * - Choosing a field with options offers them in the value box (its <datalist>).
 * - "Add condition" and "Remove" change the rows in place instead of asking the server.
 * - The message boxes show only for a validation rule.
 */
(function () {
  "use strict";

  var ROW_NAME = /^rows-\d+-/;

  function operandOf(row) {
    var op = row.querySelector("[data-ff-builder-op]");
    var option = op && op.options[op.selectedIndex];
    return option ? option.getAttribute("data-ff-operand") : "value";
  }

  function showOperands(row) {
    var operand = operandOf(row);
    row.querySelectorAll("[data-ff-builder-operand]").forEach(function (part) {
      part.hidden = part.getAttribute("data-ff-builder-operand").split(" ").indexOf(operand) < 0;
    });
  }

  function offerOptions(row) {
    var field = row.querySelector("[data-ff-builder-field]");
    var value = row.querySelector("[data-ff-builder-value]");
    var option = field && field.options[field.selectedIndex];
    if (!value || !option) { return; }
    var list = option.getAttribute("data-ff-options");
    if (list) { value.setAttribute("list", list); } else { value.removeAttribute("list"); }
    var type = option.getAttribute("data-ff-type");
    if (type === "number" || type === "integer") { value.setAttribute("inputmode", "decimal"); } else { value.removeAttribute("inputmode"); }
  }

  function renumber(rows) {
    rows.querySelectorAll("[data-ff-builder-row]").forEach(function (row, index) {
      row.id = "rows-" + index;
      row.querySelectorAll("[name], [id], label[for]").forEach(function (element) {
        ["name", "id", "for"].forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value && ROW_NAME.test(value)) { element.setAttribute(attribute, value.replace(ROW_NAME, "rows-" + index + "-")); }
        });
      });
      var remove = row.querySelector("[data-ff-builder-remove]");
      if (remove) {
        remove.value = String(index);
        remove.textContent = remove.textContent.replace(/\d+/, String(index + 1));
      }
    });
  }

  function clear(row) {
    row.querySelectorAll(".ff-error").forEach(function (error) { error.parentNode.removeChild(error); });
    row.querySelectorAll("[aria-invalid]").forEach(function (element) {
      element.removeAttribute("aria-invalid");
      element.removeAttribute("aria-describedby");
    });
    var value = row.querySelector("[data-ff-builder-value]");
    if (value) { value.value = ""; }
  }

  function setUp(builder) {
    var rows = builder.querySelector("[data-ff-builder-rows]");
    builder.querySelectorAll("[data-ff-builder-row]").forEach(function (row) { showOperands(row); offerOptions(row); });
    builder.addEventListener("change", function (event) {
      var row = event.target.closest("[data-ff-builder-row]");
      if (!row) { return; }
      if (event.target.matches("[data-ff-builder-op]")) { showOperands(row); }
      if (event.target.matches("[data-ff-builder-field]")) { offerOptions(row); }
    });
    builder.addEventListener("click", function (event) {
      var add = event.target.closest("[data-ff-builder-add]");
      var remove = event.target.closest("[data-ff-builder-remove]");
      if (add) {
        event.preventDefault();
        var all = rows.querySelectorAll("[data-ff-builder-row]");
        var copy = all[all.length - 1].cloneNode(true);
        clear(copy);
        rows.appendChild(copy);
        renumber(rows);
        showOperands(copy);
        offerOptions(copy);
        var first = copy.querySelector("select, input");
        if (first) { first.focus(); }
      } else if (remove) {
        event.preventDefault();
        var row = remove.closest("[data-ff-builder-row]");
        if (rows.querySelectorAll("[data-ff-builder-row]").length > 1) {
          row.parentNode.removeChild(row);
          renumber(rows);
        } else {
          clear(row);
        }
      }
    });
  }

  function showMessage(form) {
    var kind = form.querySelector("select[name=kind]");
    var message = form.querySelector("[data-ff-builder-message]");
    if (!kind || !message) { return; }
    var update = function () { message.hidden = kind.value !== "validate"; };
    kind.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-ff-builder]").forEach(setUp);
    document.querySelectorAll("form.rule-editor").forEach(showMessage);
  });
})();
