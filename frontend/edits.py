"""The edit forms' tables, and what people typed turned back into the API's requests.

Pure functions (no Streamlit, no HTTP). A table cell left empty means "not set": the functions
drop it rather than send a null the API would read as "remove". What the API checks (a weight
> 0, a stage the journey has, a lock within a touchpoint's spends...) is left to the API,
whose answer names the field; only what cannot be sent at all is refused here, with an
`EditError` that says which row.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from slugify import slugify

from frontend.formats import money

Json = dict[str, Any]

LIFECYCLES = ("idea", "active", "sunset")
MODES = {
    "max_value": "Maximize value",
    "max_net_value": "Maximize value minus spend",
    "min_spend": "Minimize spend that meets every floor",
}


class EditError(ValueError):
    """What was typed cannot become a request (the message names the row)."""


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _number(value: Any) -> float | None:
    return None if _blank(value) else float(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dict("records")


# =========================================================================== journeys


def link_rows(journey: Json) -> Any:
    """The journey's links as the editor shows them (in journey order)."""
    rows = [
        {
            "touchpoint": link["touchpoint"],
            "stage": link.get("stage"),
            "weight": float(link.get("weight", 1.0)),
            "critical": bool(link.get("critical", False)),
            "emotion": link.get("emotion"),
        }
        for link in journey["touchpoints"]
    ]
    frame = pd.DataFrame(rows, columns=["touchpoint", "stage", "weight", "critical", "emotion"])
    return frame.astype({"weight": "float64", "emotion": "float64", "critical": "bool"})


def kpi_rows(journey: Json) -> tuple[Any, Any]:
    """The KPIs (name, unit, target, direction) and their actuals (KPI, period, value)."""
    kpis = [
        {
            "name": kpi["name"],
            "unit": kpi.get("unit", ""),
            "target": kpi.get("target"),
            "higher_is_better": bool(kpi.get("higher_is_better", True)),
        }
        for kpi in journey.get("kpis", [])
    ]
    actuals = [
        {"kpi": kpi["name"], "period": str(actual["period"]), "value": float(actual["value"])}
        for kpi in journey.get("kpis", [])
        for actual in kpi.get("actuals", [])
    ]
    return (
        pd.DataFrame(kpis, columns=["name", "unit", "target", "higher_is_better"]).astype(
            {"target": "float64", "higher_is_better": "bool"}
        ),
        pd.DataFrame(actuals, columns=["kpi", "period", "value"]).astype({"value": "float64"}),
    )


def journey_changes(
    journey: Json,
    *,
    lifecycle: str,
    stages: str,
    links: Any,
    kpis: Any,
    actuals: Any,
) -> Json:
    """The PATCH body for what changed in the journey editor (empty when nothing did)."""
    new: Json = {"lifecycle": lifecycle}
    new["stages"] = [part.strip() for part in stages.split(",") if part.strip()]

    new_links = []
    for number, row in enumerate(_records(links), start=1):
        if _blank(row.get("touchpoint")):
            if all(_blank(row.get(key)) for key in ("stage", "weight", "emotion")):
                continue  # an empty row the editor added
            raise EditError(f"touchpoint link {number}: choose the touchpoint")
        link: Json = {"touchpoint": row["touchpoint"]}
        if not _blank(row.get("stage")):
            link["stage"] = str(row["stage"])
        weight = _number(row.get("weight"))
        link["weight"] = 1.0 if weight is None else weight
        link["critical"] = bool(row.get("critical")) if not _blank(row.get("critical")) else False
        emotion = _number(row.get("emotion"))
        if emotion is not None:
            link["emotion"] = emotion
        new_links.append(link)
    if not new_links:
        raise EditError("a journey needs at least one touchpoint link")
    new["touchpoints"] = new_links

    by_name: dict[str, Json] = {}
    new_kpis = []
    for number, row in enumerate(_records(kpis), start=1):
        if _blank(row.get("name")):
            if _blank(row.get("unit")) and _blank(row.get("target")):
                continue
            raise EditError(f"KPI {number}: give it a name")
        kpi: Json = {
            "name": str(row["name"]).strip(),
            "unit": "" if _blank(row.get("unit")) else str(row["unit"]),
            "higher_is_better": True
            if _blank(row.get("higher_is_better"))
            else bool(row["higher_is_better"]),
            "actuals": [],
        }
        target = _number(row.get("target"))
        if target is not None:
            kpi["target"] = target
        if kpi["name"] in by_name:
            raise EditError(f"KPI {number}: the name '{kpi['name']}' is used twice")
        by_name[kpi["name"]] = kpi
        new_kpis.append(kpi)
    for number, row in enumerate(_records(actuals), start=1):
        if all(_blank(row.get(key)) for key in ("kpi", "period", "value")):
            continue
        name = "" if _blank(row.get("kpi")) else str(row["kpi"]).strip()
        if name not in by_name:
            raise EditError(f"actual {number}: '{name}' is not one of the KPIs above")
        if _blank(row.get("period")) or _blank(row.get("value")):
            raise EditError(f"actual {number}: give both the period and the value")
        by_name[name]["actuals"].append({"period": str(row["period"]), "value": row["value"]})
    new["kpis"] = new_kpis

    old = {
        "lifecycle": journey.get("lifecycle", "active"),
        "stages": list(journey.get("stages") or []),
        "touchpoints": [_normal_link(link) for link in journey["touchpoints"]],
        "kpis": [_normal_kpi(kpi) for kpi in journey.get("kpis", [])],
    }
    compare = {
        **new,
        "touchpoints": [_normal_link(link) for link in new["touchpoints"]],
        "kpis": [_normal_kpi(kpi) for kpi in new["kpis"]],
    }
    return {key: new[key] for key in new if compare[key] != old[key]}


