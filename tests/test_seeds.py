"""The demo portfolios in seeds/: valid, complete, and together they use every feature."""

import re
from pathlib import Path

import pytest

from optimizer.document import PortfolioDocument, load_document

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.yaml"))


def _load(name: str) -> PortfolioDocument:
    return load_document(SEEDS / name)


@pytest.fixture(scope="module")
def seeds() -> dict[str, PortfolioDocument]:
    return {path.name: load_document(path) for path in SEED_FILES}


def test_the_three_demo_portfolios_are_there() -> None:
    assert {p.name for p in SEED_FILES} >= {
        "sonnenreisen-2027.yaml",
        "finanzhaus-2027.yaml",
        "maschinenbau-2027.yaml",
    }


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_validates_and_id_matches_file_name(path: Path) -> None:
    doc = load_document(path)
    assert doc.id == path.stem


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_states_its_assumptions_in_a_top_comment(path: Path) -> None:
    head = path.read_text(encoding="utf-8").split("\nformat:", 1)[0]
    comment = [line for line in head.splitlines() if line.startswith("#")]
    assert len(comment) >= 15, "a comment block on what the numbers mean comes first"
    text = " ".join(comment).lower()
    for topic in ("value", "curve", "budget", "quality"):
        assert topic in text


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_numbers_are_coherent(path: Path) -> None:
    doc = load_document(path)
    current = sum(t.current_spend for t in doc.touchpoints)
    # The budget is about today's spend: the question is where the money goes, not how much.
    assert 0.95 * doc.budget <= current <= 1.05 * doc.budget
    for tp in doc.touchpoints:
        assert tp.min_spend <= tp.current_spend <= tp.max_spend, tp.id
    # Every demo touchpoint matters: it serves a journey, or one that does requires it
    # (product data behind the configurator serves no journey of its own).
    useful = {link.touchpoint for j in doc.journeys for link in j.touchpoints}
    grown = True
    while grown:
        before = len(useful)
        useful |= {d.requires for d in doc.dependencies if d.touchpoint in useful}
        grown = len(useful) > before
    assert useful == {t.id for t in doc.touchpoints}
    owners = {j.owner for j in doc.journeys}
    assert None not in owners
    (domain,) = {owner.split("@")[1] for owner in owners if owner}
    assert domain.endswith(".example")
    for journey in doc.journeys:
        assert journey.stages, journey.id
        assert all(link.stage in journey.stages for link in journey.touchpoints), journey.id
    # Value at perfect experience is several times the budget, or money could not pay back.
    assert sum(j.value for j in doc.journeys) > 4 * doc.budget


def test_travel_portfolio_has_what_the_issue_asks_for() -> None:
    doc = _load("sonnenreisen-2027.yaml")
    assert doc.name == "Sonnenreisen 2027"
    assert doc.currency == "EUR"
    assert {p.id for p in doc.personas} == {"family", "kite", "senior"}
    touchpoints = {t.id for t in doc.touchpoints}
    assert touchpoints >= {
        "search-ads",
        "comparison-portals",
        "web-booking",
        "app",
        "hotline",
        "travel-documents",
        "local-rep",
        "review-request",
        "video-content",
        "qr-tutorials",
        "newsletter",
        "print-catalogue",
    }
    assert {"qr-tutorials": "video-content"}.items() <= {
        d.touchpoint: d.requires for d in doc.dependencies
    }.items()
    departments = {d.id for d in doc.departments}
    assert departments >= {"marketing", "sales", "service"}
    capped = [d for d in doc.departments if d.budget is not None]
    assert len(doc.departments) > len(capped) >= len(doc.departments) / 2
    names = " ".join(j.name.lower() for j in doc.journeys)
    for phrase in ("family books", "kite surfer", "senior books by phone", "problem"):
        assert phrase in names
    for journey in doc.journeys:
        assert re.fullmatch(r"[a-z.]+@sonnenreisen\.example", journey.owner or ""), journey.id
    assert {j.persona for j in doc.journeys} == {"family", "kite", "senior"}
    assert any(link.critical for j in doc.journeys for link in j.touchpoints)
    assert any(link.emotion is not None for j in doc.journeys for link in j.touchpoints)
    assert {j.lifecycle for j in doc.journeys} == {"idea", "active", "sunset"}
    assert any(j.floor is not None for j in doc.journeys)
    assert any(j.priority != 1 for j in doc.journeys)
    kinds = {"points" if t.curve.points else "saturating" for t in doc.touchpoints}
    assert kinds == {"points", "saturating"}
    assert any(k.actuals and k.target is not None for j in doc.journeys for k in j.kpis)
    assert any(t.pain_points for t in doc.touchpoints)


def test_travel_scenarios() -> None:
    doc = _load("sonnenreisen-2027.yaml")
    scenarios = doc.scenarios
    assert any(s.pooled and s.budget is None and s.mode == "max_value" for s in scenarios)
    assert any(s.pooled and s.budget == pytest.approx(1.1 * doc.budget) for s in scenarios)
    assert any(s.locks and s.exclude for s in scenarios)
    floors = {j.id: j.floor or 0.0 for j in doc.journeys}
    assert any(
        s.floors and all((f or 0) > floors[j] for j, f in s.floors.items()) for s in scenarios
    ), "a scenario raises floors"
    every_journey = [
        s
        for s in scenarios
        if s.mode == "min_spend" and s.floors == {j.id: 0.6 for j in doc.journeys}
    ]
    assert every_journey, "a min_spend scenario brings every journey to 0.6"


