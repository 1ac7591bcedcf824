"""The API's JSON shaped into the tables the pages show and the charts draw.

Pure functions, no Streamlit and no HTTP: the pages fetch (client.py), these shape, charts.py
draws. Names in the frames are what people read (journey and touchpoint names, not ids);
money is in the portfolio's currency, qualities in [0, 1].
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from frontend import formats
from frontend.formats import money

Json = dict[str, Any]

NO_STAGE = "(no stage)"
CURRENT, OPTIMAL = "Current spend", "Optimal spend"
"""The marks on a response curve."""
CURVE_SAMPLES = 48
"""Points per saturating curve drawn (they are smooth: more adds nothing visible)."""


# =========================================================================== formatting


def _missing(value: float | None) -> bool:
    return formats.missing(value)


def quality(value: float | None) -> str:
    return formats.MISSING if _missing(value) else f"{value:.2f}"


def when(stamp: str) -> str:
    """An API timestamp as `23 Nov 16:13:43` (UTC, as stored)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.strftime("%d %b %H:%M:%S")


def whole(amount: float | None) -> float:
    """Money to whole units for tables (no `-0`); NaN stays NaN."""
    if _missing(amount):
        return math.nan
    assert amount is not None
    return float(round(amount)) + 0.0


def names(items: Iterable[Json]) -> dict[str, str]:
    """id -> name of a list of entities."""
    return {item["id"]: item.get("name") or item["id"] for item in items}


def named(text: str, names: Mapping[str, str]) -> str:
    """`text` with every quoted id of `names` ('video-content') replaced by the quoted name
    (a run's explanations may name touchpoints by id)."""
    return re.sub(r"'([^']+)'", lambda m: f"'{names.get(m[1], m[1])}'", text)


# =========================================================================== portfolio


def headline(run: Json) -> dict[str, Any]:
    """The figures at the top of the portfolio page (from a run of the portfolio as planned),
    rounded so that what the page says adds up.

    Value, today's value, the silo value and the differences between them share one step
    (`step`). The headline figures (value, gain over today, price of silos) are the run's
    figures rounded to it; the baselines that explain them are derived (value minus gain,
    value minus price), so "value - silo value = price" holds on the screen, each figure
    within one step of its exact value. Spend, budget and what is left share `spend_step`.
    Money is money (unweighted); `price_of_silos_weighted` is the priority-weighted twin.
    Rounded figures are whole multiples of their step, so float arithmetic on them is
    exact."""
    figures = run["portfolio"]
    value, current = figures["value"], run["baselines"]["current"]["value"]
    silos = run["price_of_silos_value"]
    step = formats.step_for(value, current, value - current, silos)
    shown_value, gain, shown_silos = (
        float(formats.rounded(x, step)) for x in (value, value - current, silos)
    )
    shown_current = shown_value - gain
    spend_step = formats.step_for(
        figures["spend"], figures["budget"], figures["budget"] - figures["spend"]
    )
    shown_spend, shown_budget = (
        float(formats.rounded(amount, spend_step))
        for amount in (figures["spend"], figures["budget"])
    )
    return {
        "step": step,
        "value": shown_value,
        "current_value": shown_current,
        "gain_vs_current": gain,
        "gain_ratio": gain / shown_current if shown_current else math.nan,
        "silo_value": shown_value - shown_silos,
        "price_of_silos": shown_silos,
        "price_of_silos_weighted": run["price_of_silos"],
        "spend_step": spend_step,
        "spend": shown_spend,
        "budget": shown_budget,
        "unallocated": shown_budget - shown_spend,
        "current_spend": figures["current_spend"],
    }


def run_figures(run: Json, plan: Json | None) -> dict[str, Any]:
    """A run's value, its change against the plan and its price of silos (money) at one
    step, as `headline`: value, change and price rounded, the plan's value and the silo
    value derived so that the sentences naming them add up; `plan_value` and `change` are
    None without an optimal plan."""
    value, silos = run["portfolio"]["value"], run["price_of_silos_value"]
    planned = plan["portfolio"]["value"] if plan and plan["status"] == "optimal" else None
    change = None if planned is None else value - planned
    step = formats.step_for(value, silos, planned, change)
    shown_value, shown_silos = (float(formats.rounded(x, step)) for x in (value, silos))
    shown_change = None if change is None else float(formats.rounded(change, step))
    return {
        "step": step,
        "value": shown_value,
        "plan_value": None if shown_change is None else shown_value - shown_change,
        "change": shown_change,
        "silo_value": shown_value - shown_silos,
        "price_of_silos": shown_silos,
        "price_of_silos_weighted": run["price_of_silos"],
    }


