"""Person timeline and trail views for probation and police; every read of location data audited (next milestone)."""
