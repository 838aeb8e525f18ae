// The console's few enhancements; every page works without them (plain links and form posts).
(function () {
  "use strict";

  // Live values: an element with data-live="name" shows the field of that name from the page's data-poll JSON endpoint.
  function poll(root) {
    var url = root.getAttribute("data-poll");
    var every = parseInt(root.getAttribute("data-poll-seconds") || "5", 10) * 1000;
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          root.querySelectorAll("[data-live]").forEach(function (el) {
            var value = data[el.getAttribute("data-live")];
            if (value !== undefined && value !== null) { el.textContent = String(value); }
          });
          var stamp = root.querySelector("[data-live-updated]");
          if (stamp) { stamp.textContent = new Date().toLocaleTimeString(); }
        })
        .catch(function () { /* the next poll tries again */ });
    }
    setInterval(refresh, every);
  }

  // A form with data-confirm asks first (the server asks too when the script does not run).
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    confirmations();
  });
})();
