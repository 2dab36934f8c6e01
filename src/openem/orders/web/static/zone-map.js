// Zone drawing: click the map to add the corners of a polygon; the polygon is kept as GeoJSON in the hidden
// "geometry" field. Works without base tiles: the order's addresses and zones are drawn with their labels.
(function () {
  var el = document.getElementById('map');
  if (!el || !window.L || !window.openemMap) { return; }
  var data = JSON.parse(el.getAttribute('data-map') || '{}');
  var field = document.getElementById('geometry');
  var status = document.getElementById('map-status');
  var undo = document.getElementById('map-undo');
  // The order's addresses and zones, with their labels as text, drawn by /static/openem-map.js.
  var drawn = window.openemMap.create(el, data);
  var map = drawn.map;
  var bounds = drawn.bounds;
  if (bounds.length) { map.fitBounds(bounds, { padding: [40, 40], maxZoom: 15 }); } else { map.setView([52.5, -1.5], 7); }

  var points = [];
  var shape = null;
  var markers = L.layerGroup().addTo(map);
  function restore() {
    try {
      var g = JSON.parse(field.value);
      if (g && g.type === 'Polygon') { points = g.coordinates[0].slice(0, -1).map(function (p) { return [p[1], p[0]]; }); }
    } catch (e) { points = []; }
  }
  function redraw() {
    markers.clearLayers();
    if (shape) { map.removeLayer(shape); shape = null; }
    points.forEach(function (p) { L.circleMarker(p, { radius: 4, color: '#0b0c0c' }).addTo(markers); });
    if (points.length >= 2) { shape = L.polygon(points, { color: '#f47738' }).addTo(map); }
    if (points.length >= 3) {
      var ring = points.map(function (p) { return [Number(p[1].toFixed(6)), Number(p[0].toFixed(6))]; });
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: 'Polygon', coordinates: [ring] });
    } else {
      field.value = '';
    }
    status.textContent = points.length ? points.length + ' points drawn' + (points.length < 3 ? ' (a zone needs at least 3)' : '') + '.' : 'No points drawn.';
    undo.hidden = points.length === 0;
  }
  map.on('click', function (e) { points.push([e.latlng.lat, e.latlng.lng]); redraw(); });
  undo.addEventListener('click', function () { points.pop(); redraw(); });
  if (field.value) { restore(); redraw(); }
})();
