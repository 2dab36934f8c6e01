// Click-to-place: a click on the map moves the pin and fills the latitude and longitude fields (the form works
// without this script: the fields are the accessible way in).
(function () {
  var el = document.getElementById('pin-map');
  if (!el || !window.L || !window.openemMap) return;
  var context = JSON.parse(el.dataset.context || '{}');
  var drawn = window.openemMap.create(el, context);
  var lat = document.getElementById('lat'), lon = document.getElementById('lon');
  var start = (context.addresses || [])[0];
  var marker = null;
  if (start) { drawn.map.setView([start.lat, start.lon], 16); }
  drawn.map.on('click', function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(e.latlng); } else {
      marker = L.circleMarker(e.latlng, { radius: 9, color: '#d4351c', weight: 3 }).addTo(drawn.map);
    }
  });
})();
