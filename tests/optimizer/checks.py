"""Re-check a run from its JSON alone (shared/run-result.md, shared/DOMAIN.md).

`check_run(problem, run)` takes the resolved scenario and the run (a RunResult or its
``model_dump()`` dict) and recomputes everything the run claims from the reported spends, on
the true curves (tests/optimizer/reference.py), never from the optimizer's internals. It
returns human-readable violations; an empty list means the run is consistent.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from optimizer.problem import PortfolioProblem, link_index
from tests.optimizer.reference import (
    curve_quality,
    evaluate,
    is_exact,
    violations,
)

MONEY_REL = 1e-6
"""Money sums: relative to the portfolio's money scale."""
QUALITY_TOL = 1e-6
"""Qualities: absolute."""


def served_journeys(p: PortfolioProblem) -> list[dict[int, float]]:
    """The journeys each touchpoint serves, with its link weight w'_jt.

    The project's rule where DOMAIN.md is silent: a touchpoint that no journey links but
    that others require serves their journeys (its spend exists for them), with the weights
    of the touchpoints that require it, summed over every path of requirements.
    """
    direct = link_index(p)
    requires: dict[int, list[int]] = {}
    for t, u in p.requires:
        requires.setdefault(t, []).append(u)
    memo: dict[int, dict[int, float]] = {}

    def serves(t: int) -> dict[int, float]:
        if t in memo:
            return memo[t]
        if direct[t]:
            memo[t] = dict(direct[t])
            return memo[t]
        out: dict[int, float] = {}
        for s, us in requires.items():
            if t in us:
                for j, w in serves(s).items():
                    out[j] = out.get(j, 0.0) + w
        memo[t] = out
        return out

    return [serves(t) for t in range(len(p.touchpoints))]


class _Checker:
    def __init__(self, problem: PortfolioProblem) -> None:
        self.problem = problem
        self.out: list[str] = []
        tps = problem.touchpoints
        self.money_scale = max(
            1.0,
            problem.budget,
            math.fsum(tp.max_spend for tp in tps),
            math.fsum(tp.current_spend for tp in tps),
        )
        self.money_tol = MONEY_REL * self.money_scale
        self.value_scale = max(
            1.0, math.fsum(j.value * max(1.0, j.priority) for j in problem.journeys)
        )
        self.value_tol = MONEY_REL * self.value_scale
        # A price is value per money: allow the value tolerance per unit of the money scale.
        self.price_tol = MONEY_REL * max(1.0, self.value_scale / self.money_scale)

    def fail(self, message: str) -> None:
        self.out.append(message)

    def close(self, what: str, got: Any, want: float, tol: float) -> bool:
        if not isinstance(got, int | float) or isinstance(got, bool) or not math.isfinite(got):
            self.fail(f"{what}: {got!r} is not a finite number (expected {want:.10g})")
            return False
        if abs(got - want) > tol:
            self.fail(
                f"{what}: reported {got:.10g}, expected {want:.10g} (off by {got - want:.3g})"
            )
            return False
        return True

    def money(self, what: str, got: Any, want: float) -> bool:
        return self.close(what, got, want, self.money_tol)

    def value(self, what: str, got: Any, want: float) -> bool:
        return self.close(what, got, want, self.value_tol)

    def quality(self, what: str, got: Any, want: float) -> bool:
        return self.close(what, got, want, QUALITY_TOL)

    def same_ids(self, what: str, got: Sequence[str], want: Sequence[str]) -> bool:
        if sorted(got) != sorted(want):
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            dupes = sorted({i for i in got if list(got).count(i) > 1})
            self.fail(f"{what}: ids differ (missing {missing}, unknown {extra}, twice {dupes})")
            return False
        return True


