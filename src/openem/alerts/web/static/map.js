// Evidence map: the order's context (curfew address, other addresses, zones with their names) and the evidence
// positions with their accuracy circles, drawn by /static/openem-map.js. Works without any tiles.
(function () {
  const el = document.getElementById('evidence-map');
  if (!el || !window.L || !window.openemMap) return;
  const drawn = window.openemMap.create(el, JSON.parse(el.dataset.context || '{}'));
  window.openemMap.positions(drawn, JSON.parse(el.dataset.points || '[]'), {
    marker: () => ({ radius: 5, color: '#d4351c', fillOpacity: 0.9 }),
    text: (p, i) => `${i + 1}: ${p.time.slice(11, 19)}`,
  });
})();
