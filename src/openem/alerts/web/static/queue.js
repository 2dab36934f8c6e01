// The operator queue, enhanced: sortable columns (MOJ), and live updates without a reload. Every few seconds
// a small digest of the rows is polled; only when it changes are the rows fetched (rendered by the server,
// as on first load) and swapped in, with a polite announcement. Without JS the page works as it is.
const table = document.getElementById('incidents-table');
let sortable = null;
import('/static/vendor/moj/moj-frontend.min.js').then((m) => {
  try { sortable = new m.SortableTable(table); } catch (e) { /* already initialised */ }
}).catch(() => {});
const body = document.getElementById('incidents-body');
const status = document.getElementById('queue-status');
const total = document.getElementById('queue-total');
const query = table.dataset.query;
let current = table.dataset.digest;
async function refresh() {
  try {
    const res = await fetch(`/api/incidents/digest?${query}`, { credentials: 'same-origin' });
    if (!res.ok) return;
    const d = await res.json();
    if (d.digest === current) return;
    const rows = await fetch(`/incidents/rows?${query}`, { credentials: 'same-origin' });
    if (!rows.ok) return;
    const html = await rows.text();
    const tmp = document.createElement('tbody');
    tmp.innerHTML = html;  // server-rendered and escaped by the same template as the page
    body.replaceChildren(...tmp.children);
    current = d.digest;
    total.textContent = `${d.total.toLocaleString('en-GB')} incident${d.total === 1 ? '' : 's'}.`;
    status.textContent = `The queue was updated: ${d.total.toLocaleString('en-GB')} incident${d.total === 1 ? '' : 's'}.`;
    body.dataset.updated = String(Date.now());
    const sorted = table.querySelector('th[aria-sort="ascending"] button, th[aria-sort="descending"] button');
    if (sortable && sorted) {
      const dir = sorted.parentElement.getAttribute('aria-sort');
      const idx = Number(sorted.dataset.index || 0);
      sortable.addRows(sortable.sort(sortable.getTableRowsArray(), idx, dir));
    }
  } catch (e) { /* the next poll tries again */ }
}
setInterval(refresh, Number(table.dataset.poll || 4000));
