"""Users, roles, access rules (role + caseload + force + restricted "specials"), sessions, API tokens and the
hash-chained audit log. Identity sits behind `IdentityProvider` so that an OIDC login can be added later."""
