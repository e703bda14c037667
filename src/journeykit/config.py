"""``journeykit.toml``: column mapping, extra event aliases, named funnels and stage rules.

Config is data: frozen Pydantic models that reject unknown keys with a did-you-mean.

Example::

    [columns]
    user = "visitor"
    time = "ts"

    [events]
    add_to_cart = ["basket_add"]

    [funnels.checkout]
    steps = ["product_view", "add_to_cart", "checkout", "purchase"]
    window = "1d"

    [stages]
    consideration = ["product_view", "search", "wishlist"]
"""

import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from journeykit.durations import parse_duration
from journeykit.errors import UsageError, did_you_mean

DEFAULT_CONFIG_NAME = "journeykit.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnsConfig(_Frozen):
    """Which input column takes each role (overrides detection, overridden by flags)."""

    user: str | None = None
    time: str | None = None
    event: str | None = None
    session: str | None = None
    price: str | None = None
    quantity: str | None = None
    revenue: str | None = None
    order: str | None = None
    touch: str | None = None
    """The touch column of ``journeykit attribution`` (``--touch``)."""
    stitch: str | None = None
    """The anonymous id column stitched to users (``--stitch``, SPEC §17)."""


class FunnelConfig(_Frozen):
    """A named funnel, used with ``journeykit funnel FILE --funnel NAME``."""

    steps: list[str | list[str]]
    """Each step an event name, ``a|b`` or a list of names (alternatives, SPEC §13)."""
    window: str | None = None
    order: Literal["ordered", "strict", "any"] | None = None
    by: Literal["user", "session"] | None = None
    exclude: list[str] = []
    """``NAME[@i-j]`` exclusions, as ``--exclude``."""

    @property
    def step_texts(self) -> list[str]:
        """The steps as ``--steps`` spells them (``a|b`` for alternatives)."""
        return [step if isinstance(step, str) else "|".join(step) for step in self.steps]

    @field_validator("window")
    @classmethod
    def _window_is_a_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value, option="window")
        return value


class StagesConfig(_Frozen):
    """Which events make a session reach each behavioural stage (SPEC §5)."""

    consideration: list[str] = ["product_view", "search"]
    decision: list[str] = ["add_to_cart", "checkout"]
    advocacy: list[str] = ["review", "referral", "share"]


class Config(_Frozen):
    columns: ColumnsConfig = ColumnsConfig()
    events: dict[str, list[str]] = {}
    funnels: dict[str, FunnelConfig] = {}
    stages: StagesConfig = StagesConfig()
    segments: dict[str, str] = {}
    """Custom segments (SPEC §16): name → a SQL boolean expression over the emit columns, in
    file order."""


def load_config(path: Path | None) -> Config:
    """Read ``path``, or ``./journeykit.toml`` when it exists, or return the defaults."""
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return Config()
        path = default
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: config file not found; check --config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(f"{path}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        *parent, key = (str(part) for part in error["loc"])
        allowed = _allowed_keys(parent)
        return f"{location} → unknown key{did_you_mean(key, allowed)}"
    return f"{location} → {error['msg']}"


def _allowed_keys(parent: list[str]) -> list[str]:
    """Valid keys of the table at ``parent`` (``funnels.buy`` → the keys of ``FunnelConfig``)."""
    node: Any = Config
    for part in parent:
        if get_origin(node) is dict:
            node = get_args(node)[1]
        elif isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            node = node.model_fields[part].annotation
        else:
            return []
    return list(node.model_fields) if isinstance(node, type) and issubclass(node, BaseModel) else []
