"""Segments and personas (SPEC §16): lifecycle, RFM and custom segments of users."""

from journeykit.segments.run import SegmentsResult, segments
from journeykit.segments.spec import SegmentsSpec

__all__ = ["SegmentsResult", "SegmentsSpec", "segments"]
