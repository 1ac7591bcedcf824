"""DataFrame -> alt.Chart: pure functions, one a chart (frames.py makes the DataFrames).

Gallery style: every field typed, options as methods (`alt.X("spend:Q").title("Spend")`).
Colours: quality from red (0) to green (1); current allocations grey, optimal ones blue.
"""

from collections.abc import Sequence
from typing import Any

import altair as alt

from frontend.frames import CURRENT, CURRENT_CURVE, FITTED, OBSERVED, OPTIMAL

QUALITY_SCALE = alt.Scale(domain=[0, 1], scheme="redyellowgreen")
ALLOCATION_COLORS = alt.Scale(domain=["Current", "Optimal"], range=["#9aa5b1", "#1f77b4"])
RUN_COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b"]
"""One colour per compared run, in order (the first run is the reference)."""
MARK_COLORS = alt.Scale(domain=[CURRENT, OPTIMAL], range=["#6b7785", "#1f77b4"])
BAR_STEP = 20
"""Pixels per bar in horizontal bar charts (their height grows with the items)."""
ROW_STEP = 30
"""Pixels per row of the heat maps."""
LABEL_LIMIT = 260
"""Pixels of an axis or legend label before it is cut (Streamlit's theme cuts early)."""


def _money(field: str, title: str, currency: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q").format(",.0f").title(f"{title} ({currency})")


def _layer(*charts: Any, **kwargs: Any) -> alt.LayerChart:
    """`alt.layer`, which is typed to return a FacetChart when the layers share facet encodings
    (it hoists them); the layers here never have any."""
    chart = alt.layer(*charts, **kwargs)
    if not isinstance(chart, alt.LayerChart):
        raise TypeError("layers with facet encodings: facet the layer chart instead")
    return chart


def _run_colors(runs: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=list(runs), range=RUN_COLORS[: len(runs)])


# =========================================================================== portfolio


def portfolio_matrix(frame: Any, currency: str) -> alt.LayerChart:
    """The journey portfolio: experience quality (x) vs. value (y); bubble = attributed cost,
    colour = persona. Top right are the journeys that are good and worth much."""
    base = alt.Chart(frame).encode(
        x=alt.X("quality:Q").scale(zero=False, padding=30).title("Experience quality (0-1)"),
        y=alt.Y("value:Q").title(f"Value per period ({currency})").axis(format="~s"),
    )
    bubbles = base.mark_circle(opacity=0.75, stroke="white", strokeWidth=1).encode(
        size=alt.Size("attributed_cost:Q")
        .title(f"Attributed cost ({currency})")
        .scale(range=[80, 2200])
        .legend(format="~s", orient="bottom", tickCount=4),
        color=alt.Color("persona:N")
        .scale(scheme="tableau10")
        .title("Persona")
        .legend(orient="bottom", labelLimit=LABEL_LIMIT),
        tooltip=[
            alt.Tooltip("journey:N").title("Journey"),
            alt.Tooltip("persona:N").title("Persona"),
            alt.Tooltip("owner:N").title("Owner"),
            alt.Tooltip("lifecycle:N").title("Lifecycle"),
            alt.Tooltip("quality:Q").format(".2f").title("Experience quality"),
            _money("value", "Value", currency),
            _money("max_value", "Value at quality 1", currency),
            _money("attributed_cost", "Attributed cost", currency),
            alt.Tooltip("value_per_cost:Q").format(".1f").title("Value per cost"),
        ],
    )
    labels = base.mark_text(align="left", dx=12, fontSize=11).encode(text=alt.Text("journey:N"))
    return _layer(bubbles, labels).properties(height=460)


# =========================================================================== one journey


def kpi_trend(frame: Any) -> alt.FacetChart:
    """Each KPI's actuals over time (line) against its target (dashed rule)."""
    line = (
        alt.Chart()
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O").title(None),
            y=alt.Y("value:Q").title(None).scale(zero=False),
            tooltip=[
                alt.Tooltip("kpi:N").title("KPI"),
                alt.Tooltip("period:O").title("Period"),
                alt.Tooltip("value:Q").title("Actual"),
                alt.Tooltip("target:Q").title("Target"),
            ],
        )
    )
    target = (
        alt.Chart()
        .mark_rule(strokeDash=[6, 4], color="#d62728")
        .encode(y=alt.Y("target:Q"), tooltip=[alt.Tooltip("target:Q").title("Target")])
        .transform_filter("isValid(datum.target)")
    )
    chart: alt.FacetChart = (
        _layer(line, target, data=frame)
        .properties(width=260, height=150)
        .facet(facet=alt.Facet("kpi:N").title(None), columns=3)
        .resolve_scale(y="independent", x="independent")
    )
    return chart


