// A long drop-down (courts and prisons: over 1,200) becomes a type-ahead (GOV.UK accessible-autocomplete).
// Progressive enhancement: without JavaScript, or if the script did not load, the select works as it is.
(function () {
  if (!window.accessibleAutocomplete) return;
  document.querySelectorAll('select[data-module="openem-autocomplete"]').forEach(function (select) {
    var names = Array.prototype.filter.call(select.options, function (o) { return o.value; })
      .map(function (o) { return o.textContent; });
    var chosen = select.options[select.selectedIndex];
    window.accessibleAutocomplete.enhanceSelectElement({
      selectElement: select,
      source: function (query, populate) {
        var q = query.toLowerCase();
        populate(names.filter(function (n) { return n.toLowerCase().indexOf(q) !== -1; }));
      },
      defaultValue: chosen && chosen.value ? chosen.textContent : '',
      minLength: 2,
    });
  });
})();
