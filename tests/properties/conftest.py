"""Hypothesis profiles for the property-based tests (docs/reliability.md, "Property-based tests").

``ci`` (the default when the ``CI`` environment variable is set): 150 examples a property,
derandomized so a CI run is reproducible, no deadline (the machine is shared and slow, and a
deadline would report the neighbours' load as a bug) and no example database.
``dev`` (the default otherwise): the same size, random, with the example database in ``.hypothesis/`` so a failure
found locally is replayed first on the next run.
``long``: thousands of random examples a property, for a run before a release or after a
change to a parser: ``HYPOTHESIS_PROFILE=long python -m pytest tests/properties``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci", settings.get_profile("ci"), max_examples=150, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile("dev", max_examples=150, deadline=None, suppress_health_check=_QUIET)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=_QUIET, derandomize=False
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI") else "dev"


settings.load_profile(_profile())
