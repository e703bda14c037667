"""Paths and the journey map (SPEC §14): what people do after, before and instead."""

from journeykit.paths.journey_map import JourneyMapResult, journey_map
from journeykit.paths.run import PathsResult, paths
from journeykit.paths.spec import JourneyMapSpec, PathsSpec

__all__ = [
    "JourneyMapResult",
    "JourneyMapSpec",
    "PathsResult",
    "PathsSpec",
    "journey_map",
    "paths",
]
