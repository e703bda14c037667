"""``journeykit compare``: segments or variants side by side, with intervals and tests."""

from journeykit.compare.run import CompareResult, CompareSpec, compare

__all__ = ["CompareResult", "CompareSpec", "compare"]
