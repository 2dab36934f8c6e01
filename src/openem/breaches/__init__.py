"""Breaches: a breach opened from an escalated incident, its violation period (07:00-06:59 Europe/London),
routing to the responsible agency (rules as data: routing.json), the breach pack (one-page summary then the
evidence annex; HTML, PDF, JSON; hashed and versioned), the agencies' responses and the clocks of every stage."""