def check_run(problem: PortfolioProblem, run: Any) -> list[str]:
    """Every constraint and every reported figure of a run, recomputed from its JSON.

    Parameters
    ----------
    problem
        The resolved scenario the run solved (optimizer.problem.resolve).
    run
        A RunResult, or its ``model_dump()`` dict.

    Returns
    -------
    list[str]
        Human-readable violations; empty when the run is consistent.
    """
    data: Mapping[str, Any] = run.model_dump() if hasattr(run, "model_dump") else run
    c = _Checker(problem)
    _check_header(c, data)
    if data.get("status") == "infeasible":
        _check_conflicts(c, data)
        return c.out
    if data.get("status") != "optimal":
        c.fail(f"status: {data.get('status')!r} is neither 'optimal' nor 'infeasible'")
        return c.out
    if data.get("conflicts"):
        c.fail(f"conflicts: an optimal run lists conflicts {data['conflicts']}")
    spend = _check_touchpoints(c, data)
    if spend is None:
        return c.out
    ev = evaluate(problem, spend)
    _check_journeys(c, data, spend, ev.journey_qualities)
    _check_departments(c, data, spend)
    _check_portfolio(c, data, spend, ev.value, ev.weighted_value)
    _check_baselines(c, data)
    _check_shadow_prices(c, data, spend, ev.journey_qualities)
    _check_binding(c, data, spend)
    return c.out


# --------------------------------------------------------------------------- parts


def _check_header(c: _Checker, data: Mapping[str, Any]) -> None:
    p = c.problem
    if data.get("format") != "journeyfolio-run/v1":
        c.fail(f"format: {data.get('format')!r}")
    if data.get("portfolio_id") != p.portfolio_id:
        c.fail(f"portfolio_id: {data.get('portfolio_id')!r}, expected {p.portfolio_id!r}")
    if data.get("scenario_id") != p.scenario_id:
        c.fail(f"scenario_id: {data.get('scenario_id')!r}, expected {p.scenario_id!r}")
    if data.get("mode") != p.mode:
        c.fail(f"mode: {data.get('mode')!r}, expected {p.mode!r}")
    scenario = data.get("scenario") or {}
    if scenario.get("mode") != p.mode or scenario.get("pooled") != p.pooled:
        c.fail(f"scenario: mode/pooled {scenario.get('mode')!r}/{scenario.get('pooled')!r}")
    c.money("scenario.budget", scenario.get("budget"), p.budget)


def _check_conflicts(c: _Checker, data: Mapping[str, Any]) -> None:
    p = c.problem
    conflicts = data.get("conflicts") or []
    if not conflicts:
        c.fail("conflicts: an infeasible run names no conflicting constraint")
    departments = {d.id for d in p.departments}
    journeys = {j.id for j in p.journeys}
    for k, conflict in enumerate(conflicts):
        name = conflict.get("constraint", "")
        kind, _, ref = name.partition(":")
        if name == "budget":
            unit = "money"
            if p.mode == "min_spend":
                c.fail(f"conflicts[{k}]: the budget does not bind in min_spend mode")
        elif kind == "department" and ref in departments:
            unit = "money"
            if ref not in {p.departments[d].id for d in p.department_caps}:
                c.fail(f"conflicts[{k}]: department {ref!r} has no cap in this scenario")
        elif kind == "floor" and ref in journeys:
            unit = "quality"
            if next(j for j in p.journeys if j.id == ref).floor is None:
                c.fail(f"conflicts[{k}]: journey {ref!r} has no floor")
        else:
            c.fail(f"conflicts[{k}].constraint: {name!r} names no budget, cap or floor")
            continue
        if conflict.get("unit") != unit:
            c.fail(f"conflicts[{k}].unit: {conflict.get('unit')!r}, expected {unit!r}")
        shortfall = conflict.get("shortfall")
        if not (isinstance(shortfall, int | float) and shortfall > 0):
            c.fail(f"conflicts[{k}].shortfall: {shortfall!r} is not a positive amount")


