"""Response curves imported from marketing-mix models (issue 11 item 4, README "Import from
marketing-mix models").

Each channel of the model becomes the curve of one touchpoint (its id equals the channel,
or its slug, or an explicit mapping file says which). The curve keeps the touchpoint's
quality range: `base` and `max` of its current curve (a `points` curve: the first and the
last quality), so only the shape of the response comes from the model:

- Robyn (`pareto_hyperparameters.csv`, one row per Pareto model, `solID` picks one): the
  Hill saturation x^alpha / (x^alpha + inflexion^alpha) of the channel's adstocked spend x.
  The inflexion is gamma * max(x) since Robyn 3.12 and (1 - gamma) * min(x) + gamma * max(x)
  before; the range of x comes from the mapping file (`spend_min`, `spend_max`) or from the
  touchpoint's observations, adstocked geometrically with the channel's `_thetas`.
  -> hill {half_spend: inflexion, shape: alpha}.
- Meridian (the table of `Analyzer.response_curves`: `channel, spend, mean, ci_lo, ci_hi`):
  the incremental outcome, scaled so that zero is `base` and the largest mean is `max`,
  becomes a `points` curve, and the interval (scaled alike) its `uncertainty.band`.
- PyMC-Marketing (`az.summary(...)` as CSV: a first column naming the variable, e.g.
  `saturation_lam[tv]`, and `mean`): posterior means of the saturation's parameters,
  `channel_scale` undone (y(s) = f(s / channel_scale)). logistic (lam) -> logistic
  {lam: lam / c}; Michaelis-Menten (alpha, lam) -> saturating {half_spend: lam c}; Hill
  (slope, kappa) -> hill {half_spend: kappa c, shape: slope}.

A mapping row's `spend_scale` (default 1) converts the model's spend unit into the
portfolio's (52 for a weekly model and a yearly plan): portfolio spend = spend_scale x
model spend. Everything wrong is collected and reported at once, each naming the file, the
line (as the file shows it; the header is line 1) and the column; nothing is written then.
"""

import csv
import datetime
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import yaml
from slugify import slugify

from optimizer.document import Curve as DocumentCurve
from optimizer.document import (
    DocumentError,
    Limits,
    PortfolioDocument,
    parse_text,
    validate_document,
)

ModelKind = Literal["robyn", "meridian", "pymc-marketing"]
MODEL_KINDS: Final[tuple[ModelKind, ...]] = ("robyn", "meridian", "pymc-marketing")
ROBYN_CURRENT: Final = "3.12"
"""The first Robyn version whose inflexion is gamma * max(x)."""