def _normal_link(link: Json) -> Json:
    return {
        "touchpoint": link["touchpoint"],
        "stage": link.get("stage"),
        "weight": float(link.get("weight", 1.0)),
        "critical": bool(link.get("critical", False)),
        "emotion": None if link.get("emotion") is None else float(link["emotion"]),
    }


def _normal_kpi(kpi: Json) -> Json:
    return {
        "name": kpi["name"],
        "unit": kpi.get("unit", ""),
        "target": None if kpi.get("target") is None else float(kpi["target"]),
        "higher_is_better": bool(kpi.get("higher_is_better", True)),
        "actuals": [(str(a["period"]), float(a["value"])) for a in kpi.get("actuals", [])],
    }


# =========================================================================== scenarios


# German umlauts the German way (Unidecode alone would write "Grossere", "fur")
GERMAN = [
    ("Ä", "Ae"),
    ("Ö", "Oe"),
    ("Ü", "Ue"),
    ("ä", "ae"),
    ("ö", "oe"),
    ("ü", "ue"),
    ("ẞ", "SS"),
    ("ß", "ss"),
]


def slug(name: str, taken: Sequence[str]) -> str:
    """An id for a new scenario from its name, unused in the portfolio (made once, when the
    scenario is created, and never changed after)."""
    base = slugify(name, max_length=56, replacements=GERMAN) or "scenario"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def journey_overrides(scenario: Json, journeys: Sequence[Json]) -> Any:
    """Per journey: its portfolio priority and floor, and the scenario's overrides of them."""
    priorities = scenario.get("priorities") or {}
    floors = scenario.get("floors") or {}
    rows = [
        {
            "id": journey["id"],
            "journey": journey["name"],
            "planned_priority": float(journey.get("priority", 1.0)),
            "priority": priorities.get(journey["id"]),
            "planned_floor": journey.get("floor"),
            "floor": floors.get(journey["id"]),
            "no_floor": journey["id"] in floors and floors[journey["id"]] is None,
        }
        for journey in journeys
    ]
    columns = [
        "id",
        "journey",
        "planned_priority",
        "priority",
        "planned_floor",
        "floor",
        "no_floor",
    ]
    return pd.DataFrame(rows, columns=columns).astype(
        {"priority": "float64", "planned_floor": "float64", "floor": "float64", "no_floor": "bool"}
    )


def touchpoint_overrides(
    scenario: Json, touchpoints: Sequence[Json], departments: Sequence[Json] = ()
) -> Any:
    """Per touchpoint: its department (by name), its spends, and whether the scenario locks
    or excludes it."""
    department = {d["id"]: d.get("name") or d["id"] for d in departments}
    locks = scenario.get("locks") or {}
    exclude = set(scenario.get("exclude") or [])
    rows = [
        {
            "id": tp["id"],
            "touchpoint": tp["name"],
            "department": department.get(tp["department"], tp["department"]),
            "current_spend": float(tp["current_spend"]),
            "lock": locks.get(tp["id"]),
            "exclude": tp["id"] in exclude,
        }
        for tp in touchpoints
    ]
    columns = ["id", "touchpoint", "department", "current_spend", "lock", "exclude"]
    return pd.DataFrame(rows, columns=columns).astype({"lock": "float64", "exclude": "bool"})


