"""Alert triage, incidents and the operator queue: turns engine alerts into work, separating noise from breaches (next milestone)."""
