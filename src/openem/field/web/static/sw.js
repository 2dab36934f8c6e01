// The field officer's shift offline: the day's pages (/field/visits and each visit) and the static files are kept
// on the phone as they are loaded (network first, the kept copy when there is no network). Outcomes recorded
// offline are queued by offline.js and sent when the phone is back online.
var CACHE = 'openem-field-shift-v1';
self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (!(url.pathname.indexOf('/field/visits') === 0 || url.pathname.indexOf('/static/') === 0)) return;
  e.respondWith(fetch(req).then(function (resp) {
    if (resp.ok && !resp.redirected) {
      var copy = resp.clone();
      caches.open(CACHE).then(function (c) { c.put(req, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.match(req, { ignoreSearch: url.pathname === '/field/visits' }).then(function (hit) {
      return hit || new Response('<!DOCTYPE html><html lang="en"><title>Offline</title><p>You are offline and this page was not kept on the phone.</p></html>',
        { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    });
  }));
});
