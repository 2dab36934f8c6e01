// Offline shift: register the service worker, keep each of today's visit pages on the phone, queue an outcome
// recorded without network (with the time it was recorded) and send the queue when back online.
(function () {
  var KEY = 'openem-field-queue';
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).then(function () {
      document.querySelectorAll('a[href^="/field/visits/"]').forEach(function (a) {
        fetch(a.getAttribute('href'), { credentials: 'same-origin' }).catch(function () {});
      });
    }).catch(function () {});
  }
  function queue() { try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(); }
  function show() {
    var el = document.getElementById('offline-queue');
    if (!el) return;
    var n = queue().length;
    el.hidden = n === 0;
    el.textContent = n ? n + (n === 1 ? ' outcome is' : ' outcomes are') + ' kept on this phone and will be sent when you are back online.' : '';
  }
  function sync() {
    var q = queue();
    if (!q.length || !navigator.onLine) return;
    var item = q[0];
    var body = new URLSearchParams(item.fields);
    fetch(item.action, { method: 'POST', body: body, credentials: 'same-origin', redirect: 'follow' }).then(function (resp) {
      // sent (or refused with a reason the visit page shows): either way it no longer waits on the phone
      if (resp.ok || resp.status === 422 || resp.status === 404 || resp.status === 409) { save(queue().slice(1)); sync(); }
    }).catch(function () {});
  }
  var form = document.getElementById('outcome-form');
  if (form) {
    form.addEventListener('submit', function (e) {
      if (navigator.onLine) return;
      e.preventDefault();
      var fields = {};
      // a photo is not kept offline (local storage holds text): the outcome is, and the photo can be added online
      new FormData(form).forEach(function (v, k) { if (typeof v === 'string') fields[k] = v; });
      fields.recorded_at = new Date().toISOString();
      var q = queue(); q.push({ action: form.getAttribute('action'), fields: fields }); save(q);
      var note = document.getElementById('offline-saved');
      if (note) { note.hidden = false; note.focus(); }
    });
  }
  window.addEventListener('online', sync);
  show();
  sync();
})();
