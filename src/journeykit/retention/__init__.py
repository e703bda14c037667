"""``journeykit retention``: first-time cohorts and their return by period (SPEC §7)."""

from journeykit.retention.run import RetentionResult, retention
from journeykit.retention.spec import RetentionSpec, build_spec

__all__ = ["RetentionResult", "RetentionSpec", "build_spec", "retention"]
