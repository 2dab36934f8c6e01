"""The web shell, below every capability: request dependencies (`deps`), middleware, JSON logs, rendering
(one Jinja environment over the shell's and the capabilities' templates), error pages, the base templates and
macros, and the shell's own pages (home, sign-in, user administration, audit) and API (/health, /api/me).
Capabilities' pages and API live in `openem.<capability>.web`; `openem.server` assembles the app."""
