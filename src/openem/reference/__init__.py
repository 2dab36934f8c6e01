"""Reference data files (courts, prisons, police areas, probation regions...), versioned with their source.

See SOURCE.md: extracted from the MoJ "Create an Electronic Monitoring Order" service's public reference
lists. Load them with `openem.core.reference`.
"""
