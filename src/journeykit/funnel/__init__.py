"""``journeykit funnel``: step conversion with a conversion window (SPEC §4)."""

from journeykit.funnel.run import FunnelResult, funnel
from journeykit.funnel.spec import FunnelSpec, resolve_steps

__all__ = ["FunnelResult", "FunnelSpec", "funnel", "resolve_steps"]
