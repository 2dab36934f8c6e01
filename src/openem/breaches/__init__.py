"""Violation periods, breach packs, routing to the responsible agency, and tracking responses and outcomes (next milestone)."""
