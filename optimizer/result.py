"""The run result (shared/run-result.md): what one optimization run reports.

Pydantic models, so the same classes serialize the command line's JSON and describe the
API's responses. Keys of run-result.md are never renamed; extra keys add what users need.
Money is in the portfolio's currency, qualities in [0, 1].
"""

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from optimizer.document import Mode
from optimizer.objective import OBJECTIVES

RUN_FORMAT: Final = "journeyfolio-run/v1"

Status = Literal["optimal", "infeasible"]
Reason = Literal[
    "locked",
    "excluded",
    "serves_no_journey",
    "limited_by_dependency",
    "at_max_spend",
    "saturated",
    "at_min_spend",
    "balanced",
]


class SolveError(RuntimeError):
    """No run result: the solver did not prove an optimum (time limit, numerical trouble)."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortfolioFigures(Part):
    value: float
    """Sum of journey values on the true curves (money)."""
    weighted_value: float
    """Sum of priority * journey value."""
    objective: float
    """What the mode optimizes: weighted value, weighted value - spend, or spend."""
    spend: float
    budget: float
    unallocated: float
    """Budget left unspent because spending it creates no (net) value; never negative."""
    current_spend: float
    unattributed_spend: float
    """Spend on touchpoints that serve no journey."""


class TouchpointResult(Part):
    id: str
    name: str
    department: str
    channel: str
    spend: float
    current_spend: float
    change: float
    """spend - current_spend."""
    min_spend: float
    max_spend: float
    quality: float
    """Effective quality: the curve's quality capped by what the touchpoint requires."""
    curve_quality: float
    """Quality of the touchpoint's own curve at its spend."""
    current_quality: float
    marginal_value: float
    """Weighted value gained per extra unit of money spent here (model, before the budget)."""
    reason: Reason
    explanation: str
    journeys: list[str]
    requires: list[str]


class JourneyResult(Part):
    id: str
    name: str
    persona: str
    owner: str | None
    quality: float
    value: float
    weighted_value: float
    priority: float
    max_value: float
    """Value at perfect experience (quality 1.0)."""
    current_quality: float
    current_value: float
    attributed_cost: float
    value_per_cost: float | None
    floor: float | None
    limited_by: str | None
    """The touchpoint that holds the experience down most (a critical one when it caps it)."""
    limited_by_critical: bool


class DepartmentResult(Part):
    id: str
    name: str
    spend: float
    current_spend: float
    cap: float | None
    cap_applies: bool
    """False when the scenario is pooled or the department has no cap."""
    shadow_price: float


class PriceIntervals(Part):
    """Both one-sided prices where the value function has a kink (a breakpoint of a points
    curve, a constraint that just starts to bind): `[gain per extra unit, loss per unit
    removed]`; for a floor `[given up per +0.01, regained per -0.01]`. Keys appear only
    where the two sides differ."""

    budget: list[float] | None = None
    departments: dict[str, list[float]] = {}
    floors: dict[str, list[float]] = {}


class ShadowPrices(Part):
    budget: float
    """Objective gained per extra unit of money in the total budget (0 when it does not bind)."""
    departments: dict[str, float]
    """Objective gained per extra unit of money in each department cap."""
    floors: dict[str, float]
    """Objective lost per extra 0.01 of each journey's floor (min_spend: spend added)."""
    unit: str
    """What a price of the budget or a department cap is worth, in words, for this mode."""
    floor_unit: str
    """What a floor's price is worth, in words, for this mode."""
    intervals: PriceIntervals = PriceIntervals()


class Baseline(Part):
    value: float
    weighted_value: float
    spend: float
    feasible: bool
    """Whether the allocation meets the scenario's constraints (budget, caps, locks, floors)."""
    violations: list[str]
    allocation: dict[str, float]


class Baselines(Part):
    current: Baseline
    silo: Baseline


class Conflict(Part):
    constraint: str
    """`budget`, `department:<id>` or `floor:<journey id>`."""
    shortfall: float
    """Money missing (budget, department) or quality missing (floor)."""
    unit: Literal["money", "quality"]
    message: str
    related: list[str]


class SolverInfo(Part):
    name: str
    status: str
    build_seconds: float
    solve_seconds: float
    total_seconds: float
    variables: int
    constraints: int
    approximation_gap: float
    """Relative gap between the tangent upper bound and the chord lower bound."""
    breakpoints: int
    refinements: int
    mip_gap: float | None = None
    """Relative gap HiGHS proved on the MIP of a run with S-shaped curves (None: an LP)."""
    mip_seconds: float | None = None
    """Time of the MIP solve alone (part of solve_seconds)."""
    envelope_bound: float | None = None
    """A run with S-shaped curves: the objective of the same model with each S-shaped curve
    replaced by its concave envelope, solved as an LP (lifted by its chords' tangent gaps):
    no allocation reaches beyond it on the true curves (max modes; min_spend: below it)."""
    envelope_seconds: float | None = None
    """Time to build and solve the envelope LP (not part of solve_seconds)."""


class LeftOut(Part):
    """A journey (an idea no scenario launched) or its floor (a sunset journey's) that the
    run leaves out because of the journey's lifecycle."""

    journey: str
    name: str
    lifecycle: Literal["idea", "sunset"]
    part: Literal["journey", "floor"]
    reason: str


class Scenario(Part):
    id: str | None
    name: str
    budget: float
    pooled: bool
    mode: Mode


class RunResult(Part):
    format: Literal["journeyfolio-run/v1"] = RUN_FORMAT
    portfolio_id: str
    scenario_id: str | None
    status: Status
    mode: Mode
    currency: str
    scenario: Scenario
    portfolio: PortfolioFigures
    touchpoints: list[TouchpointResult]
    journeys: list[JourneyResult]
    departments: list[DepartmentResult]
    shadow_prices: ShadowPrices
    baselines: Baselines
    price_of_silos: float
    """Optimum weighted_value minus silo weighted_value (priority-weighted, same budget)."""
    price_of_silos_value: float
    """Optimum value minus silo value: money, same budget."""
    binding: list[str]
    conflicts: list[Conflict]
    solver: SolverInfo
    left_out: list[LeftOut] = []
    """What the journeys' lifecycle leaves out of this run (ideas, sunset floors)."""
    s_shaped: list[str] = []
    """Touchpoints whose curve is S-shaped on their spend range (binaries in the model)."""

    @model_validator(mode="before")
    @classmethod
    def upgrade_stored(cls, data: Any) -> Any:
        """Runs stored before a key existed are read with it derived from what they hold."""
        if not isinstance(data, dict) or "price_of_silos_value" in data:
            return data
        data = dict(data)
        figures, silo = data.get("portfolio") or {}, (data.get("baselines") or {}).get("silo")
        if data.get("status") == "optimal" and silo:
            data["price_of_silos_value"] = figures.get("value", 0.0) - silo.get("value", 0.0)
        else:
            data["price_of_silos_value"] = 0.0
        prices = data.get("shadow_prices")
        if isinstance(prices, dict) and "unit" not in prices and data.get("mode") in OBJECTIVES:
            unit, floor_unit = OBJECTIVES[data["mode"]].units(data.get("currency", ""))
            data["shadow_prices"] = {**prices, "unit": unit, "floor_unit": floor_unit}
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)
