"""Alerts: the record of every alert the monitoring engine raised, with its evidence, and (next milestone)
triage, incidents and the operator queue that separate noise from breaches. Alerts arrive as
`monitoring.AlertRaised` events; storing them is idempotent on the alert id."""