def _check_touchpoints(c: _Checker, data: Mapping[str, Any]) -> list[float] | None:
    p = c.problem
    rows = {row["id"]: row for row in data.get("touchpoints", [])}
    if not c.same_ids(
        "touchpoints",
        [r["id"] for r in data.get("touchpoints", [])],
        [tp.id for tp in p.touchpoints],
    ):
        return None
    spend = []
    for tp in p.touchpoints:
        x = rows[tp.id]["spend"]
        if not (isinstance(x, int | float) and math.isfinite(x)):
            c.fail(f"touchpoint {tp.id}: spend {x!r} is not a finite number")
            return None
        spend.append(float(x))
    curve = [curve_quality(tp.curve, x) for tp, x in zip(p.touchpoints, spend, strict=True)]
    effective = evaluate(p, spend).touchpoint_qualities
    current = evaluate(p, [tp.current_spend for tp in p.touchpoints]).touchpoint_qualities
    serves = served_journeys(p)
    requires: list[list[str]] = [[] for _ in p.touchpoints]
    for t, u in p.requires:
        requires[t].append(p.touchpoints[u].id)
    tol = c.money_tol
    for t, tp in enumerate(p.touchpoints):
        row, x, what = rows[tp.id], spend[t], f"touchpoint {tp.id}"
        if row.get("department") != p.departments[tp.department].id:
            c.fail(f"{what}: department {row.get('department')!r}")
        c.money(f"{what}: current_spend", row.get("current_spend"), tp.current_spend)
        c.money(f"{what}: min_spend", row.get("min_spend"), tp.min_spend)
        c.money(f"{what}: max_spend", row.get("max_spend"), tp.max_spend)
        if x < tp.min_spend - tol:
            c.fail(f"{what}: spend {x:.10g} below min_spend {tp.min_spend:g}")
        if x > tp.max_spend + tol:
            c.fail(f"{what}: spend {x:.10g} above max_spend {tp.max_spend:g}")
        if tp.locked and abs(x - tp.lower) > tol:
            c.fail(f"{what}: spend {x:.10g} differs from its lock {tp.lower:g}")
        if tp.excluded and abs(x - tp.min_spend) > tol:
            c.fail(f"{what}: excluded but spends {x:.10g}, not its min_spend {tp.min_spend:g}")
        c.money(f"{what}: change", row.get("change"), x - tp.current_spend)
        c.quality(f"{what}: curve_quality", row.get("curve_quality"), curve[t])
        c.quality(f"{what}: quality (effective)", row.get("quality"), effective[t])
        c.quality(f"{what}: current_quality", row.get("current_quality"), current[t])
        journeys = [p.journeys[j].id for j in serves[t]]
        c.same_ids(f"{what}: journeys", row.get("journeys", []), journeys)
        c.same_ids(f"{what}: requires", row.get("requires", []), requires[t])
        reason = row.get("reason")
        if reason == "locked" and not tp.locked:
            c.fail(f"{what}: reason 'locked' but the scenario does not lock it")
        if reason == "excluded" and not tp.excluded:
            c.fail(f"{what}: reason 'excluded' but the scenario does not exclude it")
        if reason == "serves_no_journey" and journeys:
            c.fail(f"{what}: reason 'serves_no_journey' but it serves {journeys}")
        if reason == "limited_by_dependency" and not requires[t]:
            c.fail(f"{what}: reason 'limited_by_dependency' but it requires nothing")
        if reason == "at_max_spend" and abs(x - tp.upper) > tol:
            c.fail(f"{what}: reason 'at_max_spend' at spend {x:.10g} (max {tp.upper:g})")
        if reason == "at_min_spend" and abs(x - tp.lower) > tol:
            c.fail(f"{what}: reason 'at_min_spend' at spend {x:.10g} (min {tp.lower:g})")
    return spend