def test_finance_portfolio_covers_its_journeys() -> None:
    doc = _load("finanzhaus-2027.yaml")
    assert {p.id for p in doc.personas} == {"private", "business", "affluent"}
    names = " ".join(j.name.lower() for j in doc.journeys)
    for phrase in ("opens a current account", "loan", "advice", "complains"):
        assert phrase in names
    assert {j.persona for j in doc.journeys} == {"private", "business", "affluent"}


def test_manufacturer_portfolio_covers_its_touchpoints() -> None:
    doc = _load("maschinenbau-2027.yaml")
    names = " ".join(t.name.lower() for t in doc.touchpoints)
    for phrase in ("trade fair", "field sales", "configurator", "delivery", "service technicians"):
        assert phrase in names


def test_every_format_feature_is_used_somewhere(seeds: dict[str, PortfolioDocument]) -> None:
    docs = list(seeds.values())
    journeys = [j for d in docs for j in d.journeys]
    links = [link for j in journeys for link in j.touchpoints]
    touchpoints = [t for d in docs for t in d.touchpoints]
    scenarios = [s for d in docs for s in d.scenarios]
    used = {
        "critical links": any(link.critical for link in links),
        "emotion scores": any(link.emotion is not None for link in links),
        "link weights other than 1": any(link.weight != 1 for link in links),
        "dependencies": any(d.dependencies for d in docs),
        "dependency chains": any(
            {dep.requires for dep in d.dependencies} & {dep.touchpoint for dep in d.dependencies}
            for d in docs
        ),
        "journey floors": any(j.floor is not None for j in journeys),
        "journey priorities": any(j.priority != 1 for j in journeys),
        "lifecycles": {j.lifecycle for j in journeys} == {"idea", "active", "sunset"},
        "kpis with target and actuals": any(
            k.target is not None and k.actuals for j in journeys for k in j.kpis
        ),
        "kpis where lower is better": any(not k.higher_is_better for j in journeys for k in j.kpis),
        "pain points": any(t.pain_points for t in touchpoints),
        "feedback notes": any(t.feedback for t in touchpoints),
        "min_spend > 0": any(t.min_spend > 0 for t in touchpoints),
        "points curves": any(t.curve.points for t in touchpoints),
        "saturating curves": any(t.curve.saturating for t in touchpoints),
        "observations": any(t.observations and t.observations.rows for t in touchpoints),
        "observations on a KPI's scale": any(
            t.observations and t.observations.outcome_at_0 is not None for t in touchpoints
        ),
        "capped departments": any(dep.budget is not None for d in docs for dep in d.departments),
        "uncapped departments": any(dep.budget is None for d in docs for dep in d.departments),
        "pooled scenarios": any(s.pooled for s in scenarios),
        "departmental scenarios": any(not s.pooled for s in scenarios),
        "mode max_value": any(s.mode == "max_value" for s in scenarios),
        "mode max_net_value": any(s.mode == "max_net_value" for s in scenarios),
        "mode min_spend": any(s.mode == "min_spend" for s in scenarios),
        "departmental min_spend": any(s.mode == "min_spend" and not s.pooled for s in scenarios),
        "scenario budgets": any(s.budget is not None for s in scenarios),
        "scenario priorities": any(s.priorities for s in scenarios),
        "scenario floors": any(s.floors for s in scenarios),
        "a scenario lifting a floor": any(None in s.floors.values() for s in scenarios),
        "locks": any(s.locks for s in scenarios),
        "excludes": any(s.exclude for s in scenarios),
        "department cap overrides": any(s.departments for s in scenarios),
        "journey descriptions": any(j.description for j in journeys),
        "scenario descriptions": any(s.description for s in scenarios),
    }
    missing = [feature for feature, ok in used.items() if not ok]
    assert not missing, f"no seed uses: {', '.join(missing)}"


def _scenario_ids(path: Path) -> list[str | None]:
    return [None, *(s.id for s in load_document(path).scenarios)]


SEED_SCENARIOS = [(path, sid) for path in SEED_FILES for sid in _scenario_ids(path)]


@pytest.mark.parametrize(
    ("path", "scenario"), SEED_SCENARIOS, ids=[f"{p.stem}:{s}" for p, s in SEED_SCENARIOS]
)
def test_every_seed_scenario_optimizes_and_beats_the_silo(path: Path, scenario: str | None) -> None:
    from optimizer.problem import resolve
    from optimizer.solve import solve

    doc = load_document(path)
    problem = resolve(doc, scenario)
    result = solve(problem)
    if scenario == "higher-floors-departmental":
        # deliberately infeasible: floors the destination cap cannot pay for
        assert result.status == "infeasible"
        assert result.conflicts
        assert all(c.shortfall > 0 for c in result.conflicts)
        return
    assert result.status == "optimal"
    assert result.solver.approximation_gap <= 1e-3
    if problem.mode == "min_spend":
        # the least money that meets every floor: never above what silos spend for less
        assert result.portfolio.spend <= problem.budget or not result.baselines.silo.feasible
        return
    assert result.price_of_silos > 0.01 * result.portfolio.weighted_value
    if result.baselines.current.feasible:
        assert result.portfolio.weighted_value >= result.baselines.current.weighted_value
