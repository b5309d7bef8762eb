// berth console: keeps the page's live parts current. Every 2 seconds the page is fetched
// again and each element marked data-live (with an id) is replaced by its new rendering; no
// build step, no framework. A part with focus inside is left alone so typing is not lost.
(function () {
  "use strict";
  var PERIOD_MS = 2000;
  function refresh() {
    if (document.hidden || !document.querySelector("[data-live]")) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Berth-Console": "live" } })
      .then(function (resp) {
        if (resp.redirected && resp.url.indexOf("/console/sign-in") !== -1) {
          window.location.assign(resp.url);
          return null;
        }
        return resp.ok ? resp.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (next && !old.contains(document.activeElement)) old.replaceWith(document.importNode(next, true));
        });
        document.documentElement.dataset.refreshed = String(Date.now());
      })
      .catch(function () { /* the next period tries again */ });
  }
  window.setInterval(refresh, PERIOD_MS);
})();
