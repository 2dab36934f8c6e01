"""Field visits: installation, adjustment and removal attempts, scheduling and outcomes (next milestone)."""
