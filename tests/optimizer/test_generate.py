"""Synthetic portfolios: valid at every size, deterministic, shaped like real ones."""

import itertools
import json
import random
import statistics
from collections import Counter
from typing import Any

import pytest

from optimizer.document import DEFAULT_LIMITS, find_cycle, load_document, validate_document
from optimizer.generate import curve_quality, generate_document, write_document

SIZES = [(3, 1), (10, 5), (60, 25), (500, 200), (5000, 2000)]


def _serves(data: dict[str, Any]) -> Counter[str]:
    """How many journeys each touchpoint serves (touchpoints serving none are absent)."""
    return Counter(link["touchpoint"] for j in data["journeys"] for link in j["touchpoints"])


@pytest.fixture(scope="module")
def medium() -> dict[str, Any]:
    return generate_document(500, 200, seed=7)


@pytest.mark.parametrize(("touchpoints", "journeys"), SIZES)
def test_documents_validate_with_the_requested_counts(touchpoints: int, journeys: int) -> None:
    data = generate_document(touchpoints, journeys, seed=1)
    doc = validate_document(data)
    assert len(doc.touchpoints) == touchpoints
    assert len(doc.journeys) == journeys
    assert all(3 <= len(j.touchpoints) <= 15 for j in doc.journeys)
    assert 6 <= len(doc.departments) <= 12
    assert any(d.budget is None for d in doc.departments)
    assert any(d.budget is not None for d in doc.departments)
    assert len(doc.scenarios) >= 2
    assert {t.department for t in doc.touchpoints} <= {d.id for d in doc.departments}


def test_department_count_grows_with_size() -> None:
    counts = [len(generate_document(tp, 10, seed=1)["departments"]) for tp in (20, 500, 5000)]
    assert counts == sorted(counts)
    assert counts[0] == 6
    assert counts[-1] == 12


@pytest.mark.slow
def test_largest_size_is_within_limits() -> None:
    # its speed is a benchmark's business (tests/benchmarks), not a timed unit test's
    data = generate_document(20_000, 10_000, seed=3)
    links = sum(len(j["touchpoints"]) for j in data["journeys"])
    assert links <= DEFAULT_LIMITS.links
    doc = validate_document(data)
    assert len(doc.touchpoints) == 20_000
    assert len(doc.journeys) == 10_000


def test_same_seed_gives_byte_identical_files(tmp_path: Any) -> None:
    for suffix in (".json", ".yaml"):
        first = write_document(generate_document(120, 50, seed=42), tmp_path / f"a{suffix}")
        # Global random state must not leak in.
        random.seed(999)
        random.random()
        second = write_document(generate_document(120, 50, seed=42), tmp_path / f"b{suffix}")
        assert first.read_bytes() == second.read_bytes()


def test_different_seeds_give_different_documents() -> None:
    a, b = generate_document(120, 50, seed=1), generate_document(120, 50, seed=2)
    assert a != b
    assert [t["current_spend"] for t in a["touchpoints"]] != [
        t["current_spend"] for t in b["touchpoints"]
    ]
    assert [len(j["touchpoints"]) for j in a["journeys"]] != [
        len(j["touchpoints"]) for j in b["journeys"]
    ]


def test_dependencies_point_downwards_and_form_no_cycle(medium: dict[str, Any]) -> None:
    index = {t["id"]: i for i, t in enumerate(medium["touchpoints"])}
    deps = medium["dependencies"]
    assert len(deps) >= 5
    assert all(index[d["touchpoint"]] > index[d["requires"]] for d in deps)
    edges: dict[str, list[str]] = {}
    for d in deps:
        edges.setdefault(d["touchpoint"], []).append(d["requires"])
    assert find_cycle(edges) is None
    assert len({(d["touchpoint"], d["requires"]) for d in deps}) == len(deps)


def test_some_touchpoints_are_shared_by_many_journeys_and_some_by_none(
    medium: dict[str, Any],
) -> None:
    serves = _serves(medium)
    counts = sorted(serves.values(), reverse=True)
    # A few touchpoints (the website, the hotline) are in a large share of the journeys ...
    assert counts[0] >= 0.25 * len(medium["journeys"])
    assert counts[4] >= 10 * statistics.median(counts)
    # ... and legacy ones in none.
    unused = len(medium["touchpoints"]) - len(serves)
    assert unused >= 0.05 * len(medium["touchpoints"])


def test_links_are_varied(medium: dict[str, Any]) -> None:
    links = [link for j in medium["journeys"] for link in j["touchpoints"]]
    critical = [link for link in links if link.get("critical")]
    assert 0.03 * len(links) < len(critical) < 0.3 * len(links)
    assert all(
        sum(1 for x in j["touchpoints"] if x.get("critical")) <= 3 for j in medium["journeys"]
    )
    assert len({link["weight"] for link in links}) > 1
    assert any("emotion" in link for link in links)
    sizes = Counter(len(j["touchpoints"]) for j in medium["journeys"])
    assert min(sizes) == 3
    assert max(sizes) > 10


