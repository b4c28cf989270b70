"""The tier standard: what is scored, how, with which weights, and the tiers.

A standard is plain data (JSON on disk). ``Standard.from_dict`` validates it
and raises ``StandardError`` naming the first bad field as a dotted path
(``dimensions[1].metrics[0].cuts``), so a user editing JSON by hand knows
where to look. The format is described in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from tiering.errors import StandardError
from tiering.fields import DERIVED_RECENCY, FIELD_BY_KEY

Method = Literal["quantile", "thresholds", "category", "range"]
Direction = Literal["higher_better", "lower_better"]
MissingPolicy = Literal["lowest", "exclude"]
TierMode = Literal["score", "quota"]
GateOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "missing"]
GateAction = Literal["cap", "force"]

METHODS = ("quantile", "thresholds", "category", "range")
DIRECTIONS = ("higher_better", "lower_better")
MISSING_POLICIES = ("lowest", "exclude")
TIER_MODES = ("score", "quota")
GATE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "missing")
GATE_ACTIONS = ("cap", "force")
# ``clv`` is derived from amount and purchase count (tiering.clv).
SCORABLE_FIELDS = frozenset(FIELD_BY_KEY) | frozenset(DERIVED_RECENCY) | {"clv"}
# Twice the six months of private banking: a longer grace is a typo.
MAX_GRACE_PERIODS = 12
_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Metric:
    """One metric: a field turned into a score from 1 to 5."""

    key: str
    field: str
    method: Method
    weight: int
    label: dict[str, str] = field(default_factory=dict)
    direction: Direction = "higher_better"
    missing: MissingPolicy = "lowest"
    bins: int = 5
    cuts: tuple[float, ...] = ()
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 1
    low: float = 1.0
    high: float = 5.0


@dataclass(frozen=True)
class Dimension:
    """A group of metrics (value, credit, relationship…) with its weight."""

    key: str
    weight: int
    metrics: tuple[Metric, ...]
    label: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tier:
    """A tier, best first in the standard: a name, colour, cut-off and quota."""

    name: str
    color: str
    min_score: float
    share: float


@dataclass(frozen=True)
class Gate:
    """A rule that caps or forces a tier when a field meets a condition."""

    field: str
    op: GateOp
    action: GateAction
    tier: str
    value: Any = None
    label: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Clv:
    """Parameters of the customer lifetime value formula (see tiering.clv)."""

    margin: float = 0.3
    horizon_years: int = 5
    retention: float = 0.8
    discount: float = 0.08
    # The span the purchase count covers, to turn it into purchases per year.
    history_years: float = 3.0


@dataclass(frozen=True)
class PlaybookEntry:
    """A tier's service playbook (服务策略): services, cadence, owner role."""

    tier: str
    services: str = ""
    cadence_days: int = 30
    owner_role: str = ""
    note: str = ""


