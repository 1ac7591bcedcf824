"""Compact builders for portfolio documents (plain dicts, as the format has them)."""

from collections.abc import Iterable, Sequence
from typing import Any

from optimizer.document import validate_document
from optimizer.problem import PortfolioProblem, resolve


def points(*pts: tuple[float, float]) -> dict[str, Any]:
    return {"points": [[float(s), float(q)] for s, q in pts]}


def saturating(base: float, top: float, half_spend: float) -> dict[str, Any]:
    return {"saturating": {"base": base, "max": top, "half_spend": half_spend}}


def touchpoint(
    id: str,
    curve: dict[str, Any],
    max_spend: float,
    *,
    department: str = "ops",
    current: float = 0.0,
    min_spend: float = 0.0,
) -> dict[str, Any]:
    return {
        "id": id,
        "name": id.title(),
        "department": department,
        "channel": "web",
        "current_spend": float(current),
        "min_spend": float(min_spend),
        "max_spend": float(max_spend),
        "curve": curve,
    }


def journey(
    id: str,
    value: float,
    links: Sequence[tuple[str, float] | tuple[str, float, bool]],
    *,
    priority: float = 1.0,
    floor: float | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": id,
        "name": id.title(),
        "persona": "persona",
        "value": float(value),
        "priority": float(priority),
        "touchpoints": [
            {
                "touchpoint": link[0],
                "weight": float(link[1]),
                "critical": bool(link[2:] and link[2]),
            }
            for link in links
        ],
    }
    if floor is not None:
        data["floor"] = float(floor)
    return data


def portfolio(
    *,
    budget: float,
    touchpoints: Iterable[dict[str, Any]],
    journeys: Iterable[dict[str, Any]],
    departments: dict[str, float | None] | None = None,
    dependencies: Iterable[tuple[str, str]] = (),
    scenarios: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A valid document; `departments` maps id -> cap (None: no cap), default one 'ops'."""
    departments = {"ops": None} if departments is None else departments
    return {
        "format": "journeyfolio/v1",
        "id": "test",
        "name": "Test portfolio",
        "budget": float(budget),
        "departments": [
            {"id": d, "name": d.title()} | ({} if cap is None else {"budget": float(cap)})
            for d, cap in departments.items()
        ],
        "personas": [{"id": "persona", "name": "Persona"}],
        "touchpoints": list(touchpoints),
        "dependencies": [{"touchpoint": t, "requires": u} for t, u in dependencies],
        "journeys": list(journeys),
        "scenarios": list(scenarios),
    }


def problem_of(
    data: dict[str, Any], scenario_id: str | None = None, **kwargs: Any
) -> PortfolioProblem:
    """Validate a document and resolve a scenario (kwargs: mode, budget, pooled)."""
    return resolve(validate_document(data), scenario_id, **kwargs)
