// openem's maps: a base layer when one is configured (a local PMTiles extract through protomaps-leaflet, or a
// tile URL), and always the context openem itself knows, so that a map without tiles is not a grey square:
// addresses as markers with labels (the curfew address marked as such), zones as shapes with their names.
// Every label is a text node, never HTML: names and addresses are people's text.
(function () {
  'use strict';
  function text(s, cls) {
    var el = document.createElement('span');
    el.className = 'openem-map-label' + (cls ? ' ' + cls : '');
    el.textContent = String(s);
    return el;
  }
  function tip(s) { var span = document.createElement('span'); span.textContent = String(s); return span; }
  function label(map, at, s, cls, anchor) {
    // a non-interactive marker holding a text element: always visible, lets clicks and hovers through
    return L.marker(at, { icon: L.divIcon({ html: text(s, cls), className: '', iconSize: null, iconAnchor: anchor }),
      interactive: false, keyboard: false }).addTo(map);
  }
  function baseLayer(map, el) {
    var pm = el.getAttribute('data-basemap');
    var tiles = el.getAttribute('data-tiles');
    if (pm && window.protomapsL) {
      var options = { url: pm, flavor: 'light', lang: 'en', attribution: '© OpenStreetMap contributors' };
      var layer = window.protomapsL.leafletLayer(options);
      layer.addTo(map);
      if (window.pmtiles) {
        // draw past the extract's deepest zoom by scaling its last level, rather than leaving blank tiles
        new window.pmtiles.PMTiles(pm).getHeader().then(function (h) {
          if (h && h.maxZoom && layer.options) { layer.options.maxDataZoom = h.maxZoom; layer.redraw && layer.redraw(); }
        }).catch(function () {});
      }
      return 'pmtiles';
    }
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); return 'tiles'; }
    el.classList.add('openem-map--plain');
    return '';
  }
  // Draw the context; returns the map and the points to fit. data: {addresses: [{label, lat, lon, curfew}],
  // zones: [{kind, name, geometry}], places: [{label, lat, lon}]}
  function create(el, data, options) {
    var hasBase = !!(el.getAttribute('data-basemap') && window.protomapsL) || !!el.getAttribute('data-tiles');
    var map = L.map(el, Object.assign({ attributionControl: hasBase }, options || {}));
    map.setView([52.5, -1.5], 6);  // a view first: shapes measured in metres need one to be drawn; callers fit
    var base = baseLayer(map, el);
    L.control.scale({ imperial: false }).addTo(map);
    var bounds = [];
    (data.zones || []).forEach(function (z) {
      if (!z.geometry || !z.geometry.coordinates || !z.geometry.coordinates[0]) { return; }
      var ring = z.geometry.coordinates[0].map(function (p) { return [p[1], p[0]]; });
      var keepOut = z.kind === 'exclusion_zones' || z.kind === 'restriction_zones';  // restriction: judged as exclusion
      var colour = keepOut ? '#d4351c' : '#00703c';
      var shape = L.polygon(ring, { color: colour, weight: 2, fillOpacity: 0.12 }).addTo(map).bindTooltip(tip(z.name || 'Zone'));
      var kind = { exclusion_zones: 'Exclusion zone', restriction_zones: 'Restriction zone' }[z.kind] || 'Inclusion zone';
      label(map, shape.getBounds().getCenter(), (z.name || kind), 'openem-map-label--zone', [0, 0]);
      ring.forEach(function (p) { bounds.push(p); });
    });
    (data.places || []).forEach(function (p) {
      // appointment places: a dot and its label, not interactive (the label says all there is)
      L.circleMarker([p.lat, p.lon], { radius: 5, color: '#4c2c92', interactive: false }).addTo(map);
      label(map, [p.lat, p.lon], 'Appointment: ' + (p.label || 'place'), '', [-8, 10]);
      bounds.push([p.lat, p.lon]);
    });
    (data.addresses || []).forEach(function (a) {
      var name = a.label || 'Address';
      L.circleMarker([a.lat, a.lon], { radius: a.curfew ? 9 : 7, color: '#1d70b8', weight: a.curfew ? 4 : 3 })
        .addTo(map).bindTooltip(tip(name));
      label(map, [a.lat, a.lon], (a.curfew ? 'Curfew address: ' : '') + name, a.curfew ? 'openem-map-label--curfew' : '', [-12, 10]);
      bounds.push([a.lat, a.lon]);
    });
    return { map: map, bounds: bounds, tip: tip, base: base };
  }
  // Positions over the drawn context: an accuracy circle and a marker each (the caller gives the marker's options
  // and its tooltip text, which goes in as a text node), the line between them, and the view fitted to them (else
  // to the context, else to England). opts: {marker(p, i), text(p, i), interactive (circles and line; true)}
  function positions(drawn, points, opts) {
    var map = drawn.map;
    var live = opts.interactive !== false;
    var layer = L.featureGroup().addTo(map);
    points.forEach(function (p, i) {
      L.circle([p.lat, p.lon], { radius: p.accuracy_m || 10, color: '#1d70b8', weight: 1, fillOpacity: 0.1, interactive: live }).addTo(layer);
      L.circleMarker([p.lat, p.lon], opts.marker(p, i)).bindTooltip(tip(opts.text(p, i))).addTo(layer);
    });
    if (points.length > 1) {
      L.polyline(points.map(function (p) { return [p.lat, p.lon]; }), { color: '#d4351c', weight: 2, interactive: live }).addTo(layer);
      map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 17 });
    } else if (points.length === 1) {
      map.setView([points[0].lat, points[0].lon], 16);
    } else if (drawn.bounds.length) {
      map.fitBounds(drawn.bounds, { padding: [40, 40], maxZoom: 15 });
    } else {
      map.setView([52.5, -1.5], 6);
    }
    return layer;
  }
  window.openemMap = { create: create, text: tip, positions: positions };
})();
