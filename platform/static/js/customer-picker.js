// Search as you type for the customer of a new case: fills the input's <datalist> from
// GET <data-customer-search>?q=… ([{code, name, tier}]). Without JavaScript the field takes
// a code (any case) or an exact name all the same; the server decides either way.
(function () {
  "use strict";
  document.querySelectorAll("input[data-customer-search]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-customer-search");
    if (!list || !url) {
      return;
    }
    var timer = null;
    var asked = 0;
    var lastQuery = null;

    function show(customers) {
      list.replaceChildren();
      customers.forEach(function (customer) {
        var option = document.createElement("option");
        option.value = customer.code;
        option.label = customer.code + " · " + customer.name + " (" + customer.tier + ")";
        option.textContent = option.label;
        list.appendChild(option);
      });
    }

    function ask() {
      var query = input.value.trim();
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      if (!query) {
        show([]);
        return;
      }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (customers) {
          if (mine === asked) {  // an older answer arriving late changes nothing
            show(Array.isArray(customers) ? customers : []);
          }
        })
        .catch(function () { /* offline: typing a code still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    if (input.value.trim()) {
      ask();
    }
  });
})();
