"""The portfolio as spreadsheet tables, in and out: an XLSX workbook (one sheet per table) or
a ZIP of CSV files (one file per table, ``<table>.csv``).

Tables, in order (a child table names its parent by id in its first column):

- ``portfolio`` (one row), ``departments``, ``personas``;
- ``touchpoints`` with the curve in columns: ``curve_form`` (points, saturating, hill,
  exponential, logistic), the parameters ``base max half_spend shape scale lam`` the form
  needs, ``points`` for a points curve as ``spend:quality`` pairs (``0:0.2; 50000:0.6``), the
  curve's source (``source_kind source_date source_n``; its uncertainty as JSON), and the
  evidence's ``observations_kpi outcome_at_0 outcome_at_1``;
- ``pain_points``, ``feedback``, ``observations`` (per touchpoint), ``dependencies``;
- ``journeys`` (``stages`` as ``Need; Buy; Use``), ``links`` (journey, touchpoint), ``kpis``,
  ``kpi_actuals``;
- ``scenarios`` (one column per plain setting) and ``scenario_settings`` (one row per entry
  of a map or list setting: ``scenario, setting, key, value``, e.g. ``pooled-plus-10,
  floors, family-booking, 0.6``; a list entry such as ``exclude`` has no value). Scenario
  settings are read from the document's model, so a new one carries over by itself.

Reading checks every cell against its column (a number, an integer, yes/no, spend:quality
pairs...) and then the whole document with :func:`optimizer.document.validate_document`;
each problem the validator names by its key path is mapped back to the sheet, row (as the
spreadsheet shows it: the header is row 1) and column it came from. All problems are
reported at once, as a :class:`WorkbookError`; nothing is returned unless the whole workbook
is valid. Headers are matched without regard to case, spaces or underscores; columns may be
in any order; optional columns and tables may be left out; a ``README`` sheet is ignored.

Writing neutralises text a spreadsheet would read as a formula (``optimizer.sheets.safe_cell``:
a leading apostrophe, which reading takes off again, so export then import is exact).
"""

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal

from optimizer.document import (
    CURVE_FORMS,
    DEFAULT_LIMITS,
    DocumentError,
    Limits,
    PortfolioDocument,
    Problem,
    Scenario,
    document_to_data,
    validate_document,
)
from optimizer.sheets import FORMULA_START, Kind, Sheet, safe_cell, write_sheet

CellType = Literal["text", "number", "integer", "bool", "points", "list", "json"]


@dataclass(frozen=True)
class Column:
    name: str
    type: CellType = "text"
    kind: Kind = "text"
    """How the XLSX shows it (number format)."""
    required: bool = False
    help: str = ""


def _c(name: str, type_: CellType = "text", kind: Kind | None = None, **kw: Any) -> Column:
    if kind is None:
        kind = {"number": "ratio", "integer": "count"}.get(type_, "text")  # type: ignore[assignment]
    assert kind is not None
    return Column(name, type_, kind, **kw)


def _money(name: str, **kw: Any) -> Column:
    return Column(name, "number", "money", **kw)


def _quality(name: str, **kw: Any) -> Column:
    return Column(name, "number", "quality", **kw)


CURVE_PARAMETERS: Final = ("base", "max", "half_spend", "shape", "scale", "lam")
FORM_PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    "points": ("points",),
    "saturating": ("base", "max", "half_spend"),
    "hill": ("base", "max", "half_spend", "shape"),
    "exponential": ("base", "max", "scale"),
    "logistic": ("base", "max", "lam"),
}

ID = "id: lowercase letters a-z, digits and hyphens"


def _scenario_columns() -> tuple[list[Column], list[str], list[str]]:
    """Scenario settings read from the model: plain ones are columns, maps and lists go to
    scenario_settings."""
    columns: list[Column] = []
    maps: list[str] = []
    lists: list[str] = []
    for name, info in Scenario.model_fields.items():
        if isinstance(info.default, dict):
            maps.append(name)
        elif isinstance(info.default, list):
            lists.append(name)
        else:
            shown = str(info.annotation)
            if "bool" in shown:
                columns.append(_c(name, "bool"))
            elif name == "budget" or "float" in shown or "int" in shown:
                columns.append(_money(name) if name == "budget" else _c(name, "number"))
            else:
                columns.append(_c(name, required=name in ("id", "name")))
    return columns, maps, lists