def test_curves_are_mixed_and_concave(medium: dict[str, Any]) -> None:
    kinds = Counter(next(iter(t["curve"])) for t in medium["touchpoints"])
    assert set(kinds) == {"points", "saturating"}
    assert 0.3 < kinds["points"] / len(medium["touchpoints"]) < 0.7
    for tp in medium["touchpoints"]:
        points = tp["curve"].get("points")
        if points is None:
            continue
        assert points[0][0] == 0
        assert points[-1][0] == tp["max_spend"]
        slopes = [(q1 - q0) / (s1 - s0) for (s0, q0), (s1, q1) in itertools.pairwise(points)]
        assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(slopes)), tp["id"]


def test_budget_is_about_current_spend(medium: dict[str, Any]) -> None:
    current = sum(t["current_spend"] for t in medium["touchpoints"])
    assert current <= medium["budget"] <= 1.1 * current
    values = sum(j["value"] for j in medium["journeys"])
    assert values > 5 * medium["budget"]


def _experiences(data: dict[str, Any], spend: dict[str, float]) -> dict[str, float]:
    """E_j on the true curves with dependency caps, computed independently of the generator's
    own bookkeeping (which evaluates in index order)."""
    tps = {t["id"]: t for t in data["touchpoints"]}
    requires: dict[str, list[str]] = {}
    for d in data["dependencies"]:
        requires.setdefault(d["touchpoint"], []).append(d["requires"])
    effective: dict[str, float] = {}

    def quality(tid: str) -> float:
        if tid not in effective:
            own = curve_quality(tps[tid]["curve"], spend[tid])
            effective[tid] = min([own, *(quality(u) for u in requires.get(tid, ()))])
        return effective[tid]

    out = {}
    for j in data["journeys"]:
        total = sum(link["weight"] for link in j["touchpoints"])
        average = sum(link["weight"] * quality(link["touchpoint"]) for link in j["touchpoints"])
        weakest = [quality(link["touchpoint"]) for link in j["touchpoints"] if link.get("critical")]
        out[j["id"]] = min([average / total, *weakest])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_every_scenario_has_a_feasible_allocation(seed: int) -> None:
    """A witness allocation satisfies every constraint of every scenario: today's spend
    (cut to the caps when they apply), with locks and excludes applied."""
    data = generate_document(80, 40, seed=seed)
    doc = validate_document(data)
    tps = {t["id"]: t for t in data["touchpoints"]}
    caps = {d["id"]: d.get("budget") for d in data["departments"]}
    scenarios: list[dict[str, Any]] = [{"id": "as-planned"}, *data["scenarios"]]
    assert {s["id"] for s in scenarios} >= {"pooled", "pooled-plus-10"}
    for scenario in scenarios:
        spend = {tid: float(t["current_spend"]) for tid, t in tps.items()}
        if not scenario.get("pooled"):
            for dept, cap in caps.items():
                members = [tid for tid, t in tps.items() if t["department"] == dept]
                total = sum(spend[tid] for tid in members)
                if cap is not None and total > cap:
                    for tid in members:
                        spend[tid] *= cap / total
                assert cap is None or sum(spend[tid] for tid in members) <= cap + 1e-6
        spend.update(scenario.get("locks", {}))
        for tid in scenario.get("exclude", []):
            spend[tid] = tps[tid].get("min_spend", 0)
        for tid, t in tps.items():
            assert t.get("min_spend", 0) <= spend[tid] <= t["max_spend"], (scenario["id"], tid)
        if scenario.get("mode") != "min_spend":
            assert sum(spend.values()) <= scenario.get("budget", data["budget"]) + 1e-6
        floors = {j.id: j.floor for j in doc.journeys} | scenario.get("floors", {})
        experience = _experiences(data, spend)
        for jid, floor in floors.items():
            if floor is not None:
                assert experience[jid] >= floor, (scenario["id"], jid)


def test_scenarios_use_the_modes_and_overrides(medium: dict[str, Any]) -> None:
    by_id = {s["id"]: s for s in medium["scenarios"]}
    assert by_id["pooled-plus-10"]["budget"] == pytest.approx(1.1 * medium["budget"], rel=1e-3)
    assert by_id["lock-and-exclude"]["locks"]
    excluded = by_id["lock-and-exclude"]["exclude"]
    assert excluded
    assert by_id["min-spend-top-journeys"]["mode"] == "min_spend"
    assert len(by_id["min-spend-top-journeys"]["floors"]) == 3


def test_write_document_round_trips_as_yaml_and_json(tmp_path: Any) -> None:
    data = generate_document(40, 15, seed=5)
    expected = validate_document(data)
    for name in ("p.yaml", "p.yml", "p.json"):
        path = write_document(data, tmp_path / name)
        assert load_document(path) == expected
    assert json.loads((tmp_path / "p.json").read_text()) == data


def test_write_document_rejects_other_suffixes(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match=r"\.toml"):
        write_document(generate_document(5, 2, seed=1), tmp_path / "p.toml")
    assert not (tmp_path / "p.toml").exists()


@pytest.mark.parametrize(("touchpoints", "journeys"), [(0, 0), (2, 1), (5, -1)])
def test_impossible_counts_are_refused(touchpoints: int, journeys: int) -> None:
    with pytest.raises(ValueError, match="touchpoint"):
        generate_document(touchpoints, journeys, seed=1)


def test_no_journeys_is_a_valid_portfolio() -> None:
    doc = validate_document(generate_document(30, 0, seed=1))
    assert not doc.journeys
    assert doc.touchpoints
