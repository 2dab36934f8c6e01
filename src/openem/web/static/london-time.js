// Times as the pages write them (openem.web.rendering.london_time): Europe/London, GOV.UK style,
// "1 December 2026 at 8:31pm", "midnight", "midday". From an ISO 8601 instant; anything else as it is.
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric',
  hour: 'numeric', minute: '2-digit', hourCycle: 'h23',
});
export function londonTime(iso) {
  const when = new Date(iso);
  if (!iso || Number.isNaN(when.getTime())) return iso || '';
  const p = Object.fromEntries(parts.formatToParts(when).map((x) => [x.type, x.value]));
  const hour = Number(p.hour) % 24; const minute = Number(p.minute);
  let clock;
  if (minute === 0 && hour === 0) clock = 'midnight';
  else if (minute === 0 && hour === 12) clock = 'midday';
  else clock = `${hour % 12 || 12}${minute ? `:${p.minute}` : ''}${hour < 12 ? 'am' : 'pm'}`;
  return `${p.day} ${p.month} ${p.year} at ${clock}`;
}
