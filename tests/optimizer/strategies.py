"""Hypothesis strategies for random valid portfolio documents (plain dicts).

Small on purpose (2-10 touchpoints, 1-6 journeys) so one solve takes milliseconds. Money comes
in multiples of 10 and qualities in hundredths where that keeps the example readable; curves
are concave by construction (points: decreasing slopes; saturating: always concave).
"""

import math
from typing import Any

import yaml
from hypothesis import strategies as st

from optimizer.document import MODES, validate_document
from optimizer.problem import PortfolioProblem, resolve

SCENARIO_ID = "s"


def _money(high: int, low: int = 0) -> st.SearchStrategy[float]:
    """Multiples of 10 in [low, high] (high, low multiples of 10)."""
    return st.integers(low // 10, high // 10).map(lambda k: 10.0 * k)


def _fraction(low: float = 0.0, high: float = 1.0) -> st.SearchStrategy[float]:
    """Hundredths in [low, high]."""
    return st.integers(round(low * 100), round(high * 100)).map(lambda k: k / 100)


@st.composite
def points_curve(draw: st.DrawFn) -> dict[str, Any]:
    """A concave points curve: widths, then slopes drawn and sorted in decreasing order."""
    segments = draw(st.integers(0, 4))
    start = draw(_fraction(0, 0.6))
    top = draw(_fraction(start, 1.0))
    widths = [draw(_money(400, 10)) for _ in range(segments)]
    ratios = sorted((draw(_fraction()) for _ in range(segments)), reverse=True)
    rise = sum(r * w for r, w in zip(ratios, widths, strict=True))
    scale = (top - start) / rise if rise > 0 else 0.0
    pts = [[0.0, start]]
    spend, quality = 0.0, start
    for ratio, width in zip(ratios, widths, strict=True):
        spend += width
        quality = min(1.0, quality + ratio * scale * width)
        pts.append([spend, quality])
    return {"points": pts}


@st.composite
def saturating_curve(draw: st.DrawFn) -> dict[str, Any]:
    base = draw(_fraction(0, 0.6))
    top = draw(_fraction(base, 1.0))
    half_spend = draw(_money(500, 10))
    return {"saturating": {"base": base, "max": top, "half_spend": half_spend}}


@st.composite
def formula_curve(draw: st.DrawFn) -> dict[str, Any]:
    """A concave curve of any formula form (saturating, hill with shape <= 1, exponential,
    logistic) on the spend scale of `saturating_curve`."""
    base = draw(_fraction(0, 0.6))
    top = draw(_fraction(base, 1.0))
    scale = draw(_money(500, 10))
    form = draw(st.sampled_from(["saturating", "hill", "exponential", "logistic"]))
    if form == "hill":
        shape = draw(_fraction(0.3, 1.0))
        return {"hill": {"base": base, "max": top, "half_spend": scale, "shape": shape}}
    if form == "exponential":
        return {"exponential": {"base": base, "max": top, "scale": scale}}
    if form == "logistic":
        return {"logistic": {"base": base, "max": top, "lam": 1 / scale}}
    return {"saturating": {"base": base, "max": top, "half_spend": scale}}


def _quality_at(curve: dict[str, Any], spend: float) -> float:
    """A curve's quality (to aim floors at reachable levels while drawing)."""
    if "points" in curve:
        pts = curve["points"]
        for (s0, q0), (s1, q1) in zip(pts, pts[1:], strict=False):
            if spend <= s1:
                return q0 + (q1 - q0) * (spend - s0) / (s1 - s0)
        return pts[-1][1]
    (form, c), *_ = ((k, v) for k, v in curve.items() if k != "source")
    x, a = max(spend, 0.0), c["max"] - c["base"]
    if form == "hill":
        r = (x / c["half_spend"]) ** c["shape"]
        return c["base"] + a * r / (1 + r)
    if form == "exponential":
        return c["base"] + a * (1 - math.exp(-x / c["scale"]))
    if form == "logistic":
        return c["base"] + a * math.tanh(c["lam"] * x / 2)
    return c["base"] + a * x / (x + c["half_spend"])


@st.composite
def portfolios(
    draw: st.DrawFn,
    *,
    curves: str = "mixed",
    scenario: bool | None = None,
    max_touchpoints: int = 10,
    max_journeys: int = 6,
) -> dict[str, Any]:
    """A random valid portfolio document, maybe with one scenario (id "s").

    curves: "points" (exact LP), "saturating", "formulas" (every concave formula form) or
    "mixed" (points and saturating). scenario: always, never, or maybe.
    """
    n_departments = draw(st.integers(1, 4))
    n_touchpoints = draw(st.integers(2, max_touchpoints))
    touchpoints = []
    for t in range(n_touchpoints):
        kind = curves if curves != "mixed" else draw(st.sampled_from(["points", "saturating"]))
        curve = draw(
            points_curve()
            if kind == "points"
            else formula_curve()
            if kind == "formulas"
            else saturating_curve()
        )
        max_spend = draw(_money(1000, 10))
        # Mostly no min spend; else up to half the max (min spends above caps and budgets
        # still happen, as they should, but not in most examples).
        min_spend = draw(st.just(0.0) | st.just(0.0) | _money(int(max_spend) // 20 * 10))
        current = draw(_money(int(max_spend * 1.2)))
        touchpoints.append(
            {
                "id": f"t{t}",
                "name": f"Touchpoint {t}",
                "department": f"d{draw(st.integers(0, n_departments - 1))}",
                "channel": "web",
                "current_spend": current,
                "min_spend": min_spend,
                "max_spend": max_spend,
                "curve": curve,
            }
        )

    departments = []
    for d in range(n_departments):
        dept: dict[str, Any] = {"id": f"d{d}", "name": f"Department {d}"}
        members = [tp for tp in touchpoints if tp["department"] == dept["id"]]
        if draw(st.booleans()):
            # A cap between (about) the members' min spends and their max spends.
            low = sum(tp["min_spend"] for tp in members)
            high = max(low, sum(tp["max_spend"] for tp in members))
            dept["budget"] = low + (high - low) * draw(_fraction(0, 1.1))
        departments.append(dept)

    # Acyclic dependencies: only "later requires earlier" in a random order.
    order = draw(st.permutations(range(n_touchpoints)))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_touchpoints - 1), st.integers(0, n_touchpoints - 1))
            .filter(lambda p: p[0] < p[1])
            .map(lambda p: (order[p[1]], order[p[0]])),
            max_size=3,
            unique=True,
        )
    )
    dependencies = [{"touchpoint": f"t{t}", "requires": f"t{u}"} for t, u in pairs]

    journeys = []
    for j in range(draw(st.integers(1, max_journeys))):
        linked = draw(
            st.lists(
                st.integers(0, n_touchpoints - 1),
                min_size=1,
                max_size=min(5, n_touchpoints),
                unique=True,
            )
        )
        links = [
            {
                "touchpoint": f"t{t}",
                "weight": float(draw(st.integers(1, 5))),
                "critical": draw(st.integers(0, 3)) == 0,
            }
            for t in linked
        ]
        data: dict[str, Any] = {
            "id": f"j{j}",
            "name": f"Journey {j}",
            "persona": "p",
            "value": 100.0 * draw(st.integers(0, 100)),
            "priority": draw(st.sampled_from([1.0, 1.0, 1.0, 0.5, 2.0, 0.0])),
            "touchpoints": links,
        }
        if draw(st.integers(0, 3)) == 0:
            # Aim at a share of what the links reach at max spend (dependencies and the budget
            # may still put it out of reach: that exercises infeasibility).
            best = _experience(touchpoints, links, spend="max_spend")
            data["floor"] = round(min(1.0, best * draw(_fraction(0, 1.05))), 3)
        journeys.append(data)

    doc: dict[str, Any] = {
        "format": "journeyfolio/v1",
        "id": "random",
        "name": "Random portfolio",
        "budget": draw(budgets(touchpoints)),
        "departments": departments,
        "personas": [{"id": "p", "name": "Persona"}],
        "touchpoints": touchpoints,
        "dependencies": dependencies,
        "journeys": journeys,
        "scenarios": [],
    }
    if scenario if scenario is not None else draw(st.booleans()):
        doc["scenarios"].append(draw(scenarios(doc)))
    return doc