def _check_journeys(
    c: _Checker, data: Mapping[str, Any], spend: Sequence[float], quality: Sequence[float]
) -> None:
    p = c.problem
    rows = {row["id"]: row for row in data.get("journeys", [])}
    if not c.same_ids(
        "journeys", [r["id"] for r in data.get("journeys", [])], [j.id for j in p.journeys]
    ):
        return
    current = evaluate(p, [tp.current_spend for tp in p.touchpoints])
    effective = evaluate(p, spend).touchpoint_qualities
    expected_cost, undefined = _attributed_costs(p, spend)
    ids = [tp.id for tp in p.touchpoints]
    for j, journey in enumerate(p.journeys):
        row, what = rows[journey.id], f"journey {journey.id}"
        q = quality[j]
        c.quality(f"{what}: quality", row.get("quality"), q)
        c.value(f"{what}: max_value", row.get("max_value"), journey.value)
        c.value(f"{what}: value", row.get("value"), journey.value * q)
        c.close(f"{what}: priority", row.get("priority"), journey.priority, 1e-12)
        c.value(
            f"{what}: weighted_value",
            row.get("weighted_value"),
            journey.priority * journey.value * q,
        )
        c.quality(
            f"{what}: current_quality", row.get("current_quality"), current.journey_qualities[j]
        )
        c.value(
            f"{what}: current_value",
            row.get("current_value"),
            journey.value * current.journey_qualities[j],
        )
        if row.get("floor") != journey.floor and not (
            row.get("floor") is not None
            and journey.floor is not None
            and abs(row["floor"] - journey.floor) <= 1e-12
        ):
            c.fail(f"{what}: floor {row.get('floor')!r}, expected {journey.floor!r}")
        if journey.floor is not None and q < journey.floor - QUALITY_TOL:
            c.fail(f"{what}: quality {q:.10g} misses its floor {journey.floor:g}")
        # Attributed cost: each touchpoint's spend shared in proportion to w'_jt * value_j.
        cost = row.get("attributed_cost")
        if undefined[j] == 0:
            c.money(f"{what}: attributed_cost", cost, expected_cost[j])
        elif isinstance(cost, int | float) and not (
            expected_cost[j] - c.money_tol <= cost <= expected_cost[j] + undefined[j] + c.money_tol
        ):
            c.fail(
                f"{what}: attributed_cost {cost:.10g} outside "
                f"{expected_cost[j]:.10g}..{expected_cost[j] + undefined[j]:.10g}"
            )
        vpc = row.get("value_per_cost")
        if isinstance(cost, int | float) and cost > c.money_tol:
            want = journey.value * q / cost
            c.close(f"{what}: value_per_cost", vpc, want, 1e-6 * max(1.0, abs(want)))
        # The weakest moment of truth, when it caps the experience, is what limits the journey.
        linked = {ids[link.touchpoint]: link for link in journey.links}
        limited = row.get("limited_by")
        if limited is not None and limited not in linked:
            c.fail(f"{what}: limited_by {limited!r} is not one of its touchpoints")
            continue
        average = math.fsum(link.weight * effective[link.touchpoint] for link in journey.links)
        critical = [link for link in journey.links if link.critical]
        capped = critical and min(effective[k.touchpoint] for k in critical) < average - QUALITY_TOL
        if row.get("limited_by_critical"):
            if limited is None or not linked[limited].critical:
                c.fail(f"{what}: limited_by_critical but {limited!r} is not a critical link")
            elif abs(effective[linked[limited].touchpoint] - q) > QUALITY_TOL:
                c.fail(f"{what}: limited_by_critical {limited!r} does not set the quality {q:.6g}")
        elif capped:
            c.fail(f"{what}: a critical link caps the quality but limited_by_critical is false")
    total = math.fsum(r.get("attributed_cost", 0.0) for r in rows.values())
    serving = math.fsum(x for x, served in zip(spend, served_journeys(p), strict=True) if served)
    c.money(
        "journeys: sum of attributed_cost vs spend on touchpoints serving journeys", total, serving
    )


