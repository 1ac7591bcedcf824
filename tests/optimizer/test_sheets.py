"""The tables behind the CSV and XLSX exports (optimizer/sheets.py): cents that add up."""

import csv
import io
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from optimizer.document import load_document
from optimizer.problem import resolve
from optimizer.sheets import allocation_csv, apportion, cents, run_sheets
from optimizer.solve import solve

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

amounts = st.lists(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
)


@given(amounts)
def test_apportioned_cents_add_up_to_the_rounded_total(values: list[float]) -> None:
    parts = apportion(values, sum(values))
    assert sum(parts) == cents(sum(values))
    for part, value in zip(parts, values, strict=True):
        assert abs(part - value * 100) < 1 + 1e-6 * abs(value * 100)


def test_rounding_carries_go_where_rounding_moved_most() -> None:
    # 3 x 0.3333...: each rounds to 33 cents, the total to 100: one cent goes to one of them
    assert sorted(apportion([1 / 3] * 3, 1.0)) == [33, 33, 34]
    assert apportion([0.004, 0.004, 0.002], 0.01) == [1, 0, 0]
    assert apportion([1799999.999999999, -2.91e-11], 1799999.999999999) == [180000000, 0]
    assert cents(0.125) == 13  # halves away from zero, as finance rounds
    assert cents(-0.125) == -13


def test_csv_has_no_float_noise() -> None:
    problem = resolve(load_document(SEEDS / "sonnenreisen-2027.yaml"))
    result = solve(problem)
    noisy = [
        t.model_copy(update={"spend": 1799999.999999999, "change": -2.91e-11})
        if i == 0
        else t.model_copy(update={"spend": 0.0, "change": 0.0})
        for i, t in enumerate(result.touchpoints)
    ]
    result = result.model_copy(
        update={
            "touchpoints": noisy,
            "portfolio": result.portfolio.model_copy(update={"spend": 1799999.999999999}),
        }
    )
    text = allocation_csv(result)
    assert not re.search(r"\d[eE][+-]?\d", text)  # no exponents
    assert "-0.00" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["spend (EUR)"] == "1800000.00"
    assert rows[-1]["spend (EUR)"] == "1800000.00"


def test_an_optimal_run_has_three_tables_an_infeasible_one_its_conflicts() -> None:
    document = load_document(SEEDS / "sonnenreisen-2027.yaml")
    optimal = solve(resolve(document))
    assert [s.title for s in run_sheets(optimal)] == ["Allocation", "Departments", "Journeys"]
    infeasible = solve(resolve(document, budget=10000))
    assert infeasible.status == "infeasible"
    (conflicts,) = run_sheets(infeasible)
    assert conflicts.title == "Conflicts"
    assert [row[0] for row in conflicts.rows] == [c.constraint for c in infeasible.conflicts]