class ImportProblems(ValueError):
    """Everything that keeps the import from mapping; each message names file, line, column."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Imported:
    channel: str
    touchpoint: str
    curve: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class MappingRow:
    touchpoint: str
    line: int
    spend_min: float | None = None
    spend_max: float | None = None
    spend_scale: float = 1.0
    channel_scale: float | None = None


@dataclass
class Context:
    """The portfolio the curves go into, and what was said about each channel."""

    doc: PortfolioDocument
    mapping: dict[str, MappingRow] | None
    mapping_path: Path | None
    problems: list[str] = field(default_factory=list)

    def touchpoint_for(self, channel: str, where: str) -> str | None:
        ids = {t.id for t in self.doc.touchpoints}
        if self.mapping is not None:
            row = self.mapping.get(channel)
            if row is None:
                self.problems.append(
                    f"{where}: channel '{channel}' is not in the mapping file {self.mapping_path}"
                )
                return None
            return row.touchpoint  # checked against the portfolio when the mapping was read
        for candidate in (channel, slugify(channel)):
            if candidate in ids:
                return candidate
        self.problems.append(
            f"{where}: channel '{channel}' names no touchpoint of portfolio '{self.doc.id}' "
            "(give a mapping file: --mapping with the columns channel,touchpoint)"
        )
        return None

    def row(self, channel: str) -> MappingRow | None:
        return None if self.mapping is None else self.mapping.get(channel)

    def spend_scale(self, channel: str) -> float:
        row = self.row(channel)
        return 1.0 if row is None else row.spend_scale

    def quality_range(self, touchpoint: str) -> tuple[float, float]:
        curve = next(t.curve for t in self.doc.touchpoints if t.id == touchpoint)
        if curve.points is not None:
            return curve.points[0][1], curve.points[-1][1]
        form = getattr(curve, curve.form)
        return float(form.base), float(form.max)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Table:
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    """(line in the file, cells by column name)."""


def read_table(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportProblems([f"cannot read {path}: {error}"]) from None
    lines = text.splitlines()
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise ImportProblems([f"{path}: empty file"])
    header = [h.strip() for h in header]
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                f"{path}: line {line}: {len(cells)} cells, the header has {len(header)}"
            )
            continue
        rows.append((line, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if problems:
        raise ImportProblems(problems)
    return Table(path, header, rows)


def require_columns(table: Table, columns: tuple[str, ...], expected: str) -> None:
    missing = [c for c in columns if c not in table.header]
    if missing:
        raise ImportProblems(
            [
                f"{table.path}: line 1, column {m}: missing column '{m}' (expected {expected})"
                for m in missing
            ]
        )


def number(
    table: Table,
    line: int,
    cells: dict[str, str],
    column: str,
    problems: list[str],
    check: Callable[[float], bool] = math.isfinite,
    meaning: str = "a finite number",
) -> float | None:
    """The cell as a number, or None with a problem naming file, line and column."""
    cell = cells.get(column, "")
    where = f"{table.path}: line {line}, column {column}"
    try:
        value = float(cell)
    except ValueError:
        problems.append(f"{where}: {cell!r} is not a number")
        return None
    if not (math.isfinite(value) and check(value)):
        problems.append(f"{where}: {cell} is out of range (must be {meaning})")
        return None
    return value


def read_mapping(path: Path, doc: PortfolioDocument) -> dict[str, MappingRow]:
    """`channel,touchpoint` and optionally `spend_min, spend_max, spend_scale,
    channel_scale` per channel."""
    table = read_table(path)
    require_columns(table, ("channel", "touchpoint"), "channel,touchpoint")
    ids = {t.id for t in doc.touchpoints}
    problems: list[str] = []
    out: dict[str, MappingRow] = {}
    for line, cells in table.rows:
        channel, touchpoint = cells["channel"], cells["touchpoint"]
        if not channel:
            problems.append(f"{path}: line {line}, column channel: empty")
            continue
        if channel in out:
            problems.append(
                f"{path}: line {line}, column channel: channel '{channel}' mapped twice "
                f"(also line {out[channel].line})"
            )
            continue
        if touchpoint not in ids:
            problems.append(
                f"{path}: line {line}, column touchpoint: no touchpoint '{touchpoint}' in "
                f"portfolio '{doc.id}'"
            )
            continue
        values: dict[str, float | None] = {}
        for column, check, meaning in (
            ("spend_min", lambda v: v >= 0, ">= 0"),
            ("spend_max", lambda v: v > 0, "> 0"),
            ("spend_scale", lambda v: v > 0, "> 0"),
            ("channel_scale", lambda v: v > 0, "> 0"),
        ):
            values[column] = (
                number(table, line, cells, column, problems, check, meaning)
                if cells.get(column, "")
                else None
            )
        low, high = values["spend_min"], values["spend_max"]
        if low is not None and high is not None and low > high:
            problems.append(f"{path}: line {line}, column spend_min: {low:g} is above spend_max")
        out[channel] = MappingRow(
            touchpoint=touchpoint,
            line=line,
            spend_min=low,
            spend_max=high,
            spend_scale=values["spend_scale"] or 1.0,
            channel_scale=values["channel_scale"],
        )
    if problems:
        raise ImportProblems(problems)
    return out


def source(kind: ModelKind, uncertainty: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "date": datetime.date.today().isoformat()}
    if uncertainty is not None:
        out["uncertainty"] = uncertainty
    return out


# --------------------------------------------------------------------------- Robyn


def version_tuple(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)
    if not parts:
        raise ImportProblems([f"--robyn-version: {version!r} is not a version like 3.12.0"])
    return tuple(int(p) for p in parts)


def adstocked_range(spends: list[float], theta: float | None) -> tuple[float, float]:
    """min and max of the geometric adstock x_t = s_t + theta x_{t-1} (theta 0: the spends)."""
    from scipy.signal import lfilter

    x = lfilter([1.0], [1.0, -(theta or 0.0)], np.asarray(spends, dtype=float))
    return float(x.min()), float(x.max())


def import_robyn(path: Path, ctx: Context, *, version: str, solution: str | None) -> list[Imported]:
    table = read_table(path)
    channels = [c.removesuffix("_alphas") for c in table.header if c.endswith("_alphas")]
    if not channels:
        raise ImportProblems(
            [
                f"{path}: line 1: no column '<channel>_alphas': "
                "not a Robyn pareto_hyperparameters.csv"
            ]
        )
    require_columns(
        table, tuple(f"{c}_gammas" for c in channels), "<channel>_gammas for every _alphas"
    )
    rows = table.rows
    if solution is not None:
        require_columns(table, ("solID",), "solID to pick --solution")
        rows = [r for r in rows if r[1]["solID"] == solution]
        if not rows:
            known = ", ".join(r[1]["solID"] for r in table.rows)
            raise ImportProblems([f"{path}: column solID: no model '{solution}' (found {known})"])
    if len(rows) != 1:
        known = ", ".join(r[1].get("solID", f"line {r[0]}") for r in table.rows)
        raise ImportProblems(
            [f"{path}: {len(rows)} models; pick one with --solution (solID: {known})"]
        )
    line, cells = rows[0]
    since = version_tuple(version) >= version_tuple(ROBYN_CURRENT)
    rule = (
        f"inflexion = gamma * max(x) (Robyn {version}, since {ROBYN_CURRENT})"
        if since
        else f"inflexion = (1 - gamma) * min(x) + gamma * max(x) (Robyn {version}, before "
        f"{ROBYN_CURRENT})"
    )
    out: list[Imported] = []
    problems = ctx.problems
    for channel in channels:
        where = f"{path}: line {line}, column {channel}_alphas"
        touchpoint = ctx.touchpoint_for(channel, where)
        alpha = number(table, line, cells, f"{channel}_alphas", problems, lambda v: v > 0, "> 0")
        gamma = number(
            table, line, cells, f"{channel}_gammas", problems, lambda v: 0 < v <= 1, "in (0, 1]"
        )
        theta: float | None = None
        if f"{channel}_thetas" in table.header:
            theta = number(
                table, line, cells, f"{channel}_thetas", problems, lambda v: 0 <= v < 1, "in [0, 1)"
            )
            if theta is None:
                continue
        if touchpoint is None or alpha is None or gamma is None:
            continue
        row = ctx.row(channel)
        if row is not None and row.spend_max is not None:
            x_min, x_max = row.spend_min or 0.0, row.spend_max
            range_from = f"mapping line {row.line}"
        else:
            tp = next(t for t in ctx.doc.touchpoints if t.id == touchpoint)
            weibull = f"{channel}_shapes" in table.header
            if tp.observations is None or not tp.observations.rows or weibull:
                why = " (Weibull adstock: give it)" if weibull else ""
                problems.append(
                    f"{where}: channel '{channel}' needs its adstocked spend range: give "
                    f"spend_min and spend_max in a mapping file{why}, or observations on "
                    f"touchpoint '{touchpoint}'"
                )
                continue
            # the model's periods in order: observations carry sortable period labels
            ordered = sorted(tp.observations.rows, key=lambda r: r.period)
            x_min, x_max = adstocked_range([r.spend for r in ordered], theta)
            range_from = f"{len(ordered)} observations of {touchpoint}, adstocked (theta {theta})"
        inflexion = gamma * x_max if since else (1 - gamma) * x_min + gamma * x_max
        if not inflexion > 0:
            problems.append(f"{where}: channel '{channel}': the inflexion is 0 (no spend range)")
            continue
        base, top = ctx.quality_range(touchpoint)
        curve = {
            "hill": {
                "base": base,
                "max": top,
                "half_spend": inflexion * ctx.spend_scale(channel),
                "shape": alpha,
            },
            "source": source("robyn"),
        }
        note = f"{rule}; x in [{x_min:,.6g}, {x_max:,.6g}] from {range_from}"
        out.append(Imported(channel, touchpoint, curve, note))
    return out


# --------------------------------------------------------------------------- Meridian


def import_meridian(path: Path, ctx: Context, *, max_points: int) -> list[Imported]:
    table = read_table(path)
    require_columns(
        table, ("channel", "spend", "mean", "ci_lo", "ci_hi"), "channel,spend,mean,ci_lo,ci_hi"
    )
    problems = ctx.problems
    by_channel: dict[str, list[tuple[int, float, float, float, float]]] = {}
    for line, cells in table.rows:
        values = [
            number(table, line, cells, "spend", problems, lambda v: v >= 0, ">= 0"),
            *(number(table, line, cells, c, problems) for c in ("mean", "ci_lo", "ci_hi")),
        ]
        if any(v is None for v in values):
            continue
        spend, mean, low, high = (float(v) for v in values if v is not None)
        if not low <= mean <= high:
            column = "ci_lo" if low > mean else "ci_hi"
            problems.append(
                f"{path}: line {line}, column {column}: the interval {low:g}..{high:g} does not "
                f"hold the mean {mean:g}"
            )
            continue
        by_channel.setdefault(cells["channel"], []).append((line, spend, mean, low, high))
    out: list[Imported] = []
    for channel, rows in by_channel.items():
        first = rows[0][0]
        where = f"{path}: line {first}, column channel"
        touchpoint = ctx.touchpoint_for(channel, where)
        if touchpoint is None:
            continue
        rows.sort(key=lambda r: r[1])
        bad = False
        for (l0, s0, m0, *_), (l1, s1, m1, *_) in zip(rows, rows[1:], strict=False):
            if s1 == s0:
                problems.append(
                    f"{path}: line {l1}, column spend: spend {s1:g} given twice for channel "
                    f"'{channel}' (also line {l0})"
                )
                bad = True
            elif m1 < m0:
                problems.append(
                    f"{path}: line {l1}, column mean: the incremental outcome falls with spend "
                    f"({m1:g} at {s1:g} after {m0:g} at {s0:g}) for channel '{channel}'"
                )
                bad = True
        if bad:
            continue
        if rows[0][1] > 0:  # no outcome without spend: the curve starts at (0, 0)
            rows.insert(0, (first, 0.0, 0.0, 0.0, 0.0))
        if rows[0][2] != 0:
            problems.append(
                f"{path}: line {rows[0][0]}, column mean: the incremental outcome at spend 0 "
                f"is {rows[0][2]:g}, not 0 (channel '{channel}')"
            )
            continue
        if len(rows) > max_points:
            problems.append(
                f"{where}: channel '{channel}' has {len(rows)} spends, more than the "
                f"{max_points} points a curve may have"
            )
            continue
        top_outcome = max(r[2] for r in rows)
        if not top_outcome > 0:
            problems.append(
                f"{where}: channel '{channel}': the incremental outcome never rises above 0"
            )
            continue
        base, top = ctx.quality_range(touchpoint)
        scale = ctx.spend_scale(channel)

        def quality(
            outcome: float, base: float = base, top: float = top, most: float = top_outcome
        ) -> float:
            return min(1.0, max(0.0, base + (top - base) * outcome / most))

        curve = {
            "points": [[s * scale, quality(m)] for _, s, m, _, _ in rows],
            "source": source(
                "meridian",
                {"band": [[s * scale, quality(lo), quality(hi)] for _, s, _, lo, hi in rows]},
            ),
        }
        note = f"{len(rows)} points; largest mean outcome {top_outcome:,.6g} -> quality {top:g}"
        out.append(Imported(channel, touchpoint, curve, note))
    return out


# --------------------------------------------------------------------------- PyMC-Marketing

_PYMC_NAME = re.compile(r"^(saturation_[a-z_]+|channel_scale)\[(.+)\]$")
SATURATIONS: Final = {
    frozenset({"lam"}): "logistic",
    frozenset({"alpha", "lam"}): "michaelis-menten",
    frozenset({"slope", "kappa"}): "hill",
}


def import_pymc(path: Path, ctx: Context) -> list[Imported]:
    table = read_table(path)
    name_column = table.header[0]
    require_columns(table, ("mean",), "a first column naming the variable, and mean")
    problems = ctx.problems
    found: dict[str, dict[str, tuple[int, float]]] = {}
    for line, cells in table.rows:
        match = _PYMC_NAME.match(cells[name_column])
        if match is None:
            continue  # adstock, intercept, controls: not part of the curve
        variable, channel = match.group(1), match.group(2).strip()
        parameter = variable.removeprefix("saturation_")
        if parameter == "beta":
            continue  # the channel's effect size: the touchpoint keeps its quality range
        value = number(table, line, cells, "mean", problems, lambda v: v > 0, "> 0")
        if value is not None:
            found.setdefault(channel, {})[parameter] = (line, value)
    out: list[Imported] = []
    for channel, params in found.items():
        first = min(line for line, _ in params.values())
        where = f"{path}: line {first}, column {name_column or 'first'}"
        touchpoint = ctx.touchpoint_for(channel, where)
        row = ctx.row(channel)
        scale_entry = params.pop("channel_scale", None)
        if scale_entry is not None:
            channel_scale: float | None = scale_entry[1]
        else:
            channel_scale = row.channel_scale if row is not None else None
        kind = SATURATIONS.get(frozenset(params))
        if kind is None:
            problems.append(
                f"{where}: channel '{channel}' has the saturation parameters "
                f"{', '.join(sorted(params)) or 'none'}: not logistic (lam), Michaelis-Menten "
                "(alpha, lam) or Hill (slope, kappa)"
            )
            continue
        if channel_scale is None:
            problems.append(
                f"{where}: channel '{channel}' has no channel_scale: add a row "
                f"channel_scale[{channel}] or a channel_scale column to the mapping"
            )
            continue
        if touchpoint is None:
            continue
        c = channel_scale * ctx.spend_scale(channel)
        base, top = ctx.quality_range(touchpoint)
        if kind == "logistic":
            form: dict[str, Any] = {
                "logistic": {"base": base, "max": top, "lam": params["lam"][1] / c}
            }
        elif kind == "michaelis-menten":
            form = {"saturating": {"base": base, "max": top, "half_spend": params["lam"][1] * c}}
        else:
            line, slope = params["slope"]
            half = params["kappa"][1] * c
            form = {"hill": {"base": base, "max": top, "half_spend": half, "shape": slope}}
        note = f"{kind} saturation, channel_scale {channel_scale:g}"
        out.append(Imported(channel, touchpoint, form | {"source": source("pymc-marketing")}, note))
    if not found and not problems:
        problems.append(
            f"{path}: no row named saturation_<parameter>[<channel>] in the first column "
            f"'{name_column}': not an az.summary of a PyMC-Marketing model"
        )
    return out


# --------------------------------------------------------------------------- the import


@dataclass(frozen=True)
class ImportResult:
    imported: list[Imported]
    data: dict[str, Any]
    """The portfolio document with the imported curves."""


def import_curves(
    kind: ModelKind,
    file: Path,
    portfolio: Path,
    *,
    mapping: Path | None = None,
    robyn_version: str = ROBYN_CURRENT,
    solution: str | None = None,
) -> ImportResult:
    """The portfolio document with every channel's curve in place of its touchpoint's.

    Raises
    ------
    DocumentError
        The portfolio document is invalid (or would be with the imported curves).
    ImportProblems
        A channel maps to no touchpoint, a column is missing, a value is out of range.
    """
    text_error = None
    try:
        text = portfolio.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        text_error = f"cannot read {portfolio}: {error}"
    if text_error is not None:
        raise ImportProblems([text_error])
    data = parse_text(text, name=str(portfolio))
    doc = validate_document(data)
    ctx = Context(doc, read_mapping(mapping, doc) if mapping else None, mapping)
    if kind == "robyn":
        imported = import_robyn(file, ctx, version=robyn_version, solution=solution)
    elif kind == "meridian":
        imported = import_meridian(file, ctx, max_points=Limits().curve_points)
    else:
        imported = import_pymc(file, ctx)
    if ctx.mapping is not None:
        found = {item.channel for item in imported}
        for channel, row in ctx.mapping.items():
            if channel not in found and not any(f"'{channel}'" in p for p in ctx.problems):
                ctx.problems.append(
                    f"{mapping}: line {row.line}, column channel: channel '{channel}' is not "
                    f"in {file}"
                )
    seen: dict[str, str] = {}
    for item in imported:
        if item.touchpoint in seen:
            ctx.problems.append(
                f"{file}: channels '{seen[item.touchpoint]}' and '{item.channel}' both map to "
                f"touchpoint '{item.touchpoint}'"
            )
        seen[item.touchpoint] = item.channel
    if ctx.problems:
        raise ImportProblems(ctx.problems)
    if not imported:
        raise ImportProblems([f"{file}: no channel found"])
    position = {t["id"]: i for i, t in enumerate(data["touchpoints"])}
    for item in imported:
        DocumentCurve.model_validate(item.curve)  # a bug here is ours, not the user's
        data["touchpoints"][position[item.touchpoint]]["curve"] = item.curve
    validate_document(data)
    return ImportResult(imported, data)


def write_document(data: dict[str, Any], out: Path) -> None:
    """YAML (JSON for a .json name), written whole or not at all (a temporary file
    renamed over the target)."""
    import json

    if out.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    fd, tmp = tempfile.mkstemp(dir=out.parent or Path("."), prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, out.stat().st_mode & 0o777 if out.exists() else 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "MODEL_KINDS",
    "DocumentError",
    "ImportProblems",
    "ImportResult",
    "Imported",
    "import_curves",
    "write_document",
]
