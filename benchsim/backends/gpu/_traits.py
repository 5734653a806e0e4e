"""The live backend's traits, declared once and importable without torch (the package
registers them; its benchmarks and outlines add the devices they were opened on)."""

from __future__ import annotations

from benchsim.backends.base import Traits

LIVE_TRAITS = Traits(checkpoint_at_milestones=True, tasks_are_datasets=True)
"""Answers cost real seconds of real training (no simulated clock, no free lookups, no known
optimum); a generation is worth a checkpoint; the run's tasks are the datasets it opens."""
