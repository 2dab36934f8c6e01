// Order lists: sortable tables (MOJ frontend), when the browser runs modules.
const tables = document.querySelectorAll('[data-module="moj-sortable-table"]:not([data-moj-sortable-table-init])');
if (tables.length) {
  import('/static/vendor/moj/moj-frontend.min.js').then((m) => {
    tables.forEach((t) => { try { new m.SortableTable(t); } catch (e) { /* already initialised */ } });
  }).catch(() => {});
}