def journey_map(frame: Any, stages: Sequence[str]) -> alt.LayerChart:
    """Stages (columns) x touchpoints in journey order (rows), coloured by quality; moments of
    truth (critical links) outlined and starred."""
    base = alt.Chart(frame).encode(
        x=alt.X("stage:N").sort(list(stages)).title("Stage").axis(orient="top", labelAngle=0),
        y=alt.Y("label:N")
        .sort(field="step", order="ascending")
        .title(None)
        .axis(labelLimit=LABEL_LIMIT, labelOverlap=False),
    )
    cells = base.mark_rect(cornerRadius=3).encode(
        color=alt.Color("quality:Q").scale(QUALITY_SCALE).title("Quality").legend(orient="bottom"),
        stroke=alt.when(alt.datum.critical).then(alt.value("black")).otherwise(alt.value(None)),
        strokeWidth=alt.when(alt.datum.critical).then(alt.value(2.5)).otherwise(alt.value(0)),
        tooltip=[
            alt.Tooltip("touchpoint:N").title("Touchpoint"),
            alt.Tooltip("stage:N").title("Stage"),
            alt.Tooltip("quality:Q").format(".2f").title("Quality (optimal)"),
            alt.Tooltip("current_quality:Q").format(".2f").title("Quality today"),
            alt.Tooltip("share:Q").format(".0%").title("Share of the journey"),
            alt.Tooltip("moment:N").title("Critical"),
        ],
    )
    text = (
        base.mark_text(fontSize=12)
        .transform_calculate(text="format(datum.quality, '.2f') + (datum.critical ? ' ★' : '')")
        .encode(text=alt.Text("text:N"))
    )
    return _layer(cells, text).properties(height=alt.Step(ROW_STEP))


def emotion_curve(frame: Any) -> alt.LayerChart:
    """How the customer feels along the journey (-2 .. +2 where the map records it)."""
    base = alt.Chart(frame).transform_filter("isValid(datum.emotion)")
    x = alt.X("step:O").title("Step of the journey (as numbered in the map)").axis(labelAngle=0)
    line = base.mark_line(color="#888").encode(
        x=x, y=alt.Y("emotion:Q").scale(domain=[-2, 2]).title("Emotion (-2 to +2)")
    )
    points = base.mark_circle(size=140).encode(
        x=x,
        y=alt.Y("emotion:Q"),
        color=alt.Color("emotion:Q").scale(domain=[-2, 2], scheme="redyellowgreen").legend(None),
        tooltip=[
            alt.Tooltip("label:N").title("Touchpoint"),
            alt.Tooltip("stage:N").title("Stage"),
            alt.Tooltip("emotion:Q").title("Emotion"),
        ],
    )
    zero = base.mark_rule(color="#bbb").encode(y=alt.datum(0))
    return _layer(zero, line, points).properties(height=240)