def _experience(
    touchpoints: list[dict[str, Any]], links: list[dict[str, Any]], spend: str
) -> float:
    by_id = {tp["id"]: tp for tp in touchpoints}
    total = sum(link["weight"] for link in links)
    qualities = [
        (link, _quality_at(by_id[link["touchpoint"]]["curve"], by_id[link["touchpoint"]][spend]))
        for link in links
    ]
    average = sum(link["weight"] / total * q for link, q in qualities)
    return min([average, *(q for link, q in qualities if link["critical"])])


def budgets(touchpoints: list[dict[str, Any]]) -> st.SearchStrategy[float]:
    """Mostly between the min spends and the max spends, sometimes anything from 0."""
    low = sum(tp["min_spend"] for tp in touchpoints)
    high = sum(tp["max_spend"] for tp in touchpoints)
    between = _fraction(0, 1.1).map(lambda f: round(low + (high - low) * f, 2))
    return between | between | between | _money(int(high))


@st.composite
def scenarios(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    """Overrides of a portfolio: budget, pooled, mode, priorities, floors, locks, excludes, caps."""
    scenario: dict[str, Any] = {"id": SCENARIO_ID, "name": "Scenario"}
    touchpoints = doc["touchpoints"]
    if draw(st.booleans()):
        scenario["budget"] = draw(budgets(touchpoints))
    if draw(st.integers(0, 2)) > 0:
        # True first: Hypothesis leans towards the first choice, and pooled scenarios are
        # the rarer case worth covering
        scenario["pooled"] = draw(st.sampled_from([True, False]))
    if draw(st.booleans()):
        scenario["mode"] = draw(st.sampled_from(MODES))
    journeys = [j["id"] for j in doc["journeys"]]
    if draw(st.integers(0, 3)) == 0:
        scenario["priorities"] = draw(
            st.dictionaries(st.sampled_from(journeys), st.sampled_from([0.0, 0.5, 2.0]), max_size=2)
        )
    if draw(st.integers(0, 3)) == 0:
        scenario["floors"] = draw(
            st.dictionaries(st.sampled_from(journeys), st.none() | _fraction(0, 0.5), max_size=2)
        )
    chosen = draw(st.lists(st.integers(0, len(touchpoints) - 1), max_size=3, unique=True))
    locks, excluded = {}, []
    for t in chosen:
        tp = touchpoints[t]
        if draw(st.booleans()):
            share = draw(_fraction())
            locks[tp["id"]] = tp["min_spend"] + share * (tp["max_spend"] - tp["min_spend"])
        else:
            excluded.append(tp["id"])
    if locks:
        scenario["locks"] = locks
    if excluded:
        scenario["exclude"] = excluded
    if draw(st.integers(0, 3)) == 0:
        scenario["departments"] = draw(
            st.dictionaries(
                st.sampled_from([d["id"] for d in doc["departments"]]),
                st.none() | _money(3000),
                max_size=2,
            )
        )
    return scenario


def problem_from(doc: dict[str, Any], **overrides: Any) -> PortfolioProblem:
    """Validate a drawn document and resolve its scenario (if any), plus overrides."""
    scenario_id = SCENARIO_ID if doc["scenarios"] else None
    return resolve(validate_document(doc), scenario_id, **overrides)


def as_yaml(doc: dict[str, Any]) -> str:
    """The document as YAML, to print a falsifying example that can be saved and rerun."""
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
