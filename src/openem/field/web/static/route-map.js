// The officer's route (or one visit's address) on a map without tiles: openem-map.js draws the stops as
// labelled addresses; the route joins them in visiting order. The list beside the map says the same in words.
(function () {
  var el = document.getElementById('route-map');
  if (!el || !window.L || !window.openemMap) return;
  var context = JSON.parse(el.dataset.context || '{}');
  var drawn = window.openemMap.create(el, context);
  var stops = (context.addresses || []).map(function (a) { return [a.lat, a.lon]; });
  if (stops.length > 1) {
    L.polyline(stops, { color: '#d4351c', weight: 3, dashArray: '6 6', interactive: false }).addTo(drawn.map);
    drawn.map.fitBounds(stops, { padding: [40, 40], maxZoom: 15 });
  } else if (stops.length === 1) {
    drawn.map.setView(stops[0], 15);
  }
})();