def journey_costs(frame: Any, currency: str) -> alt.Chart:
    """Where the journey's attributed cost comes from, by touchpoint."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("cost:Q").title(f"Attributed cost ({currency})").axis(format="~s"),
            y=alt.Y("touchpoint:N").sort("-x").title(None).axis(labelLimit=LABEL_LIMIT),
            tooltip=[
                alt.Tooltip("touchpoint:N").title("Touchpoint"),
                _money("cost", "Attributed cost", currency),
                alt.Tooltip("share_of_spend:Q").format(".0%").title("Share of its spend"),
            ],
        )
        .properties(height=alt.Step(BAR_STEP))
    )
    return chart


# =========================================================================== touchpoints


def sharing_matrix(frame: Any) -> alt.LayerChart:
    """Journeys (rows) x touchpoints (columns): the share of each journey's experience a
    touchpoint carries; ★ marks a moment of truth. Most shared touchpoints come first."""
    base = alt.Chart(frame).encode(
        x=alt.X("touchpoint:N")
        .sort(field="journeys_sharing", op="max", order="descending")
        .title(None)
        .axis(orient="top", labelAngle=-40, labelLimit=LABEL_LIMIT, labelOverlap=False),
        y=alt.Y("journey:N").title(None).axis(labelLimit=LABEL_LIMIT, labelOverlap=False),
    )
    cells = base.mark_rect(cornerRadius=2).encode(
        color=alt.Color("share:Q")
        .scale(scheme="blues")
        .title("Share of journey")
        .legend(format=".0%"),
        tooltip=[
            alt.Tooltip("journey:N").title("Journey"),
            alt.Tooltip("touchpoint:N").title("Touchpoint"),
            alt.Tooltip("department:N").title("Department"),
            alt.Tooltip("share:Q").format(".0%").title("Share of the journey"),
            alt.Tooltip("critical:N").title("Moment of truth"),
            alt.Tooltip("journeys_sharing:Q").title("Journeys sharing it"),
        ],
    )
    marks = base.mark_text(fontSize=13, color="black").encode(text=alt.Text("mark:N"))
    return _layer(cells, marks).properties(width=alt.Step(34), height=alt.Step(ROW_STEP))


def response_curves(frame: Any, currency: str, *, columns: int = 3) -> alt.FacetChart:
    """Each touchpoint's response curve (spend -> quality) with today's and the optimal spend."""
    curve = (
        alt.Chart()
        .mark_line(color="#444")
        .encode(
            x=alt.X("spend:Q").title(f"Spend ({currency})").axis(format="~s"),
            y=alt.Y("quality:Q").scale(domain=[0, 1]).title("Quality"),
        )
        .transform_filter(alt.datum.kind == "curve")
    )
    marks = (
        alt.Chart()
        .mark_point(filled=True, size=110)
        .encode(
            x=alt.X("spend:Q"),
            y=alt.Y("quality:Q"),
            color=alt.Color("kind:N").scale(MARK_COLORS).title(None),
            shape=alt.Shape("kind:N").scale(domain=[CURRENT, OPTIMAL], range=["circle", "diamond"]),
            tooltip=[
                alt.Tooltip("touchpoint:N").title("Touchpoint"),
                alt.Tooltip("kind:N").title("Which"),
                _money("spend", "Spend", currency),
                alt.Tooltip("quality:Q").format(".2f").title("Quality"),
            ],
        )
        .transform_filter(alt.datum.kind != "curve")
    )
    chart: alt.FacetChart = (
        _layer(curve, marks, data=frame)
        .properties(width=230, height=150)
        .facet(facet=alt.Facet("touchpoint:N").title(None), columns=columns)
        .resolve_scale(x="independent")
    )
    return chart


EVIDENCE_COLORS = alt.Scale(
    domain=[OBSERVED, FITTED, CURRENT_CURVE, CURRENT, OPTIMAL],
    range=["#333333", "#1f77b4", "#9aa5b1", "#6b7785", "#ff7f0e"],
)


def evidence_curve(frame: Any, currency: str, level: float) -> alt.LayerChart:
    """Observations (dots) against the fitted curve and its band, the current curve dashed,
    and today's and the optimal spend as vertical rules."""
    x = alt.X("spend:Q").title(f"Spend ({currency})").axis(format="~s")
    y = alt.Y("quality:Q").scale(domain=[0, 1]).title("Quality")
    color = alt.Color("kind:N").scale(EVIDENCE_COLORS).title(None).legend(orient="bottom")
    base = alt.Chart().encode(x=x)
    band = (
        base.mark_area(opacity=0.2, color="#1f77b4")
        .encode(
            y=alt.Y("low:Q").scale(domain=[0, 1]).title("Quality"),
            y2=alt.Y2("high:Q"),
            tooltip=[
                _money("spend", "Spend", currency),
                alt.Tooltip("low:Q").format(".3f").title(f"Low ({level:.0%} band)"),
                alt.Tooltip("quality:Q").format(".3f").title("Fitted"),
                alt.Tooltip("high:Q").format(".3f").title(f"High ({level:.0%} band)"),
            ],
        )
        .transform_filter(alt.datum.kind == FITTED)
    )
    lines = (
        base.mark_line()
        .encode(
            y=y,
            color=color,
            strokeDash=alt.StrokeDash("kind:N")
            .scale(domain=[FITTED, CURRENT_CURVE], range=[[1, 0], [6, 4]])
            .legend(None),
        )
        .transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=[FITTED, CURRENT_CURVE]))
    )
    dots = (
        base.mark_circle(size=55, opacity=0.85)
        .encode(
            y=y,
            color=color,
            tooltip=[
                alt.Tooltip("period:N").title("Period"),
                _money("spend", "Spend", currency),
                alt.Tooltip("outcome:Q").format(",.4~g").title("Outcome"),
                alt.Tooltip("quality:Q").format(".3f").title("Quality"),
            ],
        )
        .transform_filter(alt.datum.kind == OBSERVED)
    )
    rules = (
        base.mark_rule(strokeWidth=2)
        .encode(
            color=color,
            tooltip=[
                alt.Tooltip("kind:N").title("Which"),
                _money("spend", "Spend", currency),
                alt.Tooltip("quality:Q").format(".3f").title("Quality on the fitted curve"),
            ],
        )
        .transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=[CURRENT, OPTIMAL]))
    )
    return _layer(band, lines, dots, rules, data=frame).properties(height=340)


