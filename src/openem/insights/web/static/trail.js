// Trail map: the orders' context (curfew address, other addresses, zones with their names and hours) and the
// positions drawn by /static/openem-map.js, each with its number in the whole trail (the map may be thinned; the
// positions that matter, such as zone entries and exits, are always drawn, larger), an accuracy circle and a
// tooltip with time, speed and source. Works without tiles.
(function () {
  const el = document.getElementById('trail-map');
  if (!el || !window.L || !window.openemMap) return;
  const points = JSON.parse(el.dataset.points || '[]');
  const drawn = window.openemMap.create(el, JSON.parse(el.dataset.context || '{}'));
  window.openemMap.positions(drawn, points, {
    interactive: false,
    marker: (p) => ({ radius: p.key ? 7 : 4, color: p.key ? '#0b0c0c' : '#d4351c', fillColor: '#d4351c', fillOpacity: 0.9 }),
    text: (p) => {
      const bits = [`${p.n}: ${p.time.slice(0, 10)} ${p.time.slice(11, 19)} UTC`];
      if (p.speed_kmh !== null && p.speed_kmh !== undefined) bits.push(`${p.speed_kmh} km/h`);
      if (p.source) bits.push(p.source);
      return bits.join(', ');
    },
  });
})();
