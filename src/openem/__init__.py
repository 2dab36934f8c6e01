"""openem: an open platform for electronic monitoring (tagging) in England and Wales."""

__version__ = "0.1.0"