# =========================================================================== runs


def allocation_bars(frame: Any, item: str, currency: str) -> alt.Chart:
    """Current vs. optimal spend per item (touchpoint or department), side by side."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("spend:Q").title(f"Spend ({currency})").axis(format="~s"),
            y=alt.Y(f"{item}:N")
            .sort(field="spend", op="max", order="descending")
            .title(None)
            .axis(labelLimit=LABEL_LIMIT),
            yOffset=alt.YOffset("allocation:N"),
            color=alt.Color("allocation:N").scale(ALLOCATION_COLORS).title(None),
            tooltip=[
                alt.Tooltip(f"{item}:N").title(item.capitalize()),
                alt.Tooltip("allocation:N").title("Allocation"),
                _money("spend", "Spend", currency),
            ],
        )
        .properties(height=alt.Step(BAR_STEP))
    )
    return chart


def shadow_price_bars(frame: Any, unit: str) -> alt.Chart:
    """What one more unit of each constraint is worth, in `unit` (the run's words for it:
    prices of different units do not share an axis)."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar(color="#ff7f0e")
        .encode(
            x=alt.X("price:Q").title(f"Shadow price ({unit})"),
            y=alt.Y("constraint:N").sort("-x").title(None).axis(labelLimit=LABEL_LIMIT),
            tooltip=[
                alt.Tooltip("constraint:N").title("Constraint"),
                alt.Tooltip("price:Q").format(".3f").title("Shadow price"),
                alt.Tooltip("unit:N").title("Unit"),
            ],
        )
        .properties(height=alt.Step(BAR_STEP))
    )
    return chart


# =========================================================================== compare


