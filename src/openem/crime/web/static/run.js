// The batch page while its matching run is queued or running: ask the API every 2 seconds and reload the page
// once the run has finished (done or failed). Without JavaScript the page says to refresh.
(function () {
  var el = document.querySelector("[data-crime-run]");
  if (!el) return;
  var url = "/api/crime/batches/" + encodeURIComponent(el.getAttribute("data-crime-run"));
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var st = body && body.run ? body.run.status : "";
        if (st === "done" || st === "failed") { window.location.reload(); return; }
        if (st) el.textContent = st === "queued" ? "Queued: matching starts shortly" : "Running: matching the crimes";
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
