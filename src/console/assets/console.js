// voltgate console: keeps the parts of a page marked data-live (charger states) fresh by
// fetching the page again every few seconds and swapping those parts in; nothing else on the
// page (forms being filled in) is touched. Without script the pages work, just not live.
// Also: the "Copy" buttons.
(function () {
  "use strict";
  var PERIOD_MS = 10000;
  function refresh() {
    if (!document.querySelector("[data-live]")) return;
    fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var fresh = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var next = el.id && fresh.getElementById(el.id);
          if (next) el.replaceWith(document.importNode(next, true));
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .finally(function () { setTimeout(refresh, PERIOD_MS); });
  }
  setTimeout(refresh, PERIOD_MS);

  // "Copy" buttons copy the text of the element their data-copy names; where the clipboard
  // is not available (plain http off localhost) the text is selected for the user to copy.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var select = function () {
      var range = document.createRange();
      range.selectNodeContents(source);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; }, select);
    } else {
      select();
    }
  });
})();
