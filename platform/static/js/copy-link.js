// The customer page's self-service links: "Copy" puts the link's URL on the clipboard.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-link]");
    if (!button) return;
    var input = button.parentElement.querySelector("input.ss-url");
    if (!input) return;
    input.select();
    var done = function () { button.classList.add("contrast"); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
