"""Management information: KPIs, the unmonitored population, thresholds and escalation (next milestone)."""
