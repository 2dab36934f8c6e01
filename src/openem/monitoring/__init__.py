"""Monitoring: the rules engine that turns telemetry into alerts.

Owns per-wearer state, the rules (`rules/`: curfew, zones, attendance, trail, alcohol, device health,
non-fitted check-ins, proximity, unmonitored), the engine that runs them in event time with watermarks
(`engine.py`), alert records and the `AlertRaised` event (`events.py`), and deterministic batch replay of a
simulated world (`replay.py`, `openem monitor replay|accuracy`). Orders arrive as documents
(docs/order-format.md), never by importing `openem.orders`.
"""
