"""The command line as a user runs it: a real process, its output and exit status."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from optimizer.result import RunResult

JOURNEYFOLIO = str(Path(sys.executable).with_name("journeyfolio"))

DOC: dict[str, Any] = {
    "format": "journeyfolio/v1",
    "id": "cli-test",
    "name": "CLI test",
    "currency": "EUR",
    "budget": 10,
    "departments": [{"id": "d", "name": "D", "budget": 5}],
    "personas": [{"id": "p", "name": "P"}],
    "touchpoints": [
        {
            "id": "t",
            "name": '=HYPERLINK("x")',
            "department": "d",
            "channel": "web",
            "current_spend": 2,
            "max_spend": 10,
            "curve": {"points": [[0, 0], [10, 1]]},
        }
    ],
    "journeys": [
        {"id": "j", "name": "J", "persona": "p", "value": 100, "touchpoints": [{"touchpoint": "t"}]}
    ],
    "scenarios": [
        {"id": "needs-more", "name": "Needs more", "floors": {"j": 0.8}},
        {"id": "pooled", "name": "Pooled", "pooled": True},
    ],
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JOURNEYFOLIO, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def doc_file(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(DOC))
    return path


def test_optimize_json_is_exactly_the_run_json(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    run = RunResult.model_validate_json(proc.stdout)  # nothing else on standard output
    assert run.status == "optimal"
    assert run.portfolio.spend == pytest.approx(5)  # the department cap binds
    assert run.binding == ["department:d"]
    data = json.loads(proc.stdout)
    for key in (
        "format",
        "portfolio_id",
        "scenario_id",
        "status",
        "mode",
        "currency",
        "portfolio",
        "touchpoints",
        "journeys",
        "departments",
        "shadow_prices",
        "baselines",
        "price_of_silos",
        "binding",
        "conflicts",
        "solver",
    ):
        assert key in data


def test_overrides_on_the_command_line(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "-f", "json", "--pooled", "--budget", "8")
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert run["portfolio"]["spend"] == pytest.approx(8)
    assert run["scenario"]["pooled"] is True
    proc = cli("optimize", str(doc_file), "-f", "json", "--scenario", "pooled", "--departmental")
    assert json.loads(proc.stdout)["portfolio"]["spend"] == pytest.approx(5)


def test_infeasible_exits_3_and_still_prints_the_json(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "--scenario", "needs-more", "--format", "json")
    assert proc.returncode == 3
    run = json.loads(proc.stdout)
    assert run["status"] == "infeasible"
    assert run["conflicts"][0]["constraint"] == "department:d"
    assert run["conflicts"][0]["shortfall"] == pytest.approx(3)


def test_infeasible_table_says_what_would_have_to_give(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "--scenario", "needs-more")
    assert proc.returncode == 3
    assert "the floor 0.80 on 'J' needs 3 EUR more in the D budget (cap 5 EUR)" in proc.stdout


def test_table_leads_with_the_headline(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "CLI test: Portfolio as planned"
    headline = "\n".join(lines[:9])
    for label in ("Portfolio value", "Spend", "Unallocated", "Price of silos"):
        assert label in headline
    assert "50 EUR" in headline  # value 100 * 0.5, money formatted


def test_csv_neutralises_formulas(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert rows[0]["touchpoint"] == "t"
    assert rows[0]["touchpoint name"] == '\'=HYPERLINK("x")'
    assert rows[0]["spend (EUR)"] == "5.00"
    assert rows[-1]["touchpoint"] == "Total"


def test_csv_is_the_api_csv(doc_file: Path) -> None:
    """One function writes both: the command line's CSV is the export of its run JSON."""
    from optimizer.sheets import allocation_csv

    for scenario in ("pooled", "needs-more"):
        run = cli("optimize", str(doc_file), "-s", scenario, "--format", "json")
        table = cli("optimize", str(doc_file), "-s", scenario, "--format", "csv")
        assert table.returncode == run.returncode
        assert table.stdout == allocation_csv(RunResult.model_validate_json(run.stdout))


def test_infeasible_csv_holds_the_conflicts(doc_file: Path) -> None:
    proc = cli("optimize", str(doc_file), "--scenario", "needs-more", "--format", "csv")
    assert proc.returncode == 3
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["constraint"], r["shortfall"], r["shortfall unit"]) for r in rows] == [
        ("department:d", "3.00", "EUR")
    ]
    assert "needs 3 EUR more" in rows[0]["message"]


SONNENREISEN = Path(__file__).resolve().parents[2] / "seeds" / "sonnenreisen-2027.yaml"


def test_table_states_money_and_priority_weighted_figures_apart() -> None:
    run = json.loads(cli("optimize", str(SONNENREISEN), "--format", "json").stdout)
    table = cli("optimize", str(SONNENREISEN)).stdout
    headline = table.split("\n\n")[1].splitlines()
    lines = {line.strip().split("  ")[0]: line for line in headline}
    assert run["price_of_silos_value"] != pytest.approx(run["price_of_silos"])
    silos = lines["Price of silos"].split()
    assert f"{run['price_of_silos_value']:,.0f}" in silos
    weighted = lines["Price of silos, priority-weighted"]
    assert f"{run['price_of_silos']:,.0f} EUR" in weighted
    assert "Priority-weighted value" in lines
    one_more = lines["Value of one more"]
    assert f"{run['shadow_prices']['budget']:,.2f}" in one_more
    assert run["shadow_prices"]["unit"] in one_more


