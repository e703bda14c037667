"""Journey stages, cart abandonment and the headline summary (SPEC §5, §6, §7b).

All three aggregate one table of per-session facts (``journeykit.journey.units``).
"""

from journeykit.journey.abandonment import AbandonmentResult, abandonment
from journeykit.journey.spec import (
    STAGES,
    AbandonmentSpec,
    Period,
    StageRules,
    StagesSpec,
    SummarySpec,
    check_period,
    resolve_rules,
)
from journeykit.journey.stages import StagesResult, stages
from journeykit.journey.summary import SummaryResult, summary

__all__ = [
    "STAGES",
    "AbandonmentResult",
    "AbandonmentSpec",
    "Period",
    "StageRules",
    "StagesResult",
    "StagesSpec",
    "SummaryResult",
    "SummarySpec",
    "abandonment",
    "check_period",
    "resolve_rules",
    "stages",
    "summary",
]
