"""Shared kernel: ids, clock, Europe/London time, geometry (BNG/WGS84), errors. Depends on nothing else in openem."""
