"""One object per objective mode: what it optimizes, in which sense, how ties break, how its
duals read, and the words for what a price means.

The rest of the optimizer asks `objective_for(problem.mode)` instead of comparing mode
strings, so a new mode is one more instance here.
"""

from dataclasses import dataclass

from optimizer.document import Mode

TIE_BREAK = 1e-7
"""Relative weight of the tie-breaking term (least spend; in min_spend mode, most value)."""


@dataclass(frozen=True, slots=True)
class Objective:
    """What one mode optimizes.

    The true objective is `value_weight * weighted value - spend_cost * spend` when
    maximizing, `spend` when minimizing (weighted value then only breaks ties)."""

    mode: Mode
    maximize: bool
    spend_cost: float
    """Cost of one unit of spend in the objective, before the tie-break (0, 1)."""
    budget_binds: bool
    """Whether the total budget is a constraint of the mode (min_spend ignores it)."""
    price_unit: str
    """What a price of the budget or a department cap is worth, `{cur}` for the currency."""
    floor_unit: str
    """What a floor's price is worth per +0.01 of the floor."""
    silo_gets_optimum_spend: bool
    """The silo baseline gets the money the optimum spends (min_spend), else the budget."""

    def of(self, weighted_value: float, spend: float) -> float:
        """The true objective of an allocation."""
        if self.maximize:
            return weighted_value - self.spend_cost * spend
        return spend

    @property
    def dual_sign(self) -> float:
        """Sign that turns a row dual (HiGHS convention) into "objective improves"."""
        return 1.0 if self.maximize else -1.0

    def tie_break_costs(self, value_range: float, spend_range: float) -> tuple[float, float]:
        """Objective coefficients `(per unit of weighted value, per unit of spend)` in the
        model's own sense, tie-break included: maximizing, every unit of spend costs
        `TIE_BREAK` of the portfolio's value range (money that creates no value stays
        unallocated); minimizing spend, a bonus of the same relative size prefers the most
        valuable of the least-spend allocations."""
        if self.maximize:
            return 1.0, self.spend_cost + TIE_BREAK * max(value_range, 1.0)
        bonus = TIE_BREAK * spend_range / value_range if value_range > 0 else 0.0
        return -bonus, 1.0

    def units(self, currency: str) -> tuple[str, str]:
        return self.price_unit.format(cur=currency), self.floor_unit.format(cur=currency)


OBJECTIVES: dict[Mode, Objective] = {
    "max_value": Objective(
        mode="max_value",
        maximize=True,
        spend_cost=0.0,
        budget_binds=True,
        price_unit="{cur} of priority-weighted value per extra {cur}",
        floor_unit="{cur} of priority-weighted value given up per +0.01 of the floor",
        silo_gets_optimum_spend=False,
    ),
    "max_net_value": Objective(
        mode="max_net_value",
        maximize=True,
        spend_cost=1.0,
        budget_binds=True,
        price_unit="{cur} of priority-weighted net value (value - spend) per extra {cur}",
        floor_unit="{cur} of priority-weighted net value given up per +0.01 of the floor",
        silo_gets_optimum_spend=False,
    ),
    "min_spend": Objective(
        mode="min_spend",
        maximize=False,
        spend_cost=1.0,
        budget_binds=False,
        price_unit="{cur} of spend saved per extra {cur} of a department cap",
        floor_unit="{cur} of spend per +0.01 of the floor",
        silo_gets_optimum_spend=True,
    ),
}


def objective_for(mode: Mode) -> Objective:
    return OBJECTIVES[mode]
