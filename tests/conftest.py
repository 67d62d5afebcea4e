"""Test-wide settings: Hypothesis profiles.

Every property test is reproducible: under CI (``CI`` set) examples are derandomized;
locally ``HYPOTHESIS_PROFILE=dev`` (default) keeps Hypothesis' search random but
without wall-clock deadlines, which JIT compilation would trip.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, derandomize=True, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