def department_overrides(scenario: Json, departments: Sequence[Json]) -> Any:
    """Per department: its planned cap and the scenario's override of it."""
    caps = scenario.get("departments") or {}
    rows = [
        {
            "id": dept["id"],
            "department": dept["name"],
            "planned_cap": dept.get("budget"),
            "cap": caps.get(dept["id"]),
            "no_cap": dept["id"] in caps and caps[dept["id"]] is None,
        }
        for dept in departments
    ]
    columns = ["id", "department", "planned_cap", "cap", "no_cap"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"planned_cap": "float64", "cap": "float64", "no_cap": "bool"}
    )


def scenario_data(
    *,
    name: str,
    description: str,
    budget: float | None,
    pooled: bool,
    mode: str,
    journeys: Any,
    touchpoints: Any,
    departments: Any,
    launch: Sequence[str] = (),
) -> Json:
    """The scenario as the API takes it (every field: a PATCH with it replaces them all)."""
    if not name.strip():
        raise EditError("give the scenario a name")
    priorities: dict[str, float] = {}
    floors: dict[str, float | None] = {}
    for row in _records(journeys):
        priority = _number(row.get("priority"))
        if priority is not None:
            priorities[row["id"]] = priority
        if not _blank(row.get("no_floor")) and bool(row["no_floor"]):
            floors[row["id"]] = None
        else:
            floor = _number(row.get("floor"))
            if floor is not None:
                floors[row["id"]] = floor
    locks: dict[str, float] = {}
    exclude: list[str] = []
    for row in _records(touchpoints):
        excluded = not _blank(row.get("exclude")) and bool(row["exclude"])
        lock = _number(row.get("lock"))
        if excluded and lock is not None:
            raise EditError(f"{row['touchpoint']}: lock it or exclude it, not both")
        if excluded:
            exclude.append(row["id"])
        elif lock is not None:
            locks[row["id"]] = lock
    caps: dict[str, float | None] = {}
    for row in _records(departments):
        if not _blank(row.get("no_cap")) and bool(row["no_cap"]):
            caps[row["id"]] = None
        else:
            cap = _number(row.get("cap"))
            if cap is not None:
                caps[row["id"]] = cap
    return {
        "name": name.strip(),
        "description": description.strip() or None,
        "budget": budget,
        "pooled": pooled,
        "mode": mode,
        "priorities": priorities,
        "floors": floors,
        "locks": locks,
        "exclude": exclude,
        "departments": caps,
        "launch": list(launch),
    }


def scenario_summary(scenario: Json, currency: str, names: Mapping[str, str]) -> list[str]:
    """What a scenario changes against the plan, one short line each."""
    lines = []
    if scenario.get("budget") is not None:
        lines.append(f"budget {money(scenario['budget'], currency)}")
    lines.append(
        "one pooled budget (department caps ignored)"
        if scenario.get("pooled")
        else ("department caps apply")
    )
    mode = scenario.get("mode", "max_value")
    lines.append(MODES.get(mode, str(mode)).lower())
    for key, label in (("priorities", "priority"), ("floors", "floor")):
        for ref, value in (scenario.get(key) or {}).items():
            shown = "none" if value is None else f"{value:g}"
            lines.append(f"{label} of {names.get(ref, ref)}: {shown}")
    for ref, value in (scenario.get("locks") or {}).items():
        lines.append(f"{names.get(ref, ref)} locked at {money(value, currency)}")
    for ref in scenario.get("exclude") or []:
        lines.append(f"{names.get(ref, ref)} excluded (minimum spend only)")
    for ref in scenario.get("launch") or []:
        lines.append(f"idea {names.get(ref, ref)} launched (it claims budget)")
    for ref, value in (scenario.get("departments") or {}).items():
        shown = "no cap" if value is None else f"cap {money(value, currency)}"
        lines.append(f"{names.get(ref, ref)}: {shown}")
    return lines