def test_invalid_document_exits_2_naming_the_path(tmp_path: Path) -> None:
    bad = dict(DOC, touchpoints=[dict(DOC["touchpoints"][0], wieght=2)])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    proc = cli("optimize", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "error: touchpoints[0].wieght: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert "touchpoints[0].wieght: unknown key" in proc.stderr


def test_bad_arguments_exit_2(doc_file: Path) -> None:
    assert cli("optimize", str(doc_file), "--scenario", "nope").returncode == 2
    assert "unknown scenario 'nope'" in cli("optimize", str(doc_file), "-s", "nope").stderr
    assert cli("optimize", str(doc_file), "--mode", "max_fun").returncode == 2
    assert cli("optimize", str(doc_file), "--budget", "-5").returncode == 2
    assert cli("optimize", str(doc_file.with_name("missing.yaml"))).returncode == 2


def test_validate_accepts_a_good_document(doc_file: Path) -> None:
    proc = cli("validate", str(doc_file))
    assert proc.returncode == 0
    assert "valid (1 touchpoints, 1 journeys, 2 scenarios)" in proc.stdout


def test_bridge_json_steps_sum_to_the_total(doc_file: Path) -> None:
    proc = cli("bridge", str(doc_file), "--from", "base", "--to", "pooled", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["format"] == "journeyfolio-bridge/v1"
    assert data["from"]["scenario_id"] is None
    assert data["to"]["scenario_id"] == "pooled"
    # cap 5 -> pooled 10: t linear to 1 at 10, j worth 100: 50 -> 100
    assert [s["name"] for s in data["steps"]] == ["pooling"]
    assert data["steps"][0]["value_change"] == pytest.approx(50)
    assert data["total"] == data["steps"][0]["value_change"]
    assert data["to_value"] - data["from_value"] == pytest.approx(data["total"])


def test_bridge_text_has_a_total_line_equal_to_the_sum(doc_file: Path) -> None:
    proc = cli("bridge", str(doc_file), "--from", "pooled", "--to", "base")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ["from", "pooled", "100.00", "10.00", "optimal"] in rows
    assert ["1.", "Pooling", "and", "department", "caps", "-50.00", "-5.00", "optimal"] in rows
    assert ["to", "base", "50.00", "5.00", "optimal"] in rows
    assert "Total: -50.00 EUR of value, -5.00 EUR of spend" in proc.stdout


def test_bridge_unknown_scenario_exits_2_naming_it(doc_file: Path) -> None:
    proc = cli("bridge", str(doc_file), "--from", "base", "--to", "nope")
    assert proc.returncode == 2
    assert "--to: unknown scenario 'nope'" in proc.stderr
    assert proc.stdout == ""


def test_bridge_to_an_infeasible_scenario_exits_3_with_the_json(doc_file: Path) -> None:
    proc = cli("bridge", str(doc_file), "--from", "base", "--to", "needs-more", "-f", "json")
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert data["status"] == "infeasible"
    assert data["total"] is None
    assert data["steps"][0]["status"] == "infeasible"


# ------------------------------------------------------------------ spreadsheet tables


def test_tables_export_import_and_template(doc_file: Path, tmp_path: Path) -> None:
    for suffix in ("xlsx", "zip"):
        out = tmp_path / f"tables.{suffix}"
        exported = cli("export-tables", str(doc_file), str(out))
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout == f"{out}: 1 touchpoints, 1 journeys, 1 links\n"
        back = tmp_path / f"back-{suffix}.yaml"
        imported = cli("import-tables", str(out), "--output", str(back))
        assert imported.returncode == 0, imported.stderr
        assert yaml.safe_load(back.read_text()) == yaml.safe_load(cli_document_yaml(doc_file))
    template = tmp_path / "template.xlsx"
    assert cli("template", str(template)).returncode == 0
    empty = cli("import-tables", str(template))
    assert empty.returncode == 0, empty.stderr
    assert yaml.safe_load(empty.stdout)["id"] == "my-portfolio"


def cli_document_yaml(doc_file: Path) -> str:
    from optimizer.document import dump_yaml, load_document

    return dump_yaml(load_document(doc_file))


def test_import_tables_names_bad_cells_with_exit_status_2(tmp_path: Path) -> None:
    from optimizer import workbook
    from optimizer.document import validate_document

    tables = workbook.document_tables(validate_document(DOC))
    tables["touchpoints"][0]["max_spend"] = "ten"
    tables["links"][0]["weight"] = -1
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook.to_xlsx(tables))
    result = cli("import-tables", str(bad), "--output", str(tmp_path / "out.yaml"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: touchpoints, row 2, column G (max_spend): expected a number (digits with a "
        "decimal point), got 'ten'",
        "error: links, row 2, column D (weight): input should be greater than 0, got -1",
    ]
    assert not (tmp_path / "out.yaml").exists()
    wrong = cli("import-tables", str(tmp_path / "bad.csv"))
    assert wrong.returncode == 2
    assert "give a file ending in .xlsx" in wrong.stderr


def test_import_tables_dry_run_against_a_document(doc_file: Path, tmp_path: Path) -> None:
    from optimizer import workbook
    from optimizer.document import validate_document

    tables = workbook.document_tables(validate_document(DOC))
    tables["touchpoints"][0]["max_spend"] = 12
    tables["departments"].append({"id": "e", "name": "E"})
    changed = tmp_path / "changed.zip"
    changed.write_bytes(workbook.to_csv_zip(tables))
    result = cli("import-tables", str(changed), "--dry-run", "--against", str(doc_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "departments: 1 added, 0 changed, 0 removed\n"
        "  + e\n"
        "touchpoints: 0 added, 1 changed, 0 removed\n"
        "  ~ t: max_spend 10 -> 12\n"
    )
    assert cli("import-tables", str(changed), "--dry-run").returncode == 2
