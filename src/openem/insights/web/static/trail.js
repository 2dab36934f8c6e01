// Trail map: the orders' context (curfew address, other addresses, zones with their names and hours) drawn by
// /static/openem-map.js, then the positions, each with its number in the whole trail (the map may be thinned;
// the positions that matter, such as zone entries and exits, are always drawn, larger), an accuracy circle and a
// tooltip with time, speed and source. Works without tiles.
(function () {
  const el = document.getElementById('trail-map');
  if (!el || !window.L || !window.openemMap) return;
  const points = JSON.parse(el.dataset.points || '[]');
  const context = JSON.parse(el.dataset.context || '{}');
  const drawn = window.openemMap.create(el, context);
  const map = drawn.map;
  const layer = L.featureGroup().addTo(map);
  points.forEach((p) => {
    L.circle([p.lat, p.lon], { radius: p.accuracy_m || 10, color: '#1d70b8', weight: 1, fillOpacity: 0.1, interactive: false }).addTo(layer);
    const bits = [`${p.n}: ${p.time.slice(0, 10)} ${p.time.slice(11, 19)} UTC`];
    if (p.speed_kmh !== null && p.speed_kmh !== undefined) bits.push(`${p.speed_kmh} km/h`);
    if (p.source) bits.push(p.source);
    // a text node, not a string: Leaflet puts a string tooltip in as HTML
    L.circleMarker([p.lat, p.lon], { radius: p.key ? 7 : 4, color: p.key ? '#0b0c0c' : '#d4351c', fillColor: '#d4351c', fillOpacity: 0.9 })
      .bindTooltip(drawn.tip(bits.join(', '))).addTo(layer);
  });
  if (points.length > 1) L.polyline(points.map((p) => [p.lat, p.lon]), { color: '#d4351c', weight: 2, interactive: false }).addTo(layer);
  if (points.length > 1) {
    map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 17 });
  } else if (points.length === 1) {
    map.setView([points[0].lat, points[0].lon], 16);
  } else if (drawn.bounds.length) {
    map.fitBounds(drawn.bounds, { padding: [40, 40], maxZoom: 15 });
  } else {
    map.setView([52.5, -1.5], 6);
  }
})();
