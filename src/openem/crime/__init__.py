"""Acquisitive crime matching (issue 16): police forces' crime batches in (CSV as they send it today, by page,
API, command or mailbox), every crime version matched against every permitted wearer's trail, results with
passes, "unknown" and "ruled out", evidence reports, and pages for hub caseworkers and police by force."""
