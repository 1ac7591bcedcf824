"""The portfolio document, format v1 (shared/portfolio-format.md).

One portfolio as one YAML or JSON document: pydantic models for its shape, and the rules
pydantic cannot express (references, unique ids, concave curves, acyclic dependencies,
scenario overrides) checked afterwards. Every problem is reported with its path
(``touchpoints[3].curve.points[2]: ...``) and all problems are reported at once, as a
:class:`DocumentError`; nothing here raises anything else for bad input.
"""

import datetime
import graphlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

FORMAT: Final = "journeyfolio/v1"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"

Lifecycle = Literal["idea", "active", "sunset"]
Mode = Literal["max_value", "max_net_value", "min_spend"]
MODES: tuple[Mode, ...] = ("max_value", "max_net_value", "min_spend")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (a key path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DocumentError(ValueError):
    """A document that breaks the format; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(loc: Iterable[str | int]) -> str:
    """('journeys', 2, 'touchpoints', 0, 'weight') -> 'journeys[2].touchpoints[0].weight'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------- field types


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _whole(value: Any) -> Any:
    # JSON has one number type: 8000.0 is the integer 8000 (JSON Schema agrees).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _period(value: Any) -> Any:
    # YAML reads `period: 2027` as an int and `2026-10-01` as a date; both are labels here.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
Number = Annotated[float, AfterValidator(_finite)]
MAX_MONEY = 1e15
"""A quadrillion: beyond any company's budget, and where double precision still counts cents."""

Money = Annotated[float, Field(ge=0, le=MAX_MONEY), AfterValidator(_finite)]
Quality = Annotated[float, Field(ge=0, le=1), AfterValidator(_finite)]
Weight = Annotated[float, Field(gt=0, le=1e9), AfterValidator(_finite)]
Priority = Annotated[float, Field(ge=0, le=1e6), AfterValidator(_finite)]
# Text: the one definition of what a string may hold, used by the document and the API.
# Every string is valid Unicode (no lone surrogate, which no encoding can store) and has a
# maximum length; a name or label is one line without control characters, free text
# (descriptions, notes) may also hold line breaks and tabs. Lists of free-form items have a
# maximum count. Errors name the field (by its path) and the limit.

NAME_MAX = 500
"""Names: of the portfolio and its entities, KPIs, stages; a pain point."""
LABEL_MAX = 200
"""Short labels: units, owners, sources, stages of a link, periods."""
NOTE_MAX = 2_000
"""Notes: a feedback note, the note of an approval."""
DESCRIPTION_MAX = 10_000
"""Descriptions of the portfolio and its entities."""
MAX_PAIN_POINTS = 100
MAX_FEEDBACK = 1_000
MAX_KPIS = 100
MAX_ACTUALS = 1_000
MAX_STAGES = 100
MAX_OBSERVATIONS = 1_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Free text keeps tab, line feed and carriage return (a Windows line break)."""


def _unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(value[error.start])
        raise ValueError(
            f"is not valid Unicode: a lone surrogate (U+{code:04X}) at character {error.start}"
        ) from None


def one_line(value: str) -> str:
    """A name or label: valid Unicode, no control character (no line break either)."""
    _unicode(value)
    found = _CONTROL.search(value)
    if found:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at character "
            f"{found.start()}: names and labels are one line without control characters"
        )
    return value


def free_text(value: str) -> str:
    """Free text: valid Unicode, no control character but line breaks and tabs."""
    _unicode(value)
    found = _CONTROL_IN_FREE_TEXT.search(value)
    if found:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at character "
            f"{found.start()}: only line breaks and tabs are allowed in text"
        )
    return value


Text = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(one_line)]
Label = Annotated[str, Field(max_length=LABEL_MAX), AfterValidator(one_line)]
Note = Annotated[str, Field(min_length=1, max_length=NOTE_MAX), AfterValidator(free_text)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), AfterValidator(free_text)]
Period = Annotated[
    str, BeforeValidator(_period), Field(max_length=LABEL_MAX), AfterValidator(one_line)
]
Channel = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(one_line)]


class Strict(BaseModel):
    """Unknown keys are errors and types are not guessed (no "12" for 12)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- curves


PositiveMoney = Annotated[float, Field(gt=0, le=MAX_MONEY), AfterValidator(_finite)]
PositiveRate = Annotated[float, Field(gt=0, le=1e6), AfterValidator(_finite)]


class _Range(Strict):
    base: Quality
    max: Quality

    @model_validator(mode="after")
    def _base_below_max(self) -> "_Range":
        if self.base > self.max:
            raise ValueError(f"base {self.base:g} is above max {self.max:g}")
        return self


class Saturating(_Range):
    """q(x) = base + (max - base) * x / (x + half_spend)."""

    half_spend: PositiveMoney


class Hill(_Range):
    """q(x) = base + (max - base) * x^shape / (x^shape + half_spend^shape); S-shaped above
    shape 1 (a convex start, then a concave tail: the optimizer adds binaries for it)."""

    half_spend: PositiveMoney
    shape: Annotated[float, Field(gt=0, le=20), AfterValidator(_finite)]


class Exponential(_Range):
    """q(x) = base + (max - base) * (1 - exp(-x / scale))."""

    scale: PositiveMoney


class Logistic(_Range):
    """q(x) = base + (max - base) * (1 - exp(-lam x)) / (1 + exp(-lam x))."""

    lam: PositiveRate


SourceKind = Literal["manual", "fit", "robyn", "meridian", "pymc-marketing"]
MAX_UNCERTAINTY_DRAWS: Final = 1_000
MAX_BAND_POINTS: Final = 1_000

FiniteNumber = Annotated[float, AfterValidator(_finite)]
ParameterName = Annotated[str, Field(pattern=r"^(log_)?[a-z_]{1,32}$")]


def _triple(value: Any) -> Any:
    # JSON and YAML have no tuples: a band point arrives as a three-item list.
    return tuple(value) if isinstance(value, list) else value


BandPoint = Annotated[tuple[float, float, float], BeforeValidator(_triple)]


class Uncertainty(Strict):
    """How sure the evidence is about a curve, in one of three ways:

    - `covariance`: of the curve's parameters `theta`, named by `parameters` (base, max and
      the form's rate and shape, a rate or shape on a log scale as ``log_<name>``); the
      curve's own parameters are the mean (a least-squares fit gives this);
    - `draws`: samples of `theta` (bootstrap, or an MMM posterior), one list per draw in the
      order of `parameters`;
    - `band`: the quality interval per spend, `[spend, low, high]` (an MMM's credible
      interval of a `points` curve); spends rise, low <= high.
    """

    parameters: list[ParameterName] = []
    covariance: list[list[FiniteNumber]] | None = None
    draws: Annotated[list[list[FiniteNumber]], Field(max_length=MAX_UNCERTAINTY_DRAWS)] | None = (
        None
    )
    band: Annotated[list[BandPoint], Field(max_length=MAX_BAND_POINTS)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> "Uncertainty":
        given = [k for k in ("covariance", "draws", "band") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'covariance', 'draws', 'band'")
        k = len(self.parameters)
        if self.band is None and k == 0:
            raise ValueError("'parameters' names the parameters the covariance or draws are of")
        if len(set(self.parameters)) != k:
            raise ValueError("'parameters' names a parameter twice")
        if self.covariance is not None:
            if len(self.covariance) != k or any(len(row) != k for row in self.covariance):
                raise ValueError(f"'covariance' must be {k} x {k}, one row per parameter")
            for i in range(k):
                if self.covariance[i][i] < 0:
                    raise ValueError(f"'covariance'[{i}][{i}] is a variance and cannot be < 0")
                for j in range(i):
                    a, b = self.covariance[i][j], self.covariance[j][i]
                    if abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b)):
                        raise ValueError(f"'covariance' is not symmetric at [{i}][{j}]")
        if self.draws is not None:
            if not self.draws:
                raise ValueError("'draws' needs at least one draw")
            for i, draw in enumerate(self.draws):
                if len(draw) != k:
                    raise ValueError(f"'draws'[{i}] has {len(draw)} values for {k} parameters")
        if self.band is not None:
            if not self.band:
                raise ValueError("'band' needs at least one point")
            for i, (spend, low, high) in enumerate(self.band):
                if not all(math.isfinite(v) for v in (spend, low, high)):
                    raise ValueError(f"'band'[{i}]: spend, low and high must be finite")
                if low > high:
                    raise ValueError(f"'band'[{i}]: low {low:g} is above high {high:g}")
                if i and spend <= self.band[i - 1][0]:
                    raise ValueError(f"'band'[{i}]: spend {spend:g} does not increase")
        return self


class CurveSource(Strict):
    """Where a curve comes from: typed in, fitted to observations, or imported from a
    marketing-mix model; `n` is the number of observations behind it and `uncertainty`
    what the evidence says about its spread."""

    kind: SourceKind
    date: Annotated[str, BeforeValidator(_period)] | None = None
    n: Annotated[int, BeforeValidator(_whole), Field(ge=0, le=10**9)] | None = None
    uncertainty: Uncertainty | None = None


def _check_points(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not points:
        raise ValueError("needs at least one point")
    problems: list[str] = []
    if points[0][0] != 0:
        problems.append(f"[0]: the first point must be at spend 0, not {points[0][0]:g}")
    for i, (spend, quality) in enumerate(points):
        if not (math.isfinite(spend) and math.isfinite(quality)):
            problems.append(f"[{i}]: spend and quality must be finite numbers")
        elif not 0 <= quality <= 1:
            problems.append(f"[{i}]: quality {quality:g} is outside 0..1")
        elif not 0 <= spend <= MAX_MONEY:
            problems.append(f"[{i}]: spend {spend:g} is outside 0..{MAX_MONEY:g}")
    if problems:
        raise ValueError("; ".join(problems))
    # concave (slopes never rise), or S-shaped: slopes rise, then never rise again
    previous_slope: float | None = None
    falling = False
    for i in range(1, len(points)):
        (s0, q0), (s1, q1) = points[i - 1], points[i]
        if s1 <= s0:
            problems.append(f"[{i}]: spend {s1:g} does not increase (previous {s0:g})")
            continue
        if q1 < q0:
            problems.append(f"[{i}]: quality {q1:g} decreases (previous {q0:g})")
            continue
        slope = (q1 - q0) / (s1 - s0)
        if previous_slope is not None:
            if slope > previous_slope * (1 + 1e-9) + 1e-15:
                if falling:
                    problems.append(
                        f"[{i}]: slope increases after falling, so the curve is neither concave "
                        "nor S-shaped (slopes rise, then fall)"
                    )
            elif slope < previous_slope * (1 - 1e-9) - 1e-15:
                falling = True
        previous_slope = slope
    if problems:
        raise ValueError("; ".join(problems))
    return points


def _pair(value: Any) -> Any:
    # JSON and YAML have no tuples: a point arrives as a two-item list.
    return tuple(value) if isinstance(value, list) else value


CurvePoint = Annotated[tuple[float, float], BeforeValidator(_pair)]


CURVE_FORMS: Final = ("points", "saturating", "hill", "exponential", "logistic")


class Curve(Strict):
    """A response curve: exactly one of its forms, and optionally where it comes from."""

    points: (
        Annotated[list[CurvePoint], Field(min_length=1), AfterValidator(_check_points)] | None
    ) = None
    saturating: Saturating | None = None
    hill: Hill | None = None
    exponential: Exponential | None = None
    logistic: Logistic | None = None
    source: CurveSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Curve":
        given = [form for form in CURVE_FORMS if getattr(self, form) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of " + ", ".join(f"'{f}'" for f in CURVE_FORMS))
        uncertainty = self.source.uncertainty if self.source is not None else None
        if uncertainty is not None and uncertainty.band is None:
            # covariance and draws are of the form's own parameters (robustness draws them)
            known = (
                tuple(type(getattr(self, given[0])).model_fields) if given[0] != "points" else ()
            )
            for name in uncertainty.parameters:
                plain = name.removeprefix("log_")
                if plain not in known or (plain != name and plain in ("base", "max")):
                    allowed = ", ".join(
                        k if k in ("base", "max") else f"{k} or log_{k}" for k in known
                    )
                    raise ValueError(
                        f"source.uncertainty.parameters: '{name}' is not a parameter of a "
                        f"{given[0]} curve ({allowed or 'it has none: give a band'})"
                    )
        return self

    @property
    def form(self) -> str:
        return next(form for form in CURVE_FORMS if getattr(self, form) is not None)


class Observation(Strict):
    period: Annotated[
        str, BeforeValidator(_period), Field(max_length=LABEL_MAX), AfterValidator(one_line)
    ]
    spend: Money
    outcome: Number


class Observations(Strict):
    """Evidence behind a curve: spend and a KPI's outcome per period, and the outcome
    values that mean quality 0 and quality 1 (without them the outcome is a quality)."""

    kpi: Text | None = None
    outcome_at_0: Number | None = None
    outcome_at_1: Number | None = None
    rows: Annotated[list[Observation], Field(max_length=MAX_OBSERVATIONS)] = []

    @model_validator(mode="after")
    def _scale(self) -> "Observations":
        if (self.outcome_at_0 is None) != (self.outcome_at_1 is None):
            raise ValueError("give both outcome_at_0 and outcome_at_1, or neither")
        if self.outcome_at_0 is not None and self.outcome_at_0 == self.outcome_at_1:
            raise ValueError("outcome_at_0 and outcome_at_1 must differ")
        return self


# --------------------------------------------------------------------------- entities


class Department(Strict):
    id: Slug
    name: Text
    budget: Money | None = None
    description: Description | None = None


class Persona(Strict):
    id: Slug
    name: Text
    description: Description | None = None
    customers: Annotated[int, BeforeValidator(_whole), Field(ge=0, le=2**63 - 1)] | None = None
    value_per_customer: Money | None = None


class PainPoint(Strict):
    text: Text
    severity: Annotated[int, BeforeValidator(_whole), Field(ge=1, le=5)] = 1


class FeedbackNote(Strict):
    text: Note
    source: Label | None = None
    date: Period | None = None


class Touchpoint(Strict):
    id: Slug
    name: Text
    department: Slug
    channel: Channel
    current_spend: Money
    min_spend: Money = 0.0
    max_spend: Money
    curve: Curve
    observations: Observations | None = None
    description: Description | None = None
    pain_points: Annotated[list[PainPoint], Field(max_length=MAX_PAIN_POINTS)] = []
    feedback: Annotated[list[FeedbackNote], Field(max_length=MAX_FEEDBACK)] = []

    @model_validator(mode="after")
    def _spend_range(self) -> "Touchpoint":
        if self.min_spend > self.max_spend:
            raise ValueError(f"min_spend {self.min_spend:g} is above max_spend {self.max_spend:g}")
        return self


class Dependency(Strict):
    touchpoint: Slug
    requires: Slug


class JourneyLink(Strict):
    touchpoint: Slug
    stage: Label | None = None
    weight: Weight = 1.0
    critical: bool = False
    emotion: Annotated[float, Field(ge=-2, le=2)] | None = None


class KpiActual(Strict):
    period: Period
    value: Number


class Kpi(Strict):
    name: Text
    unit: Label = ""
    target: Number | None = None
    higher_is_better: bool = True
    actuals: Annotated[list[KpiActual], Field(max_length=MAX_ACTUALS)] = []


class Journey(Strict):
    id: Slug
    name: Text
    persona: Slug
    owner: Label | None = None
    lifecycle: Lifecycle = "active"
    value: Money
    priority: Priority = 1.0
    floor: Quality | None = None
    description: Description | None = None
    stages: Annotated[list[Text], Field(max_length=MAX_STAGES)] = []
    touchpoints: Annotated[list[JourneyLink], Field(min_length=1)]
    kpis: Annotated[list[Kpi], Field(max_length=MAX_KPIS)] = []


class Scenario(Strict):
    id: Slug
    name: Text
    description: Description | None = None
    budget: Money | None = None
    pooled: bool = False
    mode: Mode = "max_value"
    priorities: dict[str, Priority] = {}
    floors: dict[str, Quality | None] = {}
    locks: dict[str, Money] = {}
    exclude: list[str] = []
    departments: dict[str, Money | None] = {}
    launch: list[str] = []
    """Idea journeys this scenario launches: they claim budget like active ones."""


class PortfolioDocument(Strict):
    format: Literal["journeyfolio/v1"] = FORMAT
    id: Slug
    name: Text
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    period: Period = ""
    description: Description | None = None
    budget: Money
    departments: list[Department] = []
    personas: list[Persona] = []
    touchpoints: list[Touchpoint] = []
    dependencies: list[Dependency] = []
    journeys: list[Journey] = []
    scenarios: list[Scenario] = []

    def scenario(self, scenario_id: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.id == scenario_id:
                return scenario
        raise KeyError(scenario_id)


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    """Size limits, checked before any other work (defaults fit a large company)."""

    touchpoints: int = 20_000
    journeys: int = 10_000
    links: int = 200_000
    curve_points: int = 64
    departments: int = 1_000
    personas: int = 10_000
    dependencies: int = 100_000
    scenarios: int = 1_000


DEFAULT_LIMITS = Limits()


def _size_problems(data: Mapping[str, Any], limits: Limits) -> list[Problem]:
    problems = []

    def over(key: str, limit: int) -> None:
        items = data.get(key)
        if isinstance(items, list) and len(items) > limit:
            problems.append(Problem(key, f"{len(items)} entries exceed the limit of {limit}"))

    for key in ("touchpoints", "journeys", "departments", "personas", "dependencies"):
        over(key, getattr(limits, key))
    over("scenarios", limits.scenarios)
    journeys = data.get("journeys")
    if isinstance(journeys, list):
        links = sum(
            len(j["touchpoints"])
            for j in journeys
            if isinstance(j, dict) and isinstance(j.get("touchpoints"), list)
        )
        if links > limits.links:
            problems.append(
                Problem("journeys", f"{links} touchpoint links exceed the limit of {limits.links}")
            )
    touchpoints = data.get("touchpoints")
    if isinstance(touchpoints, list):
        for i, tp in enumerate(touchpoints):
            curve = tp.get("curve") if isinstance(tp, dict) else None
            points = curve.get("points") if isinstance(curve, dict) else None
            if isinstance(points, list) and len(points) > limits.curve_points:
                problems.append(
                    Problem(
                        f"touchpoints[{i}].curve.points",
                        f"{len(points)} points exceed the limit of {limits.curve_points}",
                    )
                )
    return problems


# --------------------------------------------------------------------------- rules


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key missing",
}


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        message = _MESSAGES.get(item["type"], item["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        # A points-curve message may start with "[i]: ...": fold the index into the path.
        if loc and loc[-1] == "points" and message.startswith("["):
            for part in message.split("; "):
                index, _, text = part.partition(": ")
                problems.append(Problem(format_path(loc) + index, text))
            continue
        problems.append(Problem(format_path(loc), message))
    return problems


def _unique_ids(items: list[Any], kind: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append(
                Problem(
                    f"{kind}[{i}].id", f"duplicate id '{item.id}' (also {kind}[{seen[item.id]}])"
                )
            )
        else:
            seen[item.id] = i
    return problems


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in a directed graph as [a, b, ..., a] (a -> b an edge), or None (graphlib).

    The cycle starts at its node that comes first in `edges`, so the message is stable."""
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as error:
        # graphlib lists each node before its successor in sorted order: the edges reversed
        nodes: list[str] = list(reversed(error.args[1]))[:-1]
        rank = {node: i for i, node in enumerate(edges)}
        first = min(range(len(nodes)), key=lambda i: rank.get(nodes[i], len(rank)))
        return nodes[first:] + nodes[:first] + [nodes[first]]
    return None


def _reference_problems(doc: PortfolioDocument) -> list[Problem]:
    problems: list[Problem] = []
    for kind in ("departments", "personas", "touchpoints", "journeys", "scenarios"):
        problems += _unique_ids(getattr(doc, kind), kind)

    departments = {d.id for d in doc.departments}
    personas = {p.id for p in doc.personas}
    touchpoints = {t.id: t for t in doc.touchpoints}

    for i, tp in enumerate(doc.touchpoints):
        if tp.department not in departments:
            problems.append(
                Problem(f"touchpoints[{i}].department", f"unknown department '{tp.department}'")
            )

    requires: dict[str, list[str]] = {}
    seen_edges: set[tuple[str, str]] = set()
    for i, dep in enumerate(doc.dependencies):
        path = f"dependencies[{i}]"
        ok = True
        for key in ("touchpoint", "requires"):
            ref = getattr(dep, key)
            if ref not in touchpoints:
                problems.append(Problem(f"{path}.{key}", f"unknown touchpoint '{ref}'"))
                ok = False
        if not ok:
            continue
        if dep.touchpoint == dep.requires:
            problems.append(Problem(path, f"touchpoint '{dep.touchpoint}' requires itself"))
            continue
        if (dep.touchpoint, dep.requires) in seen_edges:
            problems.append(
                Problem(path, f"duplicate dependency {dep.touchpoint} -> {dep.requires}")
            )
            continue
        seen_edges.add((dep.touchpoint, dep.requires))
        requires.setdefault(dep.touchpoint, []).append(dep.requires)
    cycle = find_cycle(requires)
    if cycle:
        problems.append(Problem("dependencies", "dependencies form a cycle: " + " -> ".join(cycle)))

    for i, journey in enumerate(doc.journeys):
        path = f"journeys[{i}]"
        if journey.persona not in personas:
            problems.append(Problem(f"{path}.persona", f"unknown persona '{journey.persona}'"))
        stages = set(journey.stages)
        linked: dict[str, int] = {}
        for k, link in enumerate(journey.touchpoints):
            lpath = f"{path}.touchpoints[{k}]"
            if link.touchpoint not in touchpoints:
                problems.append(
                    Problem(f"{lpath}.touchpoint", f"unknown touchpoint '{link.touchpoint}'")
                )
            elif link.touchpoint in linked:
                problems.append(
                    Problem(
                        f"{lpath}.touchpoint",
                        f"touchpoint '{link.touchpoint}' is linked twice "
                        f"(also {path}.touchpoints[{linked[link.touchpoint]}])",
                    )
                )
            else:
                linked[link.touchpoint] = k
            if stages and link.stage is not None and link.stage not in stages:
                problems.append(
                    Problem(
                        f"{lpath}.stage",
                        f"'{link.stage}' is not one of the journey's stages "
                        f"({', '.join(journey.stages)})",
                    )
                )

    for i, scenario in enumerate(doc.scenarios):
        problems += scenario_problems(doc, scenario, f"scenarios[{i}]")
    return problems


def scenario_problems(doc: PortfolioDocument, scenario: Scenario, path: str) -> list[Problem]:
    """What is wrong with a scenario's overrides against a portfolio (references, locks)."""
    problems: list[Problem] = []
    departments = {d.id for d in doc.departments}
    touchpoints = {t.id: t for t in doc.touchpoints}
    journeys = {j.id for j in doc.journeys}
    for key in ("priorities", "floors"):
        for ref in getattr(scenario, key):
            if ref not in journeys:
                problems.append(Problem(f"{path}.{key}.{ref}", f"unknown journey '{ref}'"))
    for ref in scenario.departments:
        if ref not in departments:
            problems.append(Problem(f"{path}.departments.{ref}", f"unknown department '{ref}'"))
    for ref, spend in scenario.locks.items():
        tp = touchpoints.get(ref)
        if tp is None:
            problems.append(Problem(f"{path}.locks.{ref}", f"unknown touchpoint '{ref}'"))
        elif not tp.min_spend <= spend <= tp.max_spend:
            problems.append(
                Problem(
                    f"{path}.locks.{ref}",
                    f"lock {spend:g} is outside the touchpoint's spend range "
                    f"{tp.min_spend:g}..{tp.max_spend:g}",
                )
            )
    seen: set[str] = set()
    for k, ref in enumerate(scenario.exclude):
        if ref not in touchpoints:
            problems.append(Problem(f"{path}.exclude[{k}]", f"unknown touchpoint '{ref}'"))
        elif ref in scenario.locks:
            problems.append(
                Problem(f"{path}.exclude[{k}]", f"touchpoint '{ref}' is both locked and excluded")
            )
        elif ref in seen:
            problems.append(Problem(f"{path}.exclude[{k}]", f"touchpoint '{ref}' excluded twice"))
        seen.add(ref)
    launched: set[str] = set()
    for k, ref in enumerate(scenario.launch):
        if ref not in journeys:
            problems.append(Problem(f"{path}.launch[{k}]", f"unknown journey '{ref}'"))
        elif ref in launched:
            problems.append(Problem(f"{path}.launch[{k}]", f"journey '{ref}' launched twice"))
        launched.add(ref)
    return problems


# --------------------------------------------------------------------------- entry points


def validate_document(data: Any, *, limits: Limits = DEFAULT_LIMITS) -> PortfolioDocument:
    """Validate parsed data (dicts and lists) as a portfolio document.

    Raises
    ------
    DocumentError
        With every problem found, each naming its path.
    """
    if not isinstance(data, Mapping):
        raise DocumentError([Problem("", "a portfolio document must be a mapping of keys")])
    problems = _size_problems(data, limits)
    if problems:
        raise DocumentError(problems)
    try:
        doc = PortfolioDocument.model_validate(data)
    except ValidationError as error:
        raise DocumentError(_pydantic_problems(error)) from None
    problems = _reference_problems(doc)
    if problems:
        raise DocumentError(problems)
    return doc


def parse_text(text: str, *, name: str = "<document>") -> Any:
    """Parse YAML or JSON text (JSON is YAML, but the JSON parser is much faster)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise DocumentError(
                [
                    Problem(
                        "",
                        f"{name}: invalid JSON at line {error.lineno}, "
                        f"column {error.colno}: {error.msg}",
                    )
                ]
            ) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_shape(text, loader, name)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DocumentError([Problem("", f"{name}: invalid YAML{where}: {problem}")]) from None


MAX_YAML_DEPTH: Final = 64
"""Mappings and lists inside each other, at most (a portfolio document needs 6)."""
MAX_ALIAS_NODES: Final = 100_000
"""Values that aliases (``*name``) may repeat in all: anchors save typing a shared curve,
but nine aliases of nine aliases of ... (a "billion laughs") would stand for 10^9 values."""


class YamlTooLarge(DocumentError):
    """YAML whose aliases stand for more values than allowed, or nested too deeply."""


def _check_yaml_shape(text: str, loader: Any, name: str) -> None:
    """Walk the YAML events once, before anything is built: count what every alias
    repeats and how deep collections nest, and refuse a document beyond the limits, an alias
    to a value that contains it, or a key twice in one mapping (YAML forbids it; loaders
    would keep the last silently)."""

    def refuse(message: str, mark: Any, error: type[DocumentError] = DocumentError) -> None:
        raise error([Problem("", f"{name}: {message} at line {mark.line + 1}")])

    sizes: dict[str, int] = {}
    # per open collection: anchor, node count at its start, keys seen (None for a list),
    # children so far
    open_: list[tuple[str | None, int, set[str] | None, list[int]]] = []
    total = repeated = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, start, _keys, _children = open_.pop()
            if anchor:
                sizes[anchor] = total - start + 1
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if open_:
            _anchor, _start, keys, children = open_[-1]
            children[0] += 1
            if keys is not None and children[0] % 2 == 1 and isinstance(event, yaml.ScalarEvent):
                key = event.value
                if key in keys and key != "<<":
                    refuse(f"the key '{key[:100]}' appears twice in one mapping", event.start_mark)
                keys.add(key)
        if isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            total += 1
            keys = set() if isinstance(event, yaml.MappingStartEvent) else None
            open_.append((event.anchor, total, keys, [0]))
            if len(open_) > MAX_YAML_DEPTH:
                refuse(
                    f"nested too deeply (at most {MAX_YAML_DEPTH} levels of mappings and lists)",
                    event.start_mark,
                    YamlTooLarge,
                )
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, *_ in open_):
                refuse(
                    f"the alias *{event.anchor} refers to a value that contains it (a "
                    "document cannot contain itself)",
                    event.start_mark,
                )
            size = sizes.get(event.anchor or "", 1)
            total += size
            repeated += size
            if repeated > MAX_ALIAS_NODES:
                refuse(
                    f"its aliases repeat more than {MAX_ALIAS_NODES:,} values (write the "
                    f"values out or use fewer aliases): the alias *{event.anchor} reaches "
                    f"{repeated:,}",
                    event.start_mark,
                    YamlTooLarge,
                )


def load_document(source: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> PortfolioDocument:
    """Read and validate a portfolio document from a YAML or JSON file."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError([Problem("", f"cannot read {path}: {error}")]) from None
    return validate_document(parse_text(text, name=str(path)), limits=limits)


def document_to_data(doc: PortfolioDocument) -> dict[str, Any]:
    """The document as plain data, ready for JSON or YAML (defaults left out)."""
    return doc.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def dump_yaml(doc: PortfolioDocument) -> str:
    return yaml.safe_dump(document_to_data(doc), sort_keys=False, allow_unicode=True)