SCENARIO_COLUMNS, SCENARIO_MAPS, SCENARIO_LISTS = _scenario_columns()


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Columns that name a row (for the dry run's added/changed/removed)."""
    help: str

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def _by_name(self) -> dict[str, Column]:
        found: dict[str, Column] | None = self.__dict__.get("_columns")
        if found is None:
            found = {c.name: c for c in self.columns}
            object.__setattr__(self, "_columns", found)
        return found


TABLES: Final[tuple[TableSpec, ...]] = (
    TableSpec(
        "portfolio",
        (
            _c("id", required=True, help=ID),
            _c("name", required=True),
            _c("currency", help="three letters, e.g. EUR (default EUR)"),
            _c("period", help="a label, e.g. 2027"),
            _c("description"),
            _money("budget", required=True, help="total budget for the period"),
        ),
        (),
        "One row: the portfolio itself.",
    ),
    TableSpec(
        "departments",
        (
            _c("id", required=True, help=ID),
            _c("name", required=True),
            _money("budget", help="optional cap for the period"),
            _c("description"),
        ),
        ("id",),
        "Budget pools.",
    ),
    TableSpec(
        "personas",
        (
            _c("id", required=True, help=ID),
            _c("name", required=True),
            _c("description"),
            _c("customers", "integer"),
            _money("value_per_customer"),
        ),
        ("id",),
        "Customer segments.",
    ),
    TableSpec(
        "touchpoints",
        (
            _c("id", required=True, help=ID),
            _c("name", required=True),
            _c("department", required=True, help="a department id"),
            _c("channel", required=True),
            _money("current_spend", required=True),
            _money("min_spend", help="default 0"),
            _money("max_spend", required=True),
            _c("curve_form", required=True, help="points, saturating, hill, exponential, logistic"),
            _quality("base", help="saturating, hill, exponential, logistic"),
            _quality("max", help="saturating, hill, exponential, logistic"),
            _money("half_spend", help="saturating, hill"),
            _c("shape", "number", help="hill"),
            _money("scale", help="exponential"),
            _c("lam", "number", help="logistic"),
            _c("points", "points", help="points: spend:quality pairs, e.g. 0:0.2; 50000:0.6"),
            _c("source_kind", help="manual, fit, robyn, meridian, pymc-marketing"),
            _c("source_date"),
            _c("source_n", "integer", help="observations behind the curve"),
            _c("source_uncertainty", "json", help="the curve's uncertainty as JSON"),
            _c("observations_kpi", help="the KPI the observations measure"),
            _c("outcome_at_0", "number", help="outcome that means quality 0"),
            _c("outcome_at_1", "number", help="outcome that means quality 1"),
            _c("description"),
        ),
        ("id",),
        "Shared touchpoints and their response curves.",
    ),
    TableSpec(
        "pain_points",
        (
            _c("touchpoint", required=True, help="a touchpoint id"),
            _c("text", required=True),
            _c("severity", "integer", help="1..5, default 1"),
        ),
        ("touchpoint", "text"),
        "Pain points of touchpoints.",
    ),
    TableSpec(
        "feedback",
        (
            _c("touchpoint", required=True, help="a touchpoint id"),
            _c("text", required=True),
            _c("source"),
            _c("date"),
        ),
        ("touchpoint", "text"),
        "Feedback notes on touchpoints.",
    ),
    TableSpec(
        "observations",
        (
            _c("touchpoint", required=True, help="a touchpoint id"),
            _c("period", required=True),
            _money("spend", required=True),
            _c("outcome", "number", required=True),
        ),
        ("touchpoint", "period"),
        "Observed spend and outcome per period (evidence behind a curve).",
    ),
    TableSpec(
        "dependencies",
        (
            _c("touchpoint", required=True, help="a touchpoint id"),
            _c("requires", required=True, help="the touchpoint it relies on"),
        ),
        ("touchpoint", "requires"),
        "Touchpoint t requires touchpoint u.",
    ),
    TableSpec(
        "journeys",
        (
            _c("id", required=True, help=ID),
            _c("name", required=True),
            _c("persona", required=True, help="a persona id"),
            _c("owner"),
            _c("lifecycle", help="idea, active, sunset (default active)"),
            _money("value", required=True, help="money per period at quality 1"),
            _c("priority", "number", help="default 1"),
            _quality("floor", help="minimum experience quality, 0..1"),
            _c("stages", "list", help="separated by ';', e.g. Need; Buy; Use"),
            _c("description"),
        ),
        ("id",),
        "Customer journeys.",
    ),
    TableSpec(
        "links",
        (
            _c("journey", required=True, help="a journey id"),
            _c("touchpoint", required=True, help="a touchpoint id"),
            _c("stage", help="one of the journey's stages"),
            _c("weight", "number", help="> 0, default 1"),
            _c("critical", "bool", help="yes or no (a moment of truth)"),
            _c("emotion", "number", help="-2..2"),
        ),
        ("journey", "touchpoint"),
        "Which touchpoints each journey depends on.",
    ),
    TableSpec(
        "kpis",
        (
            _c("journey", required=True, help="a journey id"),
            _c("name", required=True),
            _c("unit"),
            _c("target", "number"),
            _c("higher_is_better", "bool", help="yes or no (default yes)"),
        ),
        ("journey", "name"),
        "KPIs of journeys.",
    ),
    TableSpec(
        "kpi_actuals",
        (
            _c("journey", required=True, help="a journey id"),
            _c("kpi", required=True, help="a KPI name of that journey"),
            _c("period", required=True),
            _c("value", "number", required=True),
        ),
        ("journey", "kpi", "period"),
        "KPI actuals over time.",
    ),
    TableSpec("scenarios", tuple(SCENARIO_COLUMNS), ("id",), "Scenarios: plain settings."),
    TableSpec(
        "scenario_settings",
        (
            _c("scenario", required=True, help="a scenario id"),
            _c("setting", required=True, help=", ".join(SCENARIO_MAPS + SCENARIO_LISTS)),
            _c("key", required=True, help="the journey, touchpoint or department id"),
            _c("value", "number", help="the number; empty: none (or a list entry)"),
        ),
        ("scenario", "setting", "key"),
        "Scenario overrides, one row per entry.",
    ),
)
SPECS: Final = {spec.name: spec for spec in TABLES}
README = "README"


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Location:
    sheet: str
    row: int | None = None
    column: str | None = None
    letter: str | None = None

    def __str__(self) -> str:
        out = self.sheet
        if self.row is not None:
            out += f", row {self.row}"
        if self.column is not None:
            where = f"column {self.letter} " if self.letter else "column "
            out += f", {where}({self.column})" if self.letter else f", column {self.column}"
        return out

    @property
    def cell(self) -> str | None:
        return f"{self.letter}{self.row}" if self.letter and self.row is not None else None


@dataclass(frozen=True)
class CellProblem:
    """One thing wrong with a workbook: where (sheet, row, column) and what."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_data(self) -> dict[str, Any]:
        loc = self.location
        return {
            "sheet": loc.sheet,
            "row": loc.row,
            "column": loc.column,
            "cell": loc.cell,
            "message": self.message,
        }


class WorkbookError(ValueError):
    """A workbook that cannot become a valid portfolio; carries every problem found."""

    def __init__(self, problems: Iterable[CellProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class WorkbookTooLarge(WorkbookError):
    """A workbook (an XLSX or a ZIP of CSV files) that unpacks beyond the size limit."""


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


# --------------------------------------------------------------------------- document -> tables


Row = dict[str, Any]


def _points_text(points: Sequence[Sequence[float]]) -> str:
    return "; ".join(f"{_num_text(s)}:{_num_text(q)}" for s, q in points)


def _num_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def document_tables(doc: PortfolioDocument) -> dict[str, list[Row]]:
    """The document as table rows (column name -> value; None for an empty cell)."""
    data = document_to_data(doc)
    out: dict[str, list[Row]] = {spec.name: [] for spec in TABLES}
    out["portfolio"].append({c.name: data.get(c.name) for c in SPECS["portfolio"].columns})
    for d in data["departments"]:
        out["departments"].append(dict(d))
    for p in data["personas"]:
        out["personas"].append(dict(p))
    for t in data["touchpoints"]:
        curve = dict(t["curve"])
        source = curve.pop("source", None) or {}
        form = next(f for f in CURVE_FORMS if f in curve)
        row: Row = {k: t.get(k) for k in ("id", "name", "department", "channel")}
        row |= {k: t.get(k) for k in ("current_spend", "min_spend", "max_spend")}
        row["curve_form"] = form
        if form == "points":
            row["points"] = _points_text(curve["points"])
        else:
            row |= dict(curve[form])
        row["source_kind"] = source.get("kind")
        row["source_date"] = source.get("date")
        row["source_n"] = source.get("n")
        if source.get("uncertainty") is not None:
            row["source_uncertainty"] = json.dumps(source["uncertainty"], separators=(",", ":"))
        obs = t.get("observations") or {}
        row["observations_kpi"] = obs.get("kpi")
        row["outcome_at_0"] = obs.get("outcome_at_0")
        row["outcome_at_1"] = obs.get("outcome_at_1")
        row["description"] = t.get("description")
        out["touchpoints"].append(row)
        for pain in t.get("pain_points", []):
            out["pain_points"].append({"touchpoint": t["id"], **pain})
        for note in t.get("feedback", []):
            out["feedback"].append({"touchpoint": t["id"], **note})
        for o in obs.get("rows", []):
            out["observations"].append({"touchpoint": t["id"], **o})
    for dep in data["dependencies"]:
        out["dependencies"].append(dict(dep))
    for j in data["journeys"]:
        row = {k: v for k, v in j.items() if k not in ("touchpoints", "kpis", "stages")}
        row["stages"] = "; ".join(j["stages"]) if j.get("stages") else None
        out["journeys"].append(row)
        for link in j["touchpoints"]:
            out["links"].append({"journey": j["id"], **link})
        for kpi in j.get("kpis", []):
            out["kpis"].append(
                {"journey": j["id"], **{k: v for k, v in kpi.items() if k != "actuals"}}
            )
            for actual in kpi.get("actuals", []):
                out["kpi_actuals"].append({"journey": j["id"], "kpi": kpi["name"], **actual})
    for s in data["scenarios"]:
        out["scenarios"].append(
            {k: v for k, v in s.items() if k not in SCENARIO_MAPS and k not in SCENARIO_LISTS}
        )
        for setting in (*SCENARIO_MAPS, *SCENARIO_LISTS):
            value = s.get(setting)
            if isinstance(value, dict):
                for key, number in value.items():
                    out["scenario_settings"].append(
                        {"scenario": s["id"], "setting": setting, "key": key, "value": number}
                    )
            elif isinstance(value, list):
                for key in value:
                    out["scenario_settings"].append(
                        {"scenario": s["id"], "setting": setting, "key": key, "value": None}
                    )
    return {
        name: [{c.name: row.get(c.name) for c in SPECS[name].columns} for row in rows]
        for name, rows in out.items()
    }


# --------------------------------------------------------------------------- writing


def _sheet(spec: TableSpec, rows: list[Row]) -> Sheet:
    return Sheet(
        title=spec.name,
        headers=[c.name for c in spec.columns],
        kinds=[c.kind for c in spec.columns],
        rows=[[row.get(c.name) for c in spec.columns] for row in rows],
    )


def _readme_sheet() -> Sheet:
    rows: list[list[object]] = [
        [
            "How to fill in this workbook",
            "",
            "",
            "One sheet per table; keep the header row (row 1). Ids are lowercase slugs; "
            "a child table names its parent by id. Empty cells are 'not given'. This sheet "
            "is ignored on import.",
        ]
    ]
    for spec in TABLES:
        rows.append([spec.name, "", "", spec.help])
        for c in spec.columns:
            rows.append(["", c.name, "yes" if c.required else "", c.help or c.type])
    return Sheet(
        title=README,
        headers=["table", "column", "required", "what it holds"],
        kinds=["text"] * 4,
        rows=rows,
    )


def to_xlsx(tables: Mapping[str, list[Row]], *, title: str = "Journeyfolio portfolio") -> bytes:
    """The tables as an XLSX workbook: one sheet per table, then a README sheet."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    for i, spec in enumerate(TABLES):
        sheet = first if i == 0 else book.create_sheet()
        write_sheet(sheet, _sheet(spec, tables.get(spec.name, [])))
    write_sheet(book.create_sheet(), _readme_sheet())
    book.properties.title = title
    book.properties.creator = "Journeyfolio"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _num_text(value)
    return str(safe_cell(value))


def table_csv(spec: TableSpec, rows: list[Row]) -> str:
    """One table as CSV text (comma separated, a header row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in spec.columns])
    for row in rows:
        writer.writerow([_csv_text(row.get(c.name)) for c in spec.columns])
    return buffer.getvalue()


def to_csv_zip(tables: Mapping[str, list[Row]]) -> bytes:
    """The tables as a ZIP of CSV files, ``<table>.csv`` each, UTF-8 with a byte order mark
    (so Excel reads the umlauts), comma separated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for spec in TABLES:
            text = table_csv(spec, tables.get(spec.name, []))
            archive.writestr(f"{spec.name}.csv", "\ufeff" + text)
    return out.getvalue()


def template_tables() -> dict[str, list[Row]]:
    """Empty tables but the portfolio row: imports as an empty, valid portfolio."""
    tables: dict[str, list[Row]] = {spec.name: [] for spec in TABLES}
    tables["portfolio"] = [
        {"id": "my-portfolio", "name": "My portfolio", "currency": "EUR", "period": "2027"}
        | {"description": None, "budget": 0}
    ]
    return tables


# --------------------------------------------------------------------------- reading


MAX_UNPACKED_BYTES: Final = 1024 * 1024 * 1024
"""Largest total size of the files inside an XLSX or ZIP (a ZIP bomb is refused)."""


@dataclass
class RawTable:
    """A sheet as read: its header cells and rows of cell values, with row numbers."""

    name: str
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]


