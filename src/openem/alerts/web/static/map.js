// Evidence map: positions with their accuracy circles. Base tiles only when configured; works without them.
(function () {
  const el = document.getElementById('evidence-map');
  if (!el || !window.L) return;
  const points = JSON.parse(el.dataset.points || '[]');
  // A string tooltip goes in as HTML: give Leaflet a text node, so no text from the data is ever markup.
  const text = (s) => { const span = document.createElement('span'); span.textContent = String(s); return span; };
  const map = L.map(el, { attributionControl: false });
  if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.setView(points.length ? [points[0].lat, points[0].lon] : [52.5, -1.5], points.length ? 16 : 6);
  const layer = L.featureGroup().addTo(map);
  points.forEach((p, i) => {
    L.circle([p.lat, p.lon], { radius: p.accuracy_m || 10, color: '#1d70b8', weight: 1, fillOpacity: 0.1 }).addTo(layer);
    L.circleMarker([p.lat, p.lon], { radius: 5, color: '#d4351c', fillOpacity: 0.9 }).bindTooltip(text(`${i + 1}: ${p.time.slice(11, 19)}`)).addTo(layer);
  });
  if (points.length > 1) L.polyline(points.map((p) => [p.lat, p.lon]), { color: '#d4351c', weight: 2 }).addTo(layer);
  if (points.length > 1) map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 17 });
})();
