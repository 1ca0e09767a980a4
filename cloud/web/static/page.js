// The support page refreshes its rows in place every few seconds (no build chain, no library).
"use strict";
(function () {
  const script = document.currentScript;
  const every = Number(script && script.dataset.every) || 5;
  const rows = document.getElementById("rows");
  const summary = document.getElementById("summary");
  const refreshed = document.getElementById("refreshed");
  const form = document.getElementById("filters");
  if (!rows || !form) { return; }
  for (const select of form.querySelectorAll("select")) {
    select.addEventListener("change", function () { form.submit(); });
  }
  async function refresh() {
    try {
      // The origin, not a relative URL: a page opened as http://user:pass@host/ has a base URL
      // with credentials, from which fetch() refuses to build a request.
      const response = await fetch(window.location.origin + "/board" + window.location.search,
        { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (response.ok) {
        const body = await response.json();
        rows.innerHTML = body.rows;
        summary.textContent = body.summary;
        refreshed.textContent = body.refreshed;
        refreshed.classList.remove("now");
      } else {
        refreshed.classList.add("now");
      }
    } catch (error) {
      refreshed.classList.add("now");
    }
    window.setTimeout(refresh, every * 1000);
  }
  window.setTimeout(refresh, every * 1000);
})();
