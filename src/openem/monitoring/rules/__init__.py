"""Monitoring rules: each a pure state machine over plain data (dicts and floats, JSON-safe state).

A rule takes its state, one observation and its thresholds (per order, defaults in `defaults.json`, versioned)
and returns alert drafts; the engine owns ordering, activations, watermarks and de-duplication.
"""