def compare_figures(frame: Any, currency: str) -> alt.Chart:
    """Value, spend and price of silos of each run, grouped (runs in the frame's order)."""
    runs = list(dict.fromkeys(frame["run"]))
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("figure:N")
            .sort(["Value", "Spend", "Price of silos"])
            .title(None)
            .axis(labelAngle=0),
            xOffset=alt.XOffset("run:N").sort(runs),
            y=alt.Y("amount:Q").title(currency).axis(format="~s"),
            color=alt.Color("run:N")
            .sort(runs)
            .scale(_run_colors(runs))
            .title("Run")
            .legend(orient="bottom", columns=1, labelLimit=600),
            tooltip=[
                alt.Tooltip("run:N").title("Run"),
                alt.Tooltip("figure:N").title("Figure"),
                _money("amount", "Amount", currency),
            ],
        )
        .properties(height=320)
    )
    return chart


def delta_bars(frame: Any, currency: str, title: str, runs: Sequence[str]) -> alt.LayerChart:
    """Each item's change against the first of `runs` (one bar per other run, coloured as in
    `compare_figures`)."""
    others = list(runs[1:])
    base = alt.Chart(frame)
    bars = base.mark_bar().encode(
        x=alt.X("delta:Q").title(title).axis(format="~s"),
        y=alt.Y("item:N")
        .sort(field="delta", op="sum", order="descending")
        .title(None)
        .axis(labelLimit=LABEL_LIMIT, labelOverlap=False),
        yOffset=alt.YOffset("run:N").sort(others),
        color=alt.Color("run:N")
        .sort(others)
        .scale(alt.Scale(domain=others, range=RUN_COLORS[1 : len(runs)]))
        .title("Against the first run")
        .legend(orient="bottom", columns=1, labelLimit=600),
        tooltip=[
            alt.Tooltip("item:N").title("Item"),
            alt.Tooltip("run:N").title("Run"),
            alt.Tooltip("delta:Q").format("+,.2f").title(f"Change ({currency})"),
        ],
    )
    zero = base.mark_rule(color="#555").encode(x=alt.datum(0))
    return _layer(bars, zero).properties(height=alt.Step(BAR_STEP * max(len(others), 1)))


# =========================================================================== value bridge

BRIDGE_COLORS = {
    "total": "#4c78a8",
    "increase": "#54a24b",
    "decrease": "#e45756",
    "infeasible": "#9d9d9d",
}


def bridge_waterfall(frame: Any, currency: str) -> alt.LayerChart:
    """A value bridge as a waterfall: the two ends as bars standing on the frame's `floor`,
    each step a floating bar from the level before it to its own, labelled with its change
    (frames.bridge_frame)."""
    order = list(frame["bar"])
    floor = float(frame["floor"].min()) if len(frame) else 0.0
    top = float(frame["top"].max()) if len(frame) else 1.0
    pad = (top - floor) * 0.08
    base = alt.Chart(frame).encode(
        x=alt.X("bar:N").sort(order).title(None).axis(labelAngle=0, labelLimit=160),
    )
    bars = base.mark_bar(clip=True).encode(
        y=alt.Y("low:Q")
        .title(f"Value ({currency})")
        .axis(format="~s")
        .scale(zero=False, domain=[floor, top + pad]),
        y2=alt.Y2("high:Q"),
        color=alt.Color("kind:N")
        .scale(domain=list(BRIDGE_COLORS), range=list(BRIDGE_COLORS.values()))
        .legend(None),
        tooltip=[
            alt.Tooltip("bar:N").title("Step"),
            alt.Tooltip("change:Q").format("+,.0f").title(f"Value change ({currency})"),
            alt.Tooltip("level:Q").format(",.0f").title(f"Value after ({currency})"),
        ],
    )
    labels = (
        base.mark_text(dy=-8)
        .encode(
            y=alt.Y("label_at:Q"),
            text=alt.Text("text:N"),
        )
        .transform_calculate(label_at="max(datum.low, datum.high)")
    )
    return _layer(bars, labels).properties(height=300, title="Value bridge")