@dataclass(frozen=True)
class Standard:
    """A versioned tier standard."""

    name: str
    version: int
    dimensions: tuple[Dimension, ...]
    tiers: tuple[Tier, ...]
    tier_mode: TierMode = "score"
    gates: tuple[Gate, ...] = ()
    note: str = ""
    # Grace period (保级): snapshots a client may stay below its tier's line
    # before it is downgraded; 0 turns the rule off (see tiering.snapshots).
    grace_periods: int = 0
    # Optional blocks of issue 6; absent in older JSON (see tiering.clv).
    clv: Clv | None = None
    playbook: tuple[PlaybookEntry, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standard:
        """Build and validate a standard from its JSON form.

        Raises:
            StandardError: a field is missing or invalid; ``facts['field']``
                is its dotted path and ``facts['problem']`` says why.
        """
        return _parse_standard(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form; ``from_dict(to_dict())`` gives an equal standard."""
        # A JSON round trip turns tuples into lists: the shape stored on disk.
        return json.loads(json.dumps(asdict(self), ensure_ascii=False))

    def metrics(self) -> list[tuple[Dimension, Metric]]:
        """Return every (dimension, metric) pair in order."""
        return [(dim, metric) for dim in self.dimensions for metric in dim.metrics]

    def tier_names(self) -> list[str]:
        """Return the tier names, best first."""
        return [tier.name for tier in self.tiers]

    def label(self, item: Dimension | Metric, lang: str) -> str:
        """Return the display label of a dimension or metric in ``lang``."""
        return item.label.get(lang) or item.label.get("zh") or item.key

    def with_dimension_weights(self, weights: dict[str, int]) -> Standard:
        """Return a copy with new dimension weights (keys not given are kept)."""
        dimensions = tuple(
            replace(dim, weight=int(weights.get(dim.key, dim.weight)))
            for dim in self.dimensions
        )
        return Standard.from_dict(replace(self, dimensions=dimensions).to_dict())

    def with_tiers(self, tiers: list[Tier], mode: TierMode | None = None) -> Standard:
        """Return a copy with new tiers (and optionally a new tier mode)."""
        changed = replace(self, tiers=tuple(tiers), tier_mode=mode or self.tier_mode)
        return Standard.from_dict(changed.to_dict())


def load_standard(path: str | Path) -> Standard:
    """Read a standard from a JSON file.

    Raises:
        StandardError: the file is not valid JSON or not a valid standard.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise StandardError(
            "error.standard.file", file=Path(path).name, detail=type(error).__name__
        ) from error
    except json.JSONDecodeError as error:
        raise StandardError(
            "error.standard.json", file=Path(path).name, line=error.lineno
        ) from error
    return Standard.from_dict(data)


def loads_standard(text: str | bytes, name: str = "standard.json") -> Standard:
    """Parse a standard from JSON text (an uploaded file's content)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", 1)
        raise StandardError("error.standard.json", file=name, line=line) from error
    return Standard.from_dict(data)


def dumps_standard(standard: Standard) -> str:
    """Return the standard as indented JSON text, Chinese kept readable."""
    return json.dumps(standard.to_dict(), ensure_ascii=False, indent=2)


def save_standard(standard: Standard, path: str | Path) -> None:
    """Write the standard to ``path`` as JSON."""
    Path(path).write_text(dumps_standard(standard), encoding="utf-8")


# --- validation -----------------------------------------------------------


def _fail(path: str, problem: str, **facts: object) -> StandardError:
    return StandardError(field=path, problem_key=f"standard.problem.{problem}", **facts)


def _require(data: dict[str, Any], key: str, path: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(path, "object")
    if key not in data or data[key] is None:
        raise _fail(f"{path}.{key}" if path else key, "missing")
    return data[key]


def _weight(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, "weight")
    if value != int(value) or not 0 <= value <= 100:
        raise _fail(path, "weight")
    return int(value)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, "number")
    return float(value)


def _choice(value: Any, options: tuple[str, ...], path: str) -> str:
    if value not in options:
        raise _fail(path, "choice", options=", ".join(options))
    return value


def _label(value: Any, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"zh": value, "en": value}
    if not isinstance(value, dict) or not all(
        isinstance(text, str) for text in value.values()
    ):
        raise _fail(path, "label")
    return dict(value)


def _key(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _KEY_PATTERN.match(value):
        raise _fail(path, "key")
    return value


def _score(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, "score")
    if value != int(value) or not 1 <= value <= 5:
        raise _fail(path, "score")
    return int(value)


def _parse_metric(data: dict[str, Any], path: str) -> Metric:
    method = _choice(_require(data, "method", path), METHODS, f"{path}.method")
    field_key = _require(data, "field", path)
    if field_key not in SCORABLE_FIELDS:
        raise _fail(f"{path}.field", "unknown_field", value=field_key)
    metric = Metric(
        key=_key(_require(data, "key", path), f"{path}.key"),
        field=field_key,
        method=method,
        weight=_weight(_require(data, "weight", path), f"{path}.weight"),
        label=_label(data.get("label"), f"{path}.label"),
        direction=_choice(
            data.get("direction", "higher_better"), DIRECTIONS, f"{path}.direction"
        ),
        missing=_choice(
            data.get("missing", "lowest"), MISSING_POLICIES, f"{path}.missing"
        ),
    )
    return _parse_method_parameters(metric, data, path)


def _parse_method_parameters(metric: Metric, data: dict[str, Any], path: str) -> Metric:
    if metric.method == "quantile":
        bins = data.get("bins", 5)
        if isinstance(bins, bool) or bins not in (2, 3, 4, 5):
            raise _fail(f"{path}.bins", "bins")
        return replace(metric, bins=int(bins))
    if metric.method == "thresholds":
        cuts = _require(data, "cuts", path)
        if not isinstance(cuts, (list, tuple)) or len(cuts) != 4:
            raise _fail(f"{path}.cuts", "cuts")
        numbers = tuple(_number(cut, f"{path}.cuts[{i}]") for i, cut in enumerate(cuts))
        if list(numbers) != sorted(numbers):
            raise _fail(f"{path}.cuts", "ascending")
        return replace(metric, cuts=numbers)
    if metric.method == "category":
        categories = _require(data, "categories", path)
        if not isinstance(categories, dict) or not categories:
            raise _fail(f"{path}.categories", "categories")
        scores = {
            str(value): _score(score, f"{path}.categories.{value}")
            for value, score in categories.items()
        }
        other = _score(data.get("other", 1), f"{path}.other")
        return replace(metric, categories=scores, other=other)
    low = _number(data.get("low", 1), f"{path}.low")
    high = _number(data.get("high", 5), f"{path}.high")
    if not low < high:
        raise _fail(f"{path}.high", "high")
    return replace(metric, low=low, high=high)


def _parse_dimension(data: dict[str, Any], path: str) -> Dimension:
    raw_metrics = _require(data, "metrics", path)
    if not isinstance(raw_metrics, list) or not raw_metrics:
        raise _fail(f"{path}.metrics", "metrics")
    metrics = tuple(
        _parse_metric(metric, f"{path}.metrics[{i}]")
        for i, metric in enumerate(raw_metrics)
    )
    if sum(metric.weight for metric in metrics) == 0:
        raise _fail(f"{path}.metrics", "metric_weights")
    return Dimension(
        key=_key(_require(data, "key", path), f"{path}.key"),
        weight=_weight(_require(data, "weight", path), f"{path}.weight"),
        metrics=metrics,
        label=_label(data.get("label"), f"{path}.label"),
    )


def _parse_tier(data: dict[str, Any], path: str) -> Tier:
    name = _require(data, "name", path)
    if not isinstance(name, str) or not name.strip():
        raise _fail(f"{path}.name", "name")
    color = data.get("color", "#888888")
    if not isinstance(color, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise _fail(f"{path}.color", "color")
    min_score = _number(data.get("min_score", 0), f"{path}.min_score")
    share = _number(data.get("share", 100), f"{path}.share")
    if not 0 <= min_score <= 100:
        raise _fail(f"{path}.min_score", "min_score")
    if not 0 <= share <= 100:
        raise _fail(f"{path}.share", "share")
    return Tier(name=name.strip(), color=color, min_score=min_score, share=share)


def _parse_tiers(raw_tiers: Any) -> tuple[Tier, ...]:
    if not isinstance(raw_tiers, list) or len(raw_tiers) < 2:
        raise _fail("tiers", "tiers")
    tiers = tuple(_parse_tier(tier, f"tiers[{i}]") for i, tier in enumerate(raw_tiers))
    names = [tier.name for tier in tiers]
    if len(set(names)) != len(names):
        raise _fail("tiers", "tier_names")
    for i in range(1, len(tiers)):
        tier, above = tiers[i], tiers[i - 1]
        names = {"tier": tier.name, "above": above.name}
        if tier.min_score > above.min_score:
            raise _fail(
                f"tiers[{i}].min_score", "tier_order", **names,
                value=_plain(tier.min_score), limit=_plain(above.min_score),
            )
        if tier.share < above.share:
            raise _fail(
                f"tiers[{i}].share", "share_order", **names,
                value=_plain(tier.share), limit=_plain(above.share),
            )
    return tiers


def _plain(number: float) -> str:
    """A score or share as typed: 55 rather than 55.0."""
    return f"{number:g}"


def _parse_gate(data: dict[str, Any], path: str, tier_names: list[str]) -> Gate:
    field_key = _require(data, "field", path)
    if field_key not in SCORABLE_FIELDS:
        raise _fail(f"{path}.field", "unknown_field", value=field_key)
    op = _choice(_require(data, "op", path), GATE_OPS, f"{path}.op")
    value = data.get("value")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise _fail(f"{path}.value", "list")
        value = [str(item) if isinstance(item, str) else item for item in value]
    elif op != "missing" and (value is None or isinstance(value, (list, dict))):
        raise _fail(f"{path}.value", "single")
    tier = _require(data, "tier", path)
    if tier not in tier_names:
        raise _fail(f"{path}.tier", "unknown_tier", value=tier)
    return Gate(
        field=field_key,
        op=op,
        action=_choice(data.get("action", "cap"), GATE_ACTIONS, f"{path}.action"),
        tier=tier,
        value=value,
        label=_label(data.get("label"), f"{path}.label"),
    )


def _parse_standard(data: Any) -> Standard:
    if not isinstance(data, dict):
        raise _fail("standard", "json_object")
    name = _require(data, "name", "")
    if not isinstance(name, str) or not name.strip():
        raise _fail("name", "name")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail("version", "version")
    raw_dimensions = _require(data, "dimensions", "")
    if not isinstance(raw_dimensions, list) or not raw_dimensions:
        raise _fail("dimensions", "dimensions")
    dimensions = tuple(
        _parse_dimension(dim, f"dimensions[{i}]")
        for i, dim in enumerate(raw_dimensions)
    )
    _check_unique_keys(dimensions)
    if sum(dim.weight for dim in dimensions) == 0:
        raise _fail("dimensions", "dimension_weights")
    tiers = _parse_tiers(_require(data, "tiers", ""))
    gates = data.get("gates") or []
    if not isinstance(gates, list):
        raise _fail("gates", "gates")
    names = [tier.name for tier in tiers]
    return Standard(
        name=name.strip(),
        version=version,
        dimensions=dimensions,
        tiers=tiers,
        tier_mode=_choice(data.get("tier_mode", "score"), TIER_MODES, "tier_mode"),
        gates=tuple(_parse_gate(g, f"gates[{i}]", names) for i, g in enumerate(gates)),
        note=str(data.get("note") or ""),
        grace_periods=_grace_periods(data.get("grace_periods", 0)),
        clv=_parse_clv(data.get("clv")),
        playbook=_parse_playbook(data.get("playbook"), names),
    )


def _grace_periods(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail("grace_periods", "grace_periods")
    if value != int(value) or not 0 <= value <= MAX_GRACE_PERIODS:
        raise _fail("grace_periods", "grace_periods")
    return int(value)


def _insight_fail(path: str, problem: str) -> StandardError:
    return StandardError(field=path, problem_key=f"insight.problem.{problem}")


def _fraction(value: Any, path: str) -> float:
    number = _number(value, path)
    if not 0 <= number <= 1:
        raise _insight_fail(path, "fraction")
    return number


def _parse_clv(data: Any) -> Clv | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _fail("clv", "object")
    default = Clv()
    horizon = data.get("horizon_years", default.horizon_years)
    if isinstance(horizon, bool) or horizon not in range(1, 31):
        raise _insight_fail("clv.horizon_years", "horizon")
    history = _number(data.get("history_years", default.history_years), "clv.history_years")
    if history <= 0:
        raise _insight_fail("clv.history_years", "positive")
    return Clv(
        margin=_fraction(data.get("margin", default.margin), "clv.margin"),
        horizon_years=int(horizon),
        retention=_fraction(data.get("retention", default.retention), "clv.retention"),
        discount=_fraction(data.get("discount", default.discount), "clv.discount"),
        history_years=history,
    )


def _parse_playbook(data: Any, tier_names: list[str]) -> tuple[PlaybookEntry, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise _fail("playbook", "gates")
    entries = []
    for i, item in enumerate(data):
        path = f"playbook[{i}]"
        tier = _require(item, "tier", path)
        if tier not in tier_names:
            raise _fail(f"{path}.tier", "unknown_tier", value=tier)
        cadence = item.get("cadence_days", 30)
        if isinstance(cadence, bool) or cadence not in range(1, 366):
            raise _insight_fail(f"{path}.cadence_days", "cadence")
        texts = {
            key: item.get(key) or "" for key in ("services", "owner_role", "note")
        }
        for key, value in texts.items():
            if not isinstance(value, str):
                raise _insight_fail(f"{path}.{key}", "text")
        entries.append(PlaybookEntry(tier=tier, cadence_days=int(cadence), **texts))
    if len({entry.tier for entry in entries}) != len(entries):
        raise _insight_fail("playbook", "duplicate_tier")
    return tuple(entries)


def _check_unique_keys(dimensions: tuple[Dimension, ...]) -> None:
    seen_dimensions: set[str] = set()
    seen_metrics: set[str] = set()
    for i, dim in enumerate(dimensions):
        if dim.key in seen_dimensions:
            raise _fail(f"dimensions[{i}].key", "duplicate_key", value=dim.key)
        seen_dimensions.add(dim.key)
        for j, metric in enumerate(dim.metrics):
            if metric.key in seen_metrics:
                path = f"dimensions[{i}].metrics[{j}].key"
                raise _fail(path, "duplicate_key", value=metric.key)
            seen_metrics.add(metric.key)
