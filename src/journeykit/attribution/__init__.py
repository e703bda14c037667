"""Touchpoint attribution (SPEC §15): which channels bring the orders."""

from journeykit.attribution.run import AttributionResult, attribution
from journeykit.attribution.spec import AttributionSpec

__all__ = ["AttributionResult", "AttributionSpec", "attribution"]
