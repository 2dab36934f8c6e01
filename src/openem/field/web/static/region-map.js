// A region's day on a map without tiles: openem-map.js draws the stops (labelled officer and number) and the
// depot; each officer's route is a line of its own colour from the depot and back. The lists say the same.
(function () {
  var el = document.getElementById('region-map');
  if (!el || !window.L || !window.openemMap) return;
  var context = JSON.parse(el.dataset.context || '{}');
  var drawn = window.openemMap.create(el, context);
  var all = [];
  (context.routes || []).forEach(function (r) {
    L.polyline(r.points, { color: r.colour, weight: 3, interactive: false }).addTo(drawn.map);
    all = all.concat(r.points);
  });
  if (all.length) drawn.map.fitBounds(all, { padding: [40, 40], maxZoom: 14 });
})();
