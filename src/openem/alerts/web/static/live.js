// Poll the alerts API and prepend new rows; the table stays a normal accessible table.
import { londonTime } from '/static/london-time.js';

const body = document.getElementById('alerts-body');
const seen = new Set([...body.querySelectorAll('a[href^="/alerts/"]')].map((a) => a.getAttribute('href')));
const tag = (s) => (s === 'HIGH' ? 'govuk-tag--red' : s === 'MEDIUM' ? 'govuk-tag--orange' : 'govuk-tag--grey');
const cell = (content) => { const td = document.createElement('td'); td.className = 'govuk-table__cell'; td.append(content); return td; };
async function refresh() {
  try {
    const res = await fetch('/api/alerts?limit=50', { credentials: 'same-origin' });
    if (!res.ok) return;
    const alerts = await res.json();
    for (const a of alerts.reverse()) {
      const href = `/alerts/${a.alert_id}`;
      if (seen.has(href)) continue;
      seen.add(href);
      document.getElementById('no-alerts')?.remove();
      const tr = document.createElement('tr'); tr.className = 'govuk-table__row';
      const link = document.createElement('a'); link.className = 'govuk-link'; link.href = href; link.textContent = a.label;
      const sev = document.createElement('strong'); sev.className = `govuk-tag ${tag(a.severity)}`; sev.textContent = a.severity.charAt(0) + a.severity.slice(1).toLowerCase();
      const cells = [cell(londonTime(a.detected_at)), cell(link), cell(sev), cell(a.order_ref), cell(londonTime(a.start))];
      ['Detected', 'Alert', 'Severity', 'Order', 'Event started'].forEach((label, i) => { cells[i].dataset.label = label; });
      tr.append(...cells);
      body.prepend(tr);
    }
  } catch (e) { /* the next poll tries again */ }
}
setInterval(refresh, 3000);
