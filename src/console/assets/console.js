// voltgate console: keeps the parts of a page marked data-live fresh by fetching the page
// again and swapping those parts in; nothing else on the page (forms being filled in) is
// touched. Parts marked data-live="chargers" follow the server's live stream (/live, one per
// tab): they refresh when a charger the user may see changes (a charger's own page only for
// that charger). Other data-live parts (campaign progress) are fetched every 10 s, and so are
// charger parts while the stream is down. Without script the pages work, just not live.
// Also: the "Copy" buttons.
(function () {
  "use strict";
  var POLL_MS = 10000;
  var MIN_GAP_MS = 1000;
  var live = document.querySelectorAll("[data-live]");
  if (live.length) {
    var streamed = document.querySelector('[data-live="chargers"]') && window.EventSource;
    var polled = !streamed || document.querySelector('[data-live]:not([data-live="chargers"])');
    var streamUp = false;
    var pending = null;
    var last = 0;

    var refresh = function () {
      pending = null;
      last = Date.now();
      return fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
        .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
        .then(function (text) {
          if (!text) return;
          var fresh = new DOMParser().parseFromString(text, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (el) {
            var next = el.id && fresh.getElementById(el.id);
            if (next) el.replaceWith(document.importNode(next, true));
          });
        })
        .catch(function () { /* offline for a moment: try again next time */ });
    };
    // At most one fetch a second however fast the events come.
    var soon = function () {
      if (pending) return;
      pending = setTimeout(refresh, Math.max(150, MIN_GAP_MS - (Date.now() - last)));
    };

    if (streamed) {
      var source = new EventSource("/live");
      // A change between the page's render and the stream's (re)opening has no event of its
      // own: fetch once when the stream opens.
      source.onopen = function () { streamUp = true; soon(); };
      source.onerror = function () { streamUp = false; };
      source.addEventListener("chargers", function (e) {
        var change;
        try { change = JSON.parse(e.data); } catch (err) { return; }
        var own = document.querySelector("[data-charger]");
        var id = own && own.getAttribute("data-charger");
        if (id && !change.all && (change.chargers || []).indexOf(id) < 0) return;
        soon();
      });
    }
    var poll = function () {
      var due = polled || !streamUp ? refresh() : Promise.resolve();
      due.finally(function () { setTimeout(poll, POLL_MS); });
    };
    setTimeout(poll, POLL_MS);
  }

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