def journey_figures(result: Json) -> dict[str, Any]:
    """A journey's quality, value, cost, their changes and its value per cost as the
    journey page shows them: money at one step, value, change and cost rounded, today's
    value derived (value minus change), the ratio of the figures shown."""
    value, current = result["value"], result["current_value"]
    step = formats.step_for(value, current, value - current, result["attributed_cost"])
    shown_value, change, cost = (
        float(formats.rounded(x, step)) for x in (value, value - current, result["attributed_cost"])
    )
    shown_quality = round(result["quality"], 2)
    shown_current_quality = round(result["current_quality"], 2)
    return {
        "step": step,
        "quality": shown_quality,
        "current_quality": shown_current_quality,
        "quality_change": round(shown_quality - shown_current_quality, 2),
        "value": shown_value,
        "current_value": shown_value - change,
        "value_change": change,
        "attributed_cost": cost,
        "value_per_cost": shown_value / cost if cost else math.nan,
    }


def journey_table(journeys: Sequence[Json], personas: Sequence[Json], run: Json | None) -> Any:
    """One row per journey: who owns it, what it is worth, how good it is, what it costs."""
    persona = names(personas)
    results = {j["id"]: j for j in (run or {}).get("journeys", [])}
    touchpoint = {t["id"]: t["name"] for t in (run or {}).get("touchpoints", [])}
    rows = []
    for journey in journeys:
        result = results.get(journey["id"], {})
        limited = result.get("limited_by")
        rows.append(
            {
                "id": journey["id"],
                "journey": journey["name"],
                "persona": persona.get(journey["persona"], journey["persona"]),
                "owner": journey.get("owner") or "",
                "lifecycle": journey.get("lifecycle", "active"),
                "max_value": whole(journey["value"]),
                "priority": float(journey.get("priority", 1.0)),
                # The run's floor is the scenario's (None: no floor in it).
                "floor": result["floor"] if "floor" in result else journey.get("floor"),
                "quality": result.get("quality", math.nan),
                "value": whole(result.get("value")),
                "current_quality": result.get("current_quality", math.nan),
                "current_value": whole(result.get("current_value")),
                "attributed_cost": whole(result.get("attributed_cost")),
                "value_per_cost": result.get("value_per_cost") or math.nan,
                "limited_by": touchpoint.get(limited, limited or ""),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("value", ascending=False, na_position="last").reset_index(drop=True)


# =========================================================================== one journey


def _stage_of(link: Json) -> str:
    return link.get("stage") or NO_STAGE


def journey_map(journey: Json, touchpoints: Sequence[Json], run: Json | None) -> Any:
    """The journey's links in order: stage, touchpoint, its quality, critical, emotion."""
    info = {t["id"]: t for t in touchpoints}
    results = {t["id"]: t for t in (run or {}).get("touchpoints", [])}
    total = sum(float(link.get("weight", 1.0)) for link in journey["touchpoints"]) or 1.0
    rows = []
    for step, link in enumerate(journey["touchpoints"], start=1):
        tp = info.get(link["touchpoint"], {})
        result = results.get(link["touchpoint"], {})
        name = tp.get("name", link["touchpoint"])
        critical = bool(link.get("critical", False))
        rows.append(
            {
                "step": step,
                "stage": _stage_of(link),
                "touchpoint_id": link["touchpoint"],
                "touchpoint": name,
                "label": f"{step}. {name}",
                "department": tp.get("department", ""),
                "weight": float(link.get("weight", 1.0)),
                "share": float(link.get("weight", 1.0)) / total,
                "critical": critical,
                "moment": "moment of truth" if critical else "",
                "emotion": link.get("emotion"),
                "quality": result.get("quality", math.nan),
                "current_quality": result.get("current_quality", math.nan),
                "spend": result.get("spend", math.nan),
            }
        )
    return pd.DataFrame(rows)


def stage_order(journey: Json) -> list[str]:
    """The journey's stages in order, plus the stages its links name that it does not list."""
    order = list(journey.get("stages") or [])
    for link in journey["touchpoints"]:
        stage = _stage_of(link)
        if stage not in order:
            order.append(stage)
    return order


def kpi_history(journey: Json) -> Any:
    """KPI actuals over time, with their targets (one row per KPI and period)."""
    rows = []
    for kpi in journey.get("kpis", []):
        label = f"{kpi['name']} ({kpi['unit']})" if kpi.get("unit") else kpi["name"]
        for actual in kpi.get("actuals", []):
            rows.append(
                {
                    "kpi": label,
                    "period": str(actual["period"]),
                    "value": float(actual["value"]),
                    "target": kpi.get("target"),
                }
            )
    return pd.DataFrame(rows, columns=["kpi", "period", "value", "target"])


def kpi_status(journey: Json) -> Any:
    """Each KPI's latest actual against its target."""
    rows = []
    for kpi in journey.get("kpis", []):
        actuals = kpi.get("actuals", [])
        latest = actuals[-1] if actuals else None
        target = kpi.get("target")
        higher = kpi.get("higher_is_better", True)
        on_target: bool | None = None
        if latest is not None and target is not None:
            on_target = latest["value"] >= target if higher else latest["value"] <= target
        rows.append(
            {
                "kpi": kpi["name"],
                "unit": kpi.get("unit", ""),
                "period": latest["period"] if latest else "",
                "actual": latest["value"] if latest else math.nan,
                "target": math.nan if target is None else target,
                "better": "higher" if higher else "lower",
                "status": (
                    "no data" if on_target is None else "on target" if on_target else "off target"
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=["kpi", "unit", "period", "actual", "target", "better", "status"]
    )


def pain_points(journey: Json, touchpoints: Sequence[Json]) -> Any:
    """Pain points and feedback on the journey's touchpoints, most severe first."""
    info = {t["id"]: t for t in touchpoints}
    rows = []
    for link in journey["touchpoints"]:
        tp = info.get(link["touchpoint"], {})
        for pain in tp.get("pain_points", []):
            rows.append(
                {
                    "touchpoint": tp.get("name", link["touchpoint"]),
                    "stage": _stage_of(link),
                    "kind": "pain point",
                    "severity": int(pain.get("severity", 1)),
                    "text": pain["text"],
                }
            )
        for note in tp.get("feedback", []):
            source = ", ".join(str(x) for x in (note.get("source"), note.get("date")) if x)
            rows.append(
                {
                    "touchpoint": tp.get("name", link["touchpoint"]),
                    "stage": _stage_of(link),
                    "kind": f"feedback ({source})" if source else "feedback",
                    "severity": 0,
                    "text": note["text"],
                }
            )
    frame = pd.DataFrame(rows, columns=["touchpoint", "stage", "kind", "severity", "text"])
    return frame.sort_values("severity", ascending=False, kind="stable").reset_index(drop=True)


def journey_costs(journey_id: str, journeys: Sequence[Json], run: Json) -> Any:
    """Where a journey's attributed cost comes from: each linked touchpoint's spend shared
    among its journeys in proportion to normalized weight x journey value (DOMAIN.md), plus
    what reaches it through touchpoints its touchpoints require."""
    spends = {t["id"]: (t["name"], t["spend"]) for t in run.get("touchpoints", [])}
    claims: dict[str, dict[str, float]] = {}
    for journey in journeys:
        total = sum(float(link.get("weight", 1.0)) for link in journey["touchpoints"]) or 1.0
        for link in journey["touchpoints"]:
            claim = float(link.get("weight", 1.0)) / total * max(float(journey["value"]), 1e-12)
            claims.setdefault(link["touchpoint"], {})[journey["id"]] = claim
    rows = []
    for touchpoint, by_journey in claims.items():
        if journey_id not in by_journey or touchpoint not in spends:
            continue
        name, spend = spends[touchpoint]
        rows.append(
            {
                "touchpoint": name,
                "cost": spend * by_journey[journey_id] / sum(by_journey.values()),
                "share_of_spend": by_journey[journey_id] / sum(by_journey.values()),
            }
        )
    result = next((j for j in run.get("journeys", []) if j["id"] == journey_id), None)
    if result is not None:
        rest = result["attributed_cost"] - sum(row["cost"] for row in rows)
        if rest > 0.5:
            rows.append(
                {"touchpoint": "via required touchpoints", "cost": rest, "share_of_spend": None}
            )
    frame = pd.DataFrame(rows, columns=["touchpoint", "cost", "share_of_spend"])
    return frame.sort_values("cost", ascending=False).reset_index(drop=True)


# =========================================================================== touchpoints


def sharing_matrix(journeys: Sequence[Json], touchpoints: Sequence[Json]) -> Any:
    """One row per journey link: which journeys share which touchpoints, and how much."""
    info = {t["id"]: t for t in touchpoints}
    sharers: dict[str, int] = {}
    for journey in journeys:
        for link in journey["touchpoints"]:
            sharers[link["touchpoint"]] = sharers.get(link["touchpoint"], 0) + 1
    rows = []
    for journey in journeys:
        total = sum(float(link.get("weight", 1.0)) for link in journey["touchpoints"]) or 1.0
        for link in journey["touchpoints"]:
            tp = info.get(link["touchpoint"], {})
            critical = bool(link.get("critical", False))
            rows.append(
                {
                    "journey": journey["name"],
                    "touchpoint": tp.get("name", link["touchpoint"]),
                    "department": tp.get("department", ""),
                    "share": float(link.get("weight", 1.0)) / total,
                    "critical": critical,
                    "mark": "★" if critical else "",
                    "journeys_sharing": sharers[link["touchpoint"]],
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "journey",
            "touchpoint",
            "department",
            "share",
            "critical",
            "mark",
            "journeys_sharing",
        ],
    )


def touchpoint_table(
    touchpoints: Sequence[Json],
    journeys: Sequence[Json],
    departments: Sequence[Json],
    run: Json | None,
) -> Any:
    """One row per touchpoint: department, journeys served, current and optimal spend."""
    department = names(departments)
    touchpoint_names = names(touchpoints)
    served: dict[str, list[str]] = {t["id"]: [] for t in touchpoints}
    for journey in journeys:
        for link in journey["touchpoints"]:
            served.setdefault(link["touchpoint"], []).append(journey["name"])
    results = {t["id"]: t for t in (run or {}).get("touchpoints", [])}
    rows = []
    for tp in touchpoints:
        result = results.get(tp["id"], {})
        # A run knows who a touchpoint serves through dependencies too; links alone do not.
        serves = len(result["journeys"]) if "journeys" in result else len(served[tp["id"]])
        rows.append(
            {
                "id": tp["id"],
                "touchpoint": tp["name"],
                "department": department.get(tp["department"], tp["department"]),
                "channel": tp.get("channel", ""),
                "journeys": serves,
                "serves_no_journey": serves == 0,
                "current_spend": whole(tp["current_spend"]),
                "optimal_spend": whole(result.get("spend")),
                # The change between the figures the table shows, not rounded on its own.
                "change": whole(result.get("spend")) - whole(tp["current_spend"]),
                "quality": result.get("quality", math.nan),
                "why": named(result.get("explanation", ""), touchpoint_names),
                "pain_points": len(tp.get("pain_points", [])),
            }
        )
    return pd.DataFrame(rows)


def curve_points(
    curve: Json, max_spend: float, samples: int = CURVE_SAMPLES
) -> list[tuple[float, float]]:
    """(spend, quality) along a response curve from 0 to max_spend."""
    if "points" in curve and curve["points"]:
        points = [(float(s), float(q)) for s, q in curve["points"]]
        inside = [(s, q) for s, q in points if s <= max_spend]
        if inside[-1][0] < max_spend:
            inside.append((max_spend, evaluate_curve(curve, max_spend)))
        return inside
    step = max_spend / (samples - 1) if max_spend > 0 else 0.0
    return [(i * step, evaluate_curve(curve, i * step)) for i in range(samples)]


def evaluate_curve(curve: Json, spend: float) -> float:
    """The quality a response curve gives at a spend (DOMAIN.md)."""
    if "points" in curve and curve["points"]:
        points = [(float(s), float(q)) for s, q in curve["points"]]
        if spend >= points[-1][0]:
            return points[-1][1]
        for (s0, q0), (s1, q1) in zip(points, points[1:], strict=False):
            if spend <= s1:
                return q0 + (q1 - q0) * (spend - s0) / (s1 - s0)
        return points[-1][1]
    x = max(spend, 0.0)
    if "hill" in curve:
        h = curve["hill"]
        r = (x / h["half_spend"]) ** h["shape"]
        return float(h["base"] + (h["max"] - h["base"]) * r / (1 + r))
    if "exponential" in curve:
        e = curve["exponential"]
        return float(e["base"] - (e["max"] - e["base"]) * math.expm1(-x / e["scale"]))
    if "logistic" in curve:
        g = curve["logistic"]
        u = g["lam"] * x
        return float(g["base"] - (g["max"] - g["base"]) * math.expm1(-u) / (1 + math.exp(-u)))
    sat = curve["saturating"]
    return float(sat["base"] + (sat["max"] - sat["base"]) * x / (x + sat["half_spend"]))


def response_curves(touchpoints: Sequence[Json], run: Json | None) -> Any:
    """Every touchpoint's curve (kind `curve`) and its current and optimal spend on it."""
    results = {t["id"]: t for t in (run or {}).get("touchpoints", [])}
    rows = []
    for tp in touchpoints:
        base = {"touchpoint": tp["name"], "department": tp["department"]}
        for spend, q in curve_points(tp["curve"], float(tp["max_spend"])):
            rows.append({**base, "kind": "curve", "spend": spend, "quality": q})
        current = float(tp["current_spend"])
        rows.append(
            {
                **base,
                "kind": CURRENT,
                "spend": current,
                "quality": evaluate_curve(tp["curve"], current),
            }
        )
        if tp["id"] in results:
            spend = results[tp["id"]]["spend"]
            rows.append(
                {
                    **base,
                    "kind": OPTIMAL,
                    "spend": spend,
                    "quality": evaluate_curve(tp["curve"], spend),
                }
            )
    return pd.DataFrame(rows, columns=["touchpoint", "department", "kind", "spend", "quality"])


# =========================================================================== curves from evidence

OBSERVED, FITTED, CURRENT_CURVE = "Observed", "Fitted curve", "Current curve"
"""The layers of the evidence chart (with CURRENT and OPTIMAL, the spends marked)."""
SOURCE_WORDS = {
    "manual": "typed in",
    "fit": "fitted to observations",
    "robyn": "imported from Meta Robyn",
    "meridian": "imported from Google Meridian",
    "pymc-marketing": "imported from PyMC-Marketing",
}


def with_observations(touchpoints: Sequence[Json]) -> list[Json]:
    """The touchpoints that carry observed rows."""
    return [t for t in touchpoints if (t.get("observations") or {}).get("rows")]


def evidence(fit: Json, touchpoint: Json, optimal_spend: float | None) -> Any:
    """The fit's band and curve, the observations as qualities, the touchpoint's current
    curve on the same grid, and today's and the optimal spend (rows of `kind`)."""
    band = fit["band"]
    rows: list[Json] = [
        {"kind": FITTED, "spend": s, "quality": q, "low": lo, "high": hi}
        for s, q, lo, hi in zip(
            band["spend"], band["curve"], band["low"], band["high"], strict=True
        )
    ]
    rows += [
        {"kind": CURRENT_CURVE, "spend": s, "quality": evaluate_curve(touchpoint["curve"], s)}
        for s in band["spend"]
    ]
    rows += [
        {
            "kind": OBSERVED,
            "spend": p["spend"],
            "quality": p["quality"],
            "outcome": p["outcome"],
            "period": p["period"],
        }
        for p in fit["points"]
    ]
    marks = [(CURRENT, float(touchpoint["current_spend"]))]
    if optimal_spend is not None:
        marks.append((OPTIMAL, float(optimal_spend)))
    for kind, spend in marks:
        rows.append({"kind": kind, "spend": spend, "quality": evaluate_curve(fit["curve"], spend)})
    columns = ["kind", "spend", "quality", "low", "high", "outcome", "period"]
    return pd.DataFrame(rows, columns=columns)


def curve_source(curve: Json) -> str:
    """Where a curve comes from, in words: `fitted to observations (24 observations,
    2026-12-01)`."""
    source = curve.get("source")
    form = next((k for k in curve if k != "source"), "curve")
    if not source:
        return f"a `{form}` curve with no source given (typed in)"
    details = []
    if source.get("n") is not None:
        details.append(f"{source['n']} observations")
    if source.get("date"):
        details.append(source["date"])
    if source.get("uncertainty"):
        details.append("with its uncertainty")
    words = SOURCE_WORDS.get(source["kind"], source["kind"])
    return f"a `{form}` curve {words}" + (f" ({', '.join(details)})" if details else "")


# =========================================================================== runs


def allocation(run: Json) -> Any:
    """Current and optimal spend per touchpoint, with why it sits where it sits."""
    department = {d["id"]: d["name"] for d in run.get("departments", [])}
    touchpoint = names(run.get("touchpoints", []))
    rows = [
        {
            "id": t["id"],
            "touchpoint": t["name"],
            "department": department.get(t["department"], t["department"]),
            "current": whole(t["current_spend"]),
            "optimal": whole(t["spend"]),
            "change": whole(t["spend"]) - whole(t["current_spend"]),
            "quality": t["quality"],
            "current_quality": t["current_quality"],
            "marginal_value": t["marginal_value"],
            "why": named(t["explanation"], touchpoint),
        }
        for t in run.get("touchpoints", [])
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "touchpoint",
            "department",
            "current",
            "optimal",
            "change",
            "quality",
            "current_quality",
            "marginal_value",
            "why",
        ],
    )


def department_allocation(run: Json) -> Any:
    """Current and optimal spend per department, with its cap."""
    rows = [
        {
            "department": d["name"],
            "current": whole(d["current_spend"]),
            "optimal": whole(d["spend"]),
            "change": whole(d["spend"]) - whole(d["current_spend"]),
            "cap": whole(d["cap"]) if d["cap_applies"] else math.nan,
            "shadow_price": d["shadow_price"],
        }
        for d in run.get("departments", [])
    ]
    return pd.DataFrame(
        rows, columns=["department", "current", "optimal", "change", "cap", "shadow_price"]
    )


def side_by_side(frame: Any, item: str) -> Any:
    """Current vs. optimal in long form (one row per item and allocation) for bar charts."""
    long = frame.melt(
        id_vars=[item], value_vars=["current", "optimal"], var_name="allocation", value_name="spend"
    )
    long["allocation"] = long["allocation"].map({"current": "Current", "optimal": "Optimal"})
    return long


def shadow_prices(run: Json, journey_names: Mapping[str, str]) -> Any:
    """What one more unit of each constraint is worth, each with its unit (the run says what
    a price means in its mode). The total budget is left out where it has no price and does
    not bind (min_spend: it is no constraint there)."""
    prices = run["shadow_prices"]
    department = {d["id"]: d["name"] for d in run.get("departments", [])}
    rows = []
    if prices["budget"] or "budget" in run.get("binding", []):
        rows.append(
            {"constraint": "Total budget", "price": prices["budget"], "unit": prices["unit"]}
        )
    for dept_id, price in prices["departments"].items():
        rows.append(
            {
                "constraint": f"Cap of {department.get(dept_id, dept_id)}",
                "price": price,
                "unit": prices["unit"],
            }
        )
    for journey_id, price in prices["floors"].items():
        rows.append(
            {
                "constraint": f"Floor of {journey_names.get(journey_id, journey_id)}",
                "price": price,
                "unit": prices["floor_unit"],
            }
        )
    return pd.DataFrame(rows, columns=["constraint", "price", "unit"])


def binding_sentences(run: Json, journey_names: Mapping[str, str]) -> list[str]:
    """The constraints that hold the result back, one sentence each, prices with their
    units."""
    currency = run["currency"]
    prices = run["shadow_prices"]
    departments = {d["id"]: d for d in run.get("departments", [])}
    floors = {j["id"]: j.get("floor") for j in run.get("journeys", [])}
    sentences = []
    for name in run.get("binding", []):
        kind, _, ref = name.partition(":")
        if kind == "budget":
            sentences.append(
                f"The total budget of {money(run['portfolio']['budget'], currency)} is used up: "
                f"its shadow price is {formats.price(prices['budget'], prices['unit'])}."
            )
        elif kind == "department":
            dept = departments.get(ref, {"name": ref, "cap": None, "shadow_price": 0.0})
            sentences.append(
                f"The cap of {dept['name']} ({money(dept['cap'], currency)}) holds its spend "
                f"back: its shadow price is {formats.price(dept['shadow_price'], prices['unit'])}."
            )
        elif kind == "floor":
            sentences.append(
                f"The floor of {journey_names.get(ref, ref)} ({quality(floors.get(ref))}) "
                f"forces spend that would otherwise go where it creates more value: its shadow "
                f"price is {formats.price(prices['floors'].get(ref), prices['floor_unit'])}."
            )
        else:
            sentences.append(name)
    return sentences


# =========================================================================== compare


def run_label(
    summary: Json, scenario_names: Mapping[str, str], overrides: Json | None, currency: str
) -> str:
    """How a run is called in lists: its scenario (or what-if) and when it ran."""
    scenario = summary.get("scenario_id")
    if scenario:
        name = scenario_names.get(scenario, scenario)
    else:
        name = "As planned"
    if overrides:
        parts = []
        if "budget" in overrides:
            parts.append(f"budget {money(overrides['budget'], currency)}")
        if overrides.get("pooled"):
            parts.append("pooled")
        parts += [key for key in overrides if key not in ("budget", "pooled")]
        name = f"{name} + what-if ({', '.join(parts)})"
    return f"{name} · {when(summary['created_at'])}"


def default_pair(listing: Sequence[Json]) -> list[str]:
    """The two runs Compare shows first (reference first): the newest run and the newest
    before it with another input (another scenario, other overrides or an edited
    portfolio), never two runs of the same input; the two newest when all are alike."""
    newest = listing[0]
    other = next(
        (
            r
            for r in listing[1:]
            if (r.get("input_sha256"), r.get("scenario_id"))
            != (newest.get("input_sha256"), newest.get("scenario_id"))
        ),
        listing[1],
    )
    return [other["run_id"], newest["run_id"]]


def compare_summary(comparison: Json, labels: Sequence[str]) -> Any:
    """One row per run: value, spend, price of silos (money; `price_of_silos_weighted` is
    the priority-weighted twin) and the changes against the first run. The money figures
    of all runs share one step (`frame.attrs["step"]`) and a change is the difference of the
    rounded figures, so the changes shown add up with the figures shown."""
    runs = comparison["runs"]
    optimal = [run for run in runs if run["status"] == "optimal"]
    first = runs[0]
    step = formats.step_for(
        *(run[key] for run in optimal for key in ("value", "spend", "price_of_silos_value")),
        *(run[key] - first[key] for run in optimal[1:] for key in ("value", "spend")),
    )
    rows = []
    for label, run in zip(labels, runs, strict=True):
        value, spend = formats.rounded(run["value"], step), formats.rounded(run["spend"], step)
        rows.append(
            {
                "run": label,
                "status": run["status"],
                "mode": run["mode"],
                "budget": run["budget"],
                "value": value,
                "spend": spend,
                "value_change": value - formats.rounded(first["value"], step),
                "spend_change": spend - formats.rounded(first["spend"], step),
                "unallocated": run["unallocated"],
                "price_of_silos": formats.rounded(run["price_of_silos_value"], step),
                "price_of_silos_weighted": run["price_of_silos"],
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["step"] = step
    return frame


def compare_figures(comparison: Json, labels: Sequence[str]) -> Any:
    """Value, spend and price of silos (money) per run, in long form (for grouped bars)."""
    figures = {"value": "Value", "spend": "Spend", "price_of_silos_value": "Price of silos"}
    rows = [
        {"run": label, "figure": title, "amount": run[key]}
        for label, run in zip(labels, comparison["runs"], strict=True)
        for key, title in figures.items()
    ]
    return pd.DataFrame(rows, columns=["run", "figure", "amount"])


def compare_deltas(
    comparison: Json, labels: Sequence[str], section: str, field: str, *, at_least: float = 0.5
) -> Any:
    """Each item's change against the first run, for every other run (long form); items
    that change by less than `at_least` in every run are left out."""
    rows = []
    for item in comparison[section]:
        deltas = list(zip(labels, item.get(f"{field}_delta") or [], strict=False))[1:]
        if all(delta is None or abs(delta) < at_least for _, delta in deltas):
            continue
        for label, delta in deltas:
            if delta is not None:
                rows.append({"item": item["name"], "run": label, "delta": float(delta)})
    return pd.DataFrame(rows, columns=["item", "run", "delta"])


# =========================================================================== value bridge


def bridge_levels(bridge: Json) -> list[Json]:
    """The bridge's states in whole units of money: the start, each step, the end.

    Levels are the values rounded to whole units; a step's change is the difference of its
    level and the last feasible level before it, so every sentence and label built from them
    adds up at the precision shown (an infeasible step has no level and no change)."""
    start = bridge["from"]
    rows: list[Json] = [
        {
            "name": "from",
            "label": start["label"],
            "kind": "total",
            "status": start["status"],
            "level": _level(bridge["from_value"]),
            "change": None,
            "budget_change": None,
            "conflicts": start.get("conflicts") or [],
        }
    ]
    last = rows[0]["level"]
    for step in bridge["steps"]:
        level = _level(step["value"]) if step["status"] == "optimal" else None
        change = None if level is None or last is None else level - last
        rows.append(
            {
                "name": step["name"],
                "label": step["label"],
                "kind": "infeasible"
                if level is None
                else ("increase" if (change or 0) >= 0 else "decrease"),
                "status": step["status"],
                "level": level,
                "change": change,
                "budget_change": None
                if step.get("budget_change") is None
                else float(round(step["budget_change"])),
                "conflicts": step.get("conflicts") or [],
            }
        )
        if level is not None:
            last = level
    end = bridge["to"]
    rows.append(
        {
            "name": "to",
            "label": end["label"],
            "kind": "total",
            "status": end["status"],
            "level": _level(bridge["to_value"]),
            "change": None,
            "budget_change": None,
            "conflicts": end.get("conflicts") or [],
        }
    )
    return rows


def _level(value: float | None) -> float | None:
    return None if value is None else float(round(value))


def bridge_frame(bridge: Json, from_label: str, to_label: str) -> Any:
    """The bridge as waterfall bars: one row per bar, `low`..`high` its extent. The two ends
    stand on `floor` (a little below the lowest level: the axis does not start at zero)."""
    rows = bridge_levels(bridge)
    levels = [r["level"] for r in rows if r["level"] is not None]
    top, bottom = (max(levels), min(levels)) if levels else (0.0, 0.0)
    floor = bottom - max((top - bottom) * 0.25, abs(bottom) * 0.02, 1.0)
    out = []
    last = rows[0]["level"]
    for k, row in enumerate(rows):
        bar = f"{k}. {row['label']}" if 0 < k < len(rows) - 1 else row["label"]
        if row["name"] == "from":
            bar = f"From {from_label}"
        elif row["name"] == "to":
            bar = f"To {to_label}"
        if row["kind"] == "total":
            low, high = floor, row["level"]
            text = "infeasible" if row["level"] is None else f"{row['level']:,.0f}"
        elif row["kind"] == "infeasible":
            low = high = last
            text = "infeasible"
        else:
            low, high = last, row["level"]
            text = f"{row['change']:+,.0f}" if row["change"] is not None else ""
        out.append(
            {
                "bar": bar,
                "order": k,
                "kind": row["kind"],
                "low": low,
                "high": high,
                "change": row["change"],
                "level": row["level"],
                "text": text,
                "floor": floor,
                "top": top,
            }
        )
        if row["level"] is not None:
            last = row["level"]
    columns = ["bar", "order", "kind", "low", "high", "change", "level", "text", "floor", "top"]
    return pd.DataFrame(out, columns=columns)


def pooled_bridge_sentence(bridge: Json) -> str | None:
    """The Portfolio page's box: what pooling buys, then what the extra money alone buys,
    in whole units (every difference equals the figures it names); None unless all three
    states are feasible."""
    rows = bridge_levels(bridge)
    if len(rows) != 4 or any(r["level"] is None for r in rows):
        return None
    cur = bridge["currency"]
    start, pooling, money, end = rows

    def whole(x: float) -> str:
        return f"{x:,.0f} {cur}"

    def signed(x: float) -> str:
        return f"{x:+,.0f} {cur}" if round(x) else f"0 {cur}"

    extra = money["budget_change"] or 0.0
    ratio = money["change"] / extra if extra else 0.0
    budget = bridge["from"]["budget"]
    return (
        f"With today's department budgets the portfolio is worth {whole(start['level'])}. "
        f"**Pooling** the same {whole(budget)} (no department caps): "
        f"**{signed(pooling['change'])}** of value, worth {whole(pooling['level'])}. "
        f"**Then {signed(extra)} of budget** in the pool: **{signed(money['change'])}** of "
        f"value, worth {whole(end['level'])}: {ratio:.2f} {cur} of value per extra {cur}. "
        f"Together {signed(end['level'] - start['level'])}."
    )


def bridge_caption(bridge: Json) -> str:
    """Under the waterfall: the total as the sum of the steps (whole units, as the bars say),
    and what stands in the way where a step or an end is infeasible."""
    rows = bridge_levels(bridge)
    cur = bridge["currency"]
    start, end = rows[0], rows[-1]
    parts = []
    if start["level"] is not None and end["level"] is not None:
        steps = [r["change"] for r in rows[1:-1] if r["change"] is not None]
        parts.append(
            f"{start['level']:,.0f} {cur} to {end['level']:,.0f} {cur}: "
            f"{end['level'] - start['level']:+,.0f} {cur} in total, the sum of the "
            f"{len(steps)} step(s)."
            if steps
            else f"{start['level']:,.0f} {cur} at both ends: no group of settings differs."
        )
    for row in rows:
        if row["status"] != "optimal":
            why = "; ".join(row.get("conflicts") or []) or "see the run"
            parts.append(f"{row['label']} is infeasible: {why}.")
    for row in rows[1:-1]:
        if row["budget_change"]:
            if row["change"] is not None:
                ratio = row["change"] / row["budget_change"]
                parts.append(
                    f"Budget {row['budget_change']:+,.0f} {cur}: {row['change']:+,.0f} {cur} of "
                    f"value, {ratio:.2f} {cur} per extra {cur}."
                )
    return " ".join(parts)


# =========================================================================== spreadsheet tables


def _cell_text(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table_changes(preview: Json) -> pd.DataFrame:
    """A dry run of spreadsheet tables (PUT .../tables?dry_run=true) as one row per added,
    changed or removed row: table, change, row (its key), what changes (old -> new)."""
    rows = []
    for table in preview.get("tables", []):
        name = table["table"]
        rows += [(name, "added", key, "") for key in table["added"]]
        for change in table["changed"]:
            fields = "; ".join(
                f"{f['column']}: {_cell_text(f['old'])} → {_cell_text(f['new'])}"
                for f in change["fields"]
            )
            rows.append((name, "changed", change["key"], fields))
        rows += [(name, "removed", key, "") for key in table["removed"]]
    return pd.DataFrame(rows, columns=["table", "change", "row", "what changes"])
