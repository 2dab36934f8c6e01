// Zone drawing: click the map to add the corners of a polygon; the polygon is kept as GeoJSON in the hidden
// "geometry" field. Works without base tiles (blank map with the order's addresses as markers).
(function () {
  var el = document.getElementById('map');
  if (!el || !window.L) { return; }
  var data = JSON.parse(el.getAttribute('data-map') || '{}');
  var field = document.getElementById('geometry');
  var status = document.getElementById('map-status');
  var undo = document.getElementById('map-undo');
  // Names and labels are people's text: Leaflet puts a string tooltip in as HTML, so give it a text node.
  function text(s) { var span = document.createElement('span'); span.textContent = String(s); return span; }
  var map = L.map(el, { attributionControl: !!data.tiles });
  if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
  var bounds = [];
  (data.addresses || []).forEach(function (a) {
    L.circleMarker([a.lat, a.lon], { radius: 7, color: '#1d70b8' }).addTo(map).bindTooltip(text(a.label || 'Address'));
    bounds.push([a.lat, a.lon]);
  });
  (data.zones || []).forEach(function (z) {
    if (!z.geometry || !z.geometry.coordinates) { return; }
    var ring = z.geometry.coordinates[0].map(function (p) { return [p[1], p[0]]; });
    var colour = z.kind === 'exclusion_zones' ? '#d4351c' : '#00703c';
    L.polygon(ring, { color: colour }).addTo(map).bindTooltip(text(z.name || 'Zone'));
    ring.forEach(function (p) { bounds.push(p); });
  });
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