def _attributed_costs(
    p: PortfolioProblem, spend: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Expected attributed costs, and per journey the spend the rule leaves open (all the
    journeys a touchpoint serves have value 0: DOMAIN.md does not say how to share that)."""
    expected = [0.0] * len(p.journeys)
    undefined = [0.0] * len(p.journeys)
    for t, served in enumerate(served_journeys(p)):
        total = math.fsum(w * p.journeys[j].value for j, w in served.items())
        for j, w in served.items():
            if total > 0:
                expected[j] += spend[t] * w * p.journeys[j].value / total
            else:
                undefined[j] += spend[t]
    return expected, undefined


def _check_departments(c: _Checker, data: Mapping[str, Any], spend: Sequence[float]) -> None:
    p = c.problem
    rows = {row["id"]: row for row in data.get("departments", [])}
    if not c.same_ids(
        "departments", [r["id"] for r in data.get("departments", [])], [d.id for d in p.departments]
    ):
        return
    prices = (data.get("shadow_prices") or {}).get("departments") or {}
    for d, dept in enumerate(p.departments):
        row, what = rows[dept.id], f"department {dept.id}"
        total = math.fsum(spend[t] for t in p.members[d])
        c.money(f"{what}: spend", row.get("spend"), total)
        c.money(
            f"{what}: current_spend",
            row.get("current_spend"),
            math.fsum(p.touchpoints[t].current_spend for t in p.members[d]),
        )
        if row.get("cap") != dept.cap and not (
            row.get("cap") is not None
            and dept.cap is not None
            and abs(row["cap"] - dept.cap) <= c.money_tol
        ):
            c.fail(f"{what}: cap {row.get('cap')!r}, expected {dept.cap!r}")
        applies = d in p.department_caps
        if row.get("cap_applies") != applies:
            c.fail(f"{what}: cap_applies {row.get('cap_applies')!r}, expected {applies}")
        if applies and total > p.department_caps[d] + c.money_tol:
            c.fail(f"{what}: spend {total:.10g} above its cap {p.department_caps[d]:g}")
        if dept.id in prices:
            c.close(
                f"{what}: shadow_price vs shadow_prices.departments",
                row.get("shadow_price"),
                prices[dept.id],
                c.price_tol,
            )


def _check_portfolio(
    c: _Checker, data: Mapping[str, Any], spend: Sequence[float], value: float, weighted: float
) -> None:
    p = c.problem
    row = data.get("portfolio") or {}
    total = math.fsum(spend)
    c.value("portfolio.value", row.get("value"), value)
    c.value(
        "portfolio.value vs sum of journey values",
        row.get("value"),
        math.fsum(j.get("value", 0.0) for j in data.get("journeys", [])),
    )
    c.value("portfolio.weighted_value", row.get("weighted_value"), weighted)
    c.money("portfolio.spend", row.get("spend"), total)
    c.money("portfolio.budget", row.get("budget"), p.budget)
    c.money("portfolio.unallocated", row.get("unallocated"), max(0.0, p.budget - total))
    c.money(
        "portfolio.current_spend",
        row.get("current_spend"),
        math.fsum(tp.current_spend for tp in p.touchpoints),
    )
    c.money(
        "portfolio.unattributed_spend",
        row.get("unattributed_spend"),
        math.fsum(x for x, served in zip(spend, served_journeys(p), strict=True) if not served),
    )
    if p.mode == "min_spend":
        c.money("portfolio.objective (min_spend: spend)", row.get("objective"), total)
    elif p.mode == "max_net_value":
        c.close(
            "portfolio.objective (weighted value - spend)",
            row.get("objective"),
            weighted - total,
            c.value_tol + c.money_tol,
        )
    else:
        c.value("portfolio.objective (weighted value)", row.get("objective"), weighted)
    if p.mode != "min_spend" and total > p.budget + c.money_tol:
        c.fail(f"portfolio: spend {total:.10g} above the budget {p.budget:g}")


def _check_baselines(c: _Checker, data: Mapping[str, Any]) -> None:
    p = c.problem
    baselines = data.get("baselines") or {}
    ids = [tp.id for tp in p.touchpoints]
    for name in ("current", "silo"):
        row, what = baselines.get(name) or {}, f"baselines.{name}"
        allocation = row.get("allocation") or {}
        if not c.same_ids(f"{what}.allocation", list(allocation), ids):
            continue
        spend = [float(allocation[i]) for i in ids]
        if name == "current":
            for tp, x in zip(p.touchpoints, spend, strict=True):
                c.money(f"{what}.allocation.{tp.id}", x, tp.current_spend)
        ev = evaluate(p, spend)
        c.value(f"{what}.value", row.get("value"), ev.value)
        c.value(f"{what}.weighted_value", row.get("weighted_value"), ev.weighted_value)
        c.money(f"{what}.spend", row.get("spend"), math.fsum(spend))
        feasible = row.get("feasible")
        broken = violations(p, spend, rel=MONEY_REL)
        if feasible and broken:
            c.fail(f"{what}.feasible is true but the allocation breaks: {'; '.join(broken)}")
        if feasible is False and not violations(p, spend, rel=1e-9):
            c.fail(f"{what}.feasible is false but the allocation meets every constraint")
        if bool(row.get("violations")) == bool(feasible):
            c.fail(f"{what}: feasible {feasible!r} but violations {row.get('violations')!r}")
    silo = baselines.get("silo") or {}
    portfolio = data.get("portfolio") or {}
    if all(
        isinstance(v, int | float)
        for v in (
            data.get("price_of_silos"),
            portfolio.get("weighted_value"),
            silo.get("weighted_value"),
        )
    ):
        c.value(
            "price_of_silos",
            data["price_of_silos"],
            portfolio["weighted_value"] - silo["weighted_value"],
        )
    else:
        c.fail("price_of_silos: missing figures")


def _slack_price(c: _Checker, what: str, price: float, slack: float, unit: float = 1.0) -> None:
    """Complementary slackness in value terms: a constraint with room to spare has price 0.

    The least-spend tie-break may give away a hair of the objective (a relative 1e-9) and so
    leave a little room on a constraint that binds in the value solve; what counts is the
    value that room is worth, price * slack / unit, against the value tolerance.
    """
    if slack > 0 and abs(price) * slack / unit > c.value_tol:
        c.fail(f"{what}: price {price:.6g} but {slack:.6g} of room left (complementary slackness)")


def _check_shadow_prices(
    c: _Checker, data: Mapping[str, Any], spend: Sequence[float], quality: Sequence[float]
) -> None:
    """Signs and complementary slackness of the shadow prices."""
    p = c.problem
    prices = data.get("shadow_prices") or {}
    budget = prices.get("budget")
    total = math.fsum(spend)
    if not isinstance(budget, int | float):
        c.fail(f"shadow_prices.budget: {budget!r}")
    elif p.mode == "min_spend":
        c.close(
            "shadow_prices.budget (the budget does not bind in min_spend)", budget, 0.0, c.price_tol
        )
    else:
        if budget < -c.price_tol:
            c.fail(f"shadow_prices.budget: {budget:.6g} < 0 (more money cannot hurt)")
        _slack_price(c, "shadow_prices.budget", budget, p.budget - total)
    departments = prices.get("departments") or {}
    for d, dept in enumerate(p.departments):
        price = departments.get(dept.id, 0.0)
        what = f"shadow_prices.departments.{dept.id}"
        if p.mode != "min_spend" and price < -c.price_tol:
            c.fail(f"{what}: {price:.6g} < 0")
        if d not in p.department_caps:
            c.close(f"{what} (no cap applies)", price, 0.0, c.price_tol)
        else:
            dept_spend = math.fsum(spend[t] for t in p.members[d])
            _slack_price(c, what, price, p.department_caps[d] - dept_spend)
    floors = prices.get("floors") or {}
    # Floor prices are per 0.01 of quality. With chords, the model's quality is below the
    # true one, so room above a floor on the true curves says nothing: exact problems only.
    exact = is_exact(p)
    for j, journey in enumerate(p.journeys):
        price = floors.get(journey.id, 0.0)
        what = f"shadow_prices.floors.{journey.id}"
        if price < -c.price_tol:
            c.fail(f"{what}: {price:.6g} < 0 (a higher floor cannot help)")
        if journey.floor is None:
            c.close(f"{what} (no floor)", price, 0.0, c.price_tol)
        elif exact:
            _slack_price(c, what, price, quality[j] - journey.floor, unit=0.01)


def _check_binding(c: _Checker, data: Mapping[str, Any], spend: Sequence[float]) -> None:
    """A constraint listed as binding is tight (up to what the tie-break may give away)."""
    p = c.problem
    total = math.fsum(spend)
    prices = data.get("shadow_prices") or {}
    dept_ids = {dept.id: d for d, dept in enumerate(p.departments)}

    def tight(what: str, slack: float, price: Any) -> None:
        price = price if isinstance(price, int | float) else 0.0
        if slack > c.money_tol and (price == 0 or abs(price) * slack > c.value_tol):
            c.fail(f"binding: {what} but {slack:.6g} of room left (price {price:.6g})")

    for name in data.get("binding") or []:
        kind, _, ref = name.partition(":")
        if name == "budget":
            if p.mode == "min_spend":
                c.fail("binding: 'budget' listed in min_spend mode, where it does not bind")
            else:
                tight("'budget'", p.budget - total, prices.get("budget"))
        elif kind == "department":
            d = dept_ids.get(ref)
            if d is None or d not in p.department_caps:
                c.fail(f"binding: {name!r} is not a cap of this scenario")
                continue
            dept_spend = math.fsum(spend[t] for t in p.members[d])
            tight(
                repr(name),
                p.department_caps[d] - dept_spend,
                (prices.get("departments") or {}).get(ref),
            )
        elif kind == "floor":
            if not any(j.id == ref and j.floor is not None for j in p.journeys):
                c.fail(f"binding: {name!r} is not a floor of this scenario")
