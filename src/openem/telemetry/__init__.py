"""Telemetry: the device wire format (parsing, validation, columnar form), ingest, dedupe and the raw store.

`openem.telemetry.wire` owns parsing and validation of wire messages (docs/telemetry.md); ingest adapters
(HTTP, MQTT) and the raw store call it and keep every message as received, rejected ones included.
"""
