"""Users, roles, access rules (role + caseload + force + restricted "specials"), sessions, API tokens and the
hash-chained audit log. Identity sits behind `IdentityProvider` so that an OIDC login can be added later."""

# The audit writer registers itself with the store's unit of work (which cannot import auth: it sits below it).
from openem.auth import audit as _audit  # noqa: E402,F401
