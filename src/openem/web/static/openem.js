// Progressive enhancement: mark support, then initialise GOV.UK and MOJ components if their scripts loaded.
document.body.classList.add('govuk-frontend-supported', 'js-enabled');
import('/static/vendor/govuk/govuk-frontend.min.js').then((m) => { if (m.initAll) m.initAll(); }).catch(() => {});