def _check_zip(archive: zipfile.ZipFile, what: str, max_unpacked: int) -> None:
    total = sum(info.file_size for info in archive.infolist())
    if total > max_unpacked:
        raise WorkbookTooLarge(
            [
                CellProblem(
                    Location(what),
                    f"unpacks to {total:,} bytes, more than the limit of {max_unpacked:,}",
                )
            ]
        )


def _fail(what: str, message: str) -> WorkbookError:
    return WorkbookError([CellProblem(Location(what), message)])


def read_xlsx(content: bytes, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> list[RawTable]:
    """The sheets of an XLSX workbook (values, not formulas: a formula gives the value Excel
    saved with it)."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_zip(archive, "workbook", max_unpacked)
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except WorkbookError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _fail("workbook", f"is not a readable XLSX file ({error})") from None
    tables = []
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            headers = list(next(rows, ()))
            body = [(number, list(values)) for number, values in enumerate(rows, start=2)]
            tables.append(RawTable(sheet.title, headers, body))
    finally:
        book.close()
    return tables


def _decode_csv(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _fail(name, "is neither UTF-8 nor Windows-1252 text")  # pragma: no cover


def read_csv_text(text: str, name: str) -> RawTable:
    """One CSV table; the delimiter (comma, semicolon or tab) is the header line's."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    headers: list[Any] = list(rows[0]) if rows else []
    body: list[tuple[int, list[Any]]] = [
        (number, [cell if cell != "" else None for cell in values])
        for number, values in enumerate(rows[1:], start=2)
    ]
    return RawTable(name, headers, body)


def read_csv_zip(content: bytes, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> list[RawTable]:
    """The CSV files of a ZIP, one table each (``touchpoints.csv`` -> touchpoints)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise _fail("zip", "is not a readable ZIP file") from None
    tables = []
    with archive:
        _check_zip(archive, "zip", max_unpacked)
        for info in archive.infolist():
            if info.is_dir() or info.filename.startswith(("__MACOSX/", ".")):
                continue
            base = info.filename.rsplit("/", 1)[-1]
            if not base.lower().endswith(".csv"):
                raise _fail(base, "only .csv files are read from the ZIP")
            text = _decode_csv(archive.read(info), base)
            tables.append(read_csv_text(text, base[:-4]))
    return tables


def read_tables(content: bytes, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> list[RawTable]:
    """An XLSX workbook or a ZIP of CSV files, told apart by content (both are ZIPs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise _fail(
            "upload", "is neither an XLSX workbook nor a ZIP of CSV files (not a ZIP archive)"
        ) from None
    if "[Content_Types].xml" in names:
        return read_xlsx(content, max_unpacked=max_unpacked)
    return read_csv_zip(content, max_unpacked=max_unpacked)


def _norm(header: object) -> str:
    return re.sub(r"[\s_]+", "_", str(header).strip().lower())


def _shown(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num_text(float(value)) if isinstance(value, float) else str(value)
    text = str(value)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text  # a number as CSV text: shown as the number it is
    return repr(text if len(text) <= 40 else text[:37] + "...")


Where = tuple[str, int | None, str | None]


class _Reader:
    """Cell values -> document data, with a location for every key path."""

    def __init__(self) -> None:
        self.problems: list[CellProblem] = []
        self.bad_cells: set[tuple[str, int | None, str | None]] = set()
        self.where: dict[str, Where] = {}
        """Key path -> (sheet, row, column) it came from (a tuple: made for every cell)."""
        self.letters: dict[str, dict[str, str]] = {}
        self.values: dict[tuple[str, int | None, str | None], Any] = {}
        self.references: list[tuple[Location, str, str]] = []
        """(where, kind of entity, id) to check once every table is read."""

    def refer(self, sheet: str, row: int, column: str, kind: str, value: Any) -> None:
        if isinstance(value, str):
            self.references.append((self.loc(sheet, row, column), kind, value))

    def check_references(self, data: Mapping[str, Any]) -> None:
        ids = {
            kind: {item.get("id") for item in data.get(kind, []) if isinstance(item, dict)}
            for kind in ("departments", "personas", "touchpoints")
        }
        for location, kind, value in self.references:
            if value not in ids[kind]:
                self.problem(
                    location, f"unknown {kind[:-1]} {_shown(value)} (not on the {kind} sheet)"
                )

    def loc(self, sheet: str, row: int | None = None, column: str | None = None) -> Location:
        letter = self.letters.get(sheet, {}).get(column or "") if column else None
        return Location(sheet, row, column, letter)

    def at(self, sheet: str, row: int | None = None, column: str | None = None) -> Where:
        return (sheet, row, column)

    def problem(self, location: Location, message: str) -> None:
        self.problems.append(CellProblem(location, message))
        self.bad_cells.add((location.sheet, location.row, location.column))

    # ---- cells

    def cell(self, spec: TableSpec, row: int, values: Mapping[str, Any], name: str) -> Any:
        """The cell's value as its column's type; None when empty or wrong (then named)."""
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        column = spec.column(name)
        try:
            converted = _convert(value, column.type)
            self.values[(spec.name, row, name)] = converted
            return converted
        except ValueError as error:
            self.problem(self.loc(spec.name, row, name), f"{error}, got {_shown(value)}")
            return None


_TRUE = {"yes", "y", "true", "1", "x", "ja", "wahr"}
_FALSE = {"no", "n", "false", "0", "nein", "falsch"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _num_text(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # the apostrophe an export puts before a formula-like text (safe_cell) comes off again
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        try:
            number = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise ValueError("expected a number (digits with a decimal point)") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _convert(value: Any, type_: CellType) -> Any:
    if type_ == "text":
        return _text(value)
    if type_ == "number":
        return _number(value)
    if type_ == "integer":
        number = _number(value)
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError("expected a whole number")
            number = int(number)
        return number
    if type_ == "bool":
        if isinstance(value, bool):
            return value
        text = _text(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("expected yes or no (also true/false, 1/0)")
    if type_ == "list":
        return [part.strip() for part in _text(value).split(";") if part.strip()]
    if type_ == "points":
        return _points(_text(value))
    if type_ == "json":
        try:
            return json.loads(_text(value))
        except json.JSONDecodeError as error:
            raise ValueError(f"expected JSON ({error.msg} at character {error.pos})") from None
    raise AssertionError(type_)  # pragma: no cover


def _points(text: str) -> list[list[float]]:
    points = []
    for i, part in enumerate(p for p in text.split(";") if p.strip()):
        spend, colon, quality = part.partition(":")
        try:
            if not colon:
                raise ValueError
            points.append([_number(spend), _number(quality)])
        except ValueError:
            raise ValueError(
                f"expected spend:quality pairs separated by ';' (e.g. 0:0.2; 50000:0.6), "
                f"pair {i + 1} is {part.strip()!r}"
            ) from None
    return points


def _headers(reader: _Reader, table: RawTable, spec: TableSpec) -> dict[int, str] | None:
    """Column index -> column name; header problems named (None when unusable)."""
    known = {_norm(c.name): c.name for c in spec.columns}
    found: dict[int, str] = {}
    letters: dict[str, str] = {}
    ok = True
    for i, header in enumerate(table.headers):
        if header is None or not str(header).strip():
            continue
        name = known.get(_norm(header))
        letter = column_letter(i)
        if name is None:
            reader.problems.append(
                CellProblem(
                    Location(spec.name, 1, str(header), letter),
                    f"unknown column {_shown(header)} (expected one of: "
                    + ", ".join(c.name for c in spec.columns)
                    + ")",
                )
            )
            ok = False
        elif name in letters:
            reader.problems.append(
                CellProblem(
                    Location(spec.name, 1, name, letter),
                    f"column '{name}' appears twice (also column {letters[name]})",
                )
            )
            ok = False
        else:
            found[i] = name
            letters[name] = letter
    reader.letters[spec.name] = letters
    for column in spec.columns:
        if column.required and column.name not in letters:
            reader.problems.append(
                CellProblem(
                    Location(spec.name, 1),
                    f"required column '{column.name}' is missing",
                )
            )
            ok = False
    return found if ok else None


def _rows(table: RawTable, columns: dict[int, str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, values in table.rows:
        row = {
            name: values[i]
            for i, name in columns.items()
            if i < len(values)
            and values[i] is not None
            and not (isinstance(values[i], str) and not values[i].strip())
        }
        if row:
            yield number, row


def tables_to_data(tables: Sequence[RawTable]) -> tuple[dict[str, Any], "_Reader"]:
    """Document data from the tables, with every cell problem collected in the reader."""
    reader = _Reader()
    by_name: dict[str, RawTable] = {}
    for table in tables:
        name = _norm(table.name)
        if name == _norm(README):
            continue
        if name not in SPECS:
            reader.problems.append(
                CellProblem(
                    Location(table.name),
                    f"unknown table {_shown(table.name)} (expected: "
                    + ", ".join(spec.name for spec in TABLES)
                    + f", or {README})",
                )
            )
            continue
        if name in by_name:
            reader.problems.append(CellProblem(Location(table.name), "the table appears twice"))
            continue
        by_name[name] = table
    rows: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for spec in TABLES:
        found = by_name.get(spec.name)
        if found is None:
            if spec.name == "portfolio":
                reader.problems.append(
                    CellProblem(Location("portfolio"), "the portfolio table is missing")
                )
            rows[spec.name] = []
            continue
        columns = _headers(reader, found, spec)
        rows[spec.name] = [] if columns is None else list(_rows(found, columns))
    if reader.problems:
        # tables or columns that are not what they should be: say that first, not what
        # follows from rows read without them
        raise WorkbookError(_in_order(reader.problems))
    data = _build(reader, rows)
    return data, reader


def _build(reader: _Reader, rows: dict[str, list[tuple[int, dict[str, Any]]]]) -> dict[str, Any]:
    where = reader.where

    def read(spec_name: str, number: int, values: dict[str, Any], path: str) -> dict[str, Any]:
        """The row's plain cells into a dict; every column's path located."""
        spec = SPECS[spec_name]
        out: dict[str, Any] = {}
        where[path] = (spec_name, number, None)
        for column in spec.columns:
            name = column.name
            where[f"{path}.{name}"] = (spec_name, number, name)
            if name in values:  # only cells that hold something (see _rows)
                value = reader.cell(spec, number, values, name)
                if value is not None:
                    out[name] = value
        return out

    data: dict[str, Any] = {}
    portfolio = rows["portfolio"]
    if len(portfolio) > 1:
        reader.problem(
            reader.loc("portfolio", portfolio[1][0]),
            "the portfolio table has one row (the portfolio); this is a second one",
        )
    if portfolio:
        number, values = portfolio[0]
        data = read("portfolio", number, values, "")
        for key in list(where):
            if key.startswith("."):
                where[key[1:]] = where.pop(key)
        where[""] = reader.at("portfolio", number)
    elif "portfolio" not in {p.location.sheet for p in reader.problems}:
        reader.problem(reader.loc("portfolio"), "the portfolio table has no row")

    for key in ("departments", "personas"):
        data[key] = [read(key, n, v, f"{key}[{i}]") for i, (n, v) in enumerate(rows[key])]
        where[key] = reader.at(key)

    def parents(
        kind: str, items: list[dict[str, Any]], rows_: list[tuple[int, dict[str, Any]]]
    ) -> dict[str, int]:
        return {
            item["id"]: i
            for i, item in reversed(list(enumerate(items)))
            if isinstance(item.get("id"), str)
        }

    touchpoints: list[dict[str, Any]] = []
    for i, (number, values) in enumerate(rows["touchpoints"]):
        path = f"touchpoints[{i}]"
        cells = read("touchpoints", number, values, path)
        plain = ("id", "name", "department", "channel", "current_spend", "min_spend", "max_spend")
        item: dict[str, Any] = {k: cells[k] for k in plain if k in cells}
        form_loc = reader.loc("touchpoints", number, "curve_form")
        form = str(cells.get("curve_form", "")).strip().lower()
        where[f"{path}.curve"] = reader.at(
            "touchpoints", number, "points" if form == "points" else "curve_form"
        )
        reader.refer("touchpoints", number, "department", "departments", cells.get("department"))
        curve: dict[str, Any] = {}
        if form in FORM_PARAMETERS:
            wanted = FORM_PARAMETERS[form]
            params = {k: cells[k] for k in wanted if k in cells}
            for other in (*CURVE_PARAMETERS, "points"):
                if other not in wanted and other in cells:
                    reader.problem(
                        reader.loc("touchpoints", number, other),
                        f"does not belong to a {form} curve (it takes "
                        f"{', '.join(wanted)}); leave the cell empty",
                    )
            if form != "points":
                curve[form] = params
            elif "points" in cells:
                curve["points"] = cells["points"]
            for k in wanted:
                where[f"{path}.curve.{form}.{k}"] = reader.at("touchpoints", number, k)
            where[f"{path}.curve.points"] = reader.at("touchpoints", number, "points")
            where[f"{path}.curve.{form}"] = reader.at(
                "touchpoints", number, "points" if form == "points" else "base"
            )
            if form == "points" and "points" not in cells:
                if ("touchpoints", number, "points") not in reader.bad_cells:
                    reader.problem(
                        reader.loc("touchpoints", number, "points"),
                        "is empty; a points curve needs spend:quality pairs "
                        "(e.g. 0:0.2; 50000:0.6)",
                    )
        elif "curve_form" in cells:
            reader.problem(
                form_loc,
                f"expected one of {', '.join(CURVE_FORMS)}, got {_shown(cells['curve_form'])}",
            )
        source = {
            key: cells[column]
            for key, column in (
                ("kind", "source_kind"),
                ("date", "source_date"),
                ("n", "source_n"),
                ("uncertainty", "source_uncertainty"),
            )
            if column in cells
        }
        for key in ("kind", "date", "n"):
            where[f"{path}.curve.source.{key}"] = reader.at("touchpoints", number, f"source_{key}")
        where[f"{path}.curve.source"] = reader.at("touchpoints", number, "source_kind")
        where[f"{path}.curve.source.uncertainty"] = reader.at(
            "touchpoints", number, "source_uncertainty"
        )
        if source:
            curve["source"] = source
        if curve or "curve_form" in cells:
            item["curve"] = curve
        obs = {
            key: cells[column]
            for key, column in (
                ("kpi", "observations_kpi"),
                ("outcome_at_0", "outcome_at_0"),
                ("outcome_at_1", "outcome_at_1"),
            )
            if column in cells
        }
        where[f"{path}.observations"] = reader.at("touchpoints", number, "outcome_at_0")
        where[f"{path}.observations.kpi"] = reader.at("touchpoints", number, "observations_kpi")
        for key in ("outcome_at_0", "outcome_at_1"):
            where[f"{path}.observations.{key}"] = reader.at("touchpoints", number, key)
        if obs:
            item["observations"] = obs
        if "description" in cells:
            item["description"] = cells["description"]
        touchpoints.append(item)
    data["touchpoints"] = touchpoints
    where["touchpoints"] = reader.at("touchpoints")
    tp_index = parents("touchpoints", touchpoints, rows["touchpoints"])

    def children(
        table: str, parent_table: str, index: dict[str, int], parent_column: str
    ) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(parent index, row number, cells) of a child table's rows whose parent exists."""
        spec = SPECS[table]
        for number, values in rows[table]:
            parent = reader.cell(spec, number, values, parent_column)
            if parent is None:
                if parent_column in values:
                    continue  # named already
                reader.problem(
                    reader.loc(table, number, parent_column),
                    f"is empty; expected a {parent_table[:-1]} id",
                )
                continue
            if parent not in index:
                reader.problem(
                    reader.loc(table, number, parent_column),
                    f"unknown {parent_table[:-1]} {_shown(parent)} (not on the "
                    f"{parent_table} sheet)",
                )
                continue
            yield index[parent], number, values

    def attach(table: str, key: str, fields: tuple[str, ...], nested: str | None = None) -> None:
        counts: dict[int, int] = {}
        for parent, number, values in children(table, "touchpoints", tp_index, "touchpoint"):
            k = counts.get(parent, 0)
            counts[parent] = k + 1
            target = touchpoints[parent]
            path = f"touchpoints[{parent}].{key}[{k}]"
            if nested:
                target = target.setdefault(nested, {})
                path = f"touchpoints[{parent}].{nested}.{key}[{k}]"
            cells = read(table, number, values, path)
            target.setdefault(key, []).append({f: cells[f] for f in fields if f in cells})

    attach("pain_points", "pain_points", ("text", "severity"))
    attach("feedback", "feedback", ("text", "source", "date"))
    attach("observations", "rows", ("period", "spend", "outcome"), nested="observations")

    data["dependencies"] = []
    for i, (number, values) in enumerate(rows["dependencies"]):
        cells = read("dependencies", number, values, f"dependencies[{i}]")
        for column in ("touchpoint", "requires"):
            reader.refer("dependencies", number, column, "touchpoints", cells.get(column))
        data["dependencies"].append(cells)
    where["dependencies"] = reader.at("dependencies")

    journeys: list[dict[str, Any]] = []
    for i, (number, values) in enumerate(rows["journeys"]):
        path = f"journeys[{i}]"
        item = read("journeys", number, values, path)
        reader.refer("journeys", number, "persona", "personas", item.get("persona"))
        where[f"{path}.touchpoints"] = reader.at("journeys", number, "id")
        item["touchpoints"] = []
        journeys.append(item)
    data["journeys"] = journeys
    where["journeys"] = reader.at("links")
    j_index = parents("journeys", journeys, rows["journeys"])
    for parent, number, values in children("links", "journeys", j_index, "journey"):
        links = journeys[parent]["touchpoints"]
        path = f"journeys[{parent}].touchpoints[{len(links)}]"
        cells = read("links", number, values, path)
        reader.refer("links", number, "touchpoint", "touchpoints", cells.get("touchpoint"))
        links.append({k: v for k, v in cells.items() if k != "journey"})
    kpi_index: dict[tuple[int, str], int] = {}
    for parent, number, values in children("kpis", "journeys", j_index, "journey"):
        kpis = journeys[parent].setdefault("kpis", [])
        path = f"journeys[{parent}].kpis[{len(kpis)}]"
        cells = read("kpis", number, values, path)
        if isinstance(cells.get("name"), str):
            kpi_index.setdefault((parent, cells["name"]), len(kpis))
        kpis.append({k: v for k, v in cells.items() if k != "journey"})
    spec = SPECS["kpi_actuals"]
    for parent, number, values in children("kpi_actuals", "journeys", j_index, "journey"):
        name = reader.cell(spec, number, values, "kpi")
        if name is None:
            if "kpi" not in values:
                reader.problem(
                    reader.loc("kpi_actuals", number, "kpi"), "is empty; expected a KPI name"
                )
            continue
        k_ = kpi_index.get((parent, name))
        if k_ is None:
            journey_id = journeys[parent].get("id")
            reader.problem(
                reader.loc("kpi_actuals", number, "kpi"),
                f"journey '{journey_id}' has no KPI {_shown(name)} on the kpis sheet",
            )
            continue
        kpi = journeys[parent]["kpis"][k_]
        actuals = kpi.setdefault("actuals", [])
        path = f"journeys[{parent}].kpis[{k_}].actuals[{len(actuals)}]"
        cells = read("kpi_actuals", number, values, path)
        actuals.append({f: cells[f] for f in ("period", "value") if f in cells})

    scenarios: list[dict[str, Any]] = []
    for i, (number, values) in enumerate(rows["scenarios"]):
        scenarios.append(read("scenarios", number, values, f"scenarios[{i}]"))
    data["scenarios"] = scenarios
    where["scenarios"] = reader.at("scenarios")
    s_index = parents("scenarios", scenarios, rows["scenarios"])
    spec = SPECS["scenario_settings"]
    seen: dict[tuple[int, str, str], int] = {}
    for parent, number, values in children("scenario_settings", "scenarios", s_index, "scenario"):
        setting = reader.cell(spec, number, values, "setting")
        key = reader.cell(spec, number, values, "key")
        value = values.get("value")
        if setting is None or key is None:
            for column, got in (("setting", setting), ("key", key)):
                if got is None and column not in values:
                    reader.problem(reader.loc("scenario_settings", number, column), "is empty")
            continue
        setting = setting.strip()
        if setting not in SCENARIO_MAPS and setting not in SCENARIO_LISTS:
            reader.problem(
                reader.loc("scenario_settings", number, "setting"),
                f"expected one of {', '.join(SCENARIO_MAPS + SCENARIO_LISTS)}, "
                f"got {_shown(setting)}",
            )
            continue
        before = seen.get((parent, setting, key))
        if before is not None:
            reader.problem(
                reader.loc("scenario_settings", number, "key"),
                f"{_shown(key)} appears twice in {setting} of this scenario (also row {before})",
            )
            continue
        seen[(parent, setting, key)] = number
        scenario = scenarios[parent]
        base = f"scenarios[{parent}].{setting}"
        where.setdefault(base, reader.at("scenario_settings", number))
        if setting in SCENARIO_LISTS:
            entries = scenario.setdefault(setting, [])
            where[f"{base}[{len(entries)}]"] = reader.at("scenario_settings", number, "key")
            if value is not None and not (isinstance(value, str) and not value.strip()):
                reader.problem(
                    reader.loc("scenario_settings", number, "value"),
                    f"{setting} is a list of ids: leave the value empty, got {_shown(value)}",
                )
            entries.append(key)
        else:
            where[f"{base}.{key}"] = reader.at("scenario_settings", number, "value")
            number_ = reader.cell(spec, number, values, "value")
            scenario.setdefault(setting, {})[key] = number_
    reader.check_references(data)
    return data


# --------------------------------------------------------------------------- validation

_PATH_IN_TEXT = re.compile(
    r"\b(?:departments|personas|touchpoints|journeys|scenarios|dependencies)"
    r"\[\d+\](?:\.[a-z_]+|\[\d+\])*"
)
_MESSAGES = {
    "required key missing": "is empty; a value is required",
    "List should have at least 1 item after validation, not 0": (
        "the journey has no row on the links sheet; it needs at least one touchpoint"
    ),
}


def _locate(reader: _Reader, path: str) -> Location | None:
    candidate = path
    while True:
        if candidate in reader.where:
            return reader.loc(*reader.where[candidate])
        cut = max(candidate.rfind("."), candidate.rfind("["))
        if cut <= 0:
            found = reader.where.get(candidate)
            return reader.loc(*found) if found else None
        candidate = candidate[:cut]


def _map_problem(reader: _Reader, problem: Problem) -> CellProblem:
    location = _locate(reader, problem.path) or Location("portfolio")
    message = _MESSAGES.get(problem.message, problem.message)
    if location.sheet == "scenario_settings" and message.startswith("unknown "):
        location = reader.loc(location.sheet, location.row, "key")  # the key is unknown
    value = reader.values.get((location.sheet, location.row, location.column))
    if message.startswith("String should match pattern") and "a-z0-9" in message:
        message = f"expected an {ID}, starting with a letter or digit, at most 64 characters"
    elif message.startswith(("Input should", "String should")):
        message = f"{message[0].lower()}{message[1:]}"
    if value is not None and (message.startswith(("input should", "string should", "expected"))):
        message = f"{message}, got {_shown(value)}"

    def rewrite(match: re.Match[str]) -> str:
        other = _locate(reader, match.group())
        if other is None or other.row is None:
            return match.group()
        if other.sheet == location.sheet:
            return f"row {other.row}"
        return f"{other.sheet} row {other.row}"

    return CellProblem(location, _PATH_IN_TEXT.sub(rewrite, message))


def read_document(
    content: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    expected_id: str | None = None,
) -> PortfolioDocument:
    """An XLSX workbook or a ZIP of CSV files as a validated portfolio document.

    Raises
    ------
    WorkbookError
        With every problem found, each naming its sheet, row and column.
    """
    return tables_document(
        read_tables(content, max_unpacked=max_unpacked), limits=limits, expected_id=expected_id
    )


def tables_document(
    tables: Sequence[RawTable],
    *,
    limits: Limits = DEFAULT_LIMITS,
    expected_id: str | None = None,
) -> PortfolioDocument:
    """Tables as read (XLSX sheets or CSV files) as a validated portfolio document;
    `expected_id`: the portfolio's id must be this one (a workbook replacing a portfolio)."""
    data, reader = tables_to_data(tables)
    if expected_id is not None and "id" in data and data["id"] != expected_id:
        reader.problem(
            reader.loc(*reader.where["id"]),
            f"the workbook is portfolio {_shown(data['id'])}, but it would replace "
            f"'{expected_id}' (the id cannot change)",
        )
    problems = list(reader.problems)
    try:
        doc = validate_document(data, limits=limits)
    except DocumentError as error:
        for problem in error.problems:
            mapped = _map_problem(reader, problem)
            loc = mapped.location
            if (loc.sheet, loc.row, loc.column) in reader.bad_cells:
                continue  # the cell's own problem says it already
            problems.append(mapped)
        raise WorkbookError(_in_order(problems)) from None
    if problems:
        raise WorkbookError(_in_order(problems))
    return doc


def _in_order(problems: list[CellProblem]) -> list[CellProblem]:
    """Sheet by sheet in the workbook's order, then row by row, left to right."""
    order = {spec.name: i for i, spec in enumerate(TABLES)}

    def key(problem: CellProblem) -> tuple[int, int, int, str]:
        loc = problem.location
        letter = loc.letter or ""
        return (order.get(loc.sheet, -1), loc.row or 0, len(letter), letter)

    return sorted(problems, key=key)


def write_tables(doc: PortfolioDocument, kind: Literal["xlsx", "zip"]) -> bytes:
    """The document as an XLSX workbook or a ZIP of CSV files."""
    tables = document_tables(doc)
    if kind == "xlsx":
        return to_xlsx(tables, title=f"{doc.id}: {doc.name}"[:200])
    return to_csv_zip(tables)


# --------------------------------------------------------------------------- dry run


@dataclass(frozen=True)
class FieldChange:
    column: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RowChange:
    key: str
    fields: list[FieldChange]


@dataclass
class TableDiff:
    table: str
    added: list[str] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def _keyed(spec: TableSpec, rows: list[Row]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    counts: dict[str, int] = {}
    for row in rows:
        key = " / ".join(str(row.get(c)) for c in spec.key) if spec.key else spec.name
        n = counts.get(key, 0)
        counts[key] = n + 1
        out[key if n == 0 else f"{key} (#{n + 1})"] = row
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return bool(a == b)


def diff_documents(old: PortfolioDocument, new: PortfolioDocument) -> list[TableDiff]:
    """What replacing `old` by `new` changes, table by table (rows by their key columns)."""
    before, after = document_tables(old), document_tables(new)
    out = []
    for spec in TABLES:
        a, b = _keyed(spec, before[spec.name]), _keyed(spec, after[spec.name])
        diff = TableDiff(spec.name)
        diff.added = [key for key in b if key not in a]
        diff.removed = [key for key in a if key not in b]
        for key, row in b.items():
            if key in a:
                changes = [
                    FieldChange(c.name, a[key].get(c.name), row.get(c.name))
                    for c in spec.columns
                    if not _same(a[key].get(c.name), row.get(c.name))
                ]
                if changes:
                    diff.changed.append(RowChange(key, changes))
        out.append(diff)
    return out


def diff_data(diffs: Sequence[TableDiff]) -> dict[str, Any]:
    """The dry run as plain data (JSON): per table, added, changed (old -> new), removed."""
    return {
        "changes": sum(len(d.added) + len(d.changed) + len(d.removed) for d in diffs),
        "tables": [
            {
                "table": d.table,
                "added": d.added,
                "changed": [
                    {
                        "key": c.key,
                        "fields": [
                            {"column": f.column, "old": f.old, "new": f.new} for f in c.fields
                        ],
                    }
                    for c in d.changed
                ],
                "removed": d.removed,
            }
            for d in diffs
        ],
    }


def _value_text(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float):
        return _num_text(value)
    return str(value)


def diff_text(diffs: Sequence[TableDiff]) -> str:
    """The dry run for people, one line per change."""
    lines = []
    for d in diffs:
        if not d:
            continue
        lines.append(
            f"{d.table}: {len(d.added)} added, {len(d.changed)} changed, {len(d.removed)} removed"
        )
        lines += [f"  + {key}" for key in d.added]
        for change in d.changed:
            fields = ", ".join(
                f"{f.column} {_value_text(f.old)} -> {_value_text(f.new)}" for f in change.fields
            )
            lines.append(f"  ~ {change.key}: {fields}")
        lines += [f"  - {key}" for key in d.removed]
    return "\n".join(lines) + "\n" if lines else "no changes\n"
