"""Portfolio: what the journeys are worth, what the budget buys, what the silos cost."""

import streamlit as st

from frontend import charts, common, formats, frames

portfolio = common.pick_portfolio()
personas, journeys = common.load(portfolio, "personas", "journeys")
currency = portfolio["currency"]

st.title(portfolio["name"])
st.caption(
    f"{portfolio.get('description') or ''} Period {portfolio['period']}, budget "
    f"{common.money(portfolio['budget'], portfolio)}, {portfolio['journeys']} journeys on "
    f"{portfolio['touchpoints']} touchpoints."
)

run = common.as_planned(portfolio)
if run["status"] != "optimal":
    st.error(
        "The portfolio as planned cannot be met; the optimizer says what stands in the way:",
        icon=":material/block:",
    )
    for conflict in run["conflicts"]:
        st.markdown(f"- {conflict['message']}")
    st.stop()

figures = frames.headline(run)
step, spend_step = figures["step"], figures["spend_step"]


def shown(amount: float, *, signed: bool = False) -> str:
    """A figure of the headline group (one step, so the differences below add up)."""
    return common.money(amount, portfolio, signed=signed, step=step)


def spent(amount: float) -> str:
    return common.money(amount, portfolio, step=spend_step)


left = figures["unallocated"]
value, spend, gain, silos = st.columns(4)
value.metric(
    "Portfolio value",
    shown(figures["value"]),
    border=True,
    help="Sum of every journey's value per period at the experience quality the optimal "
    "allocation of the planned budget reaches.",
)
spend.metric(
    "Spend vs. budget",
    spent(figures["spend"]),
    delta=f"of {spent(figures['budget'])}; "
    + (
        f"{spent(left)} unallocated"
        if left > 0
        else "all used"
        if left == 0
        else f"{spent(-left)} over the budget"
    ),
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Budget that creates no value is left unallocated, never spread arbitrarily.",
)
gain.metric(
    "Value vs. current allocation",
    shown(figures["gain_vs_current"], signed=True),
    delta=common.change(
        formats.percent(figures["gain_ratio"], signed=True), figures["gain_ratio"], ratio=True
    ),
    border=True,
    help=f"Today's allocation ({common.money(figures['current_spend'], portfolio)} as spent "
    f"now) is worth {shown(figures['current_value'])}; the optimum of the planned budget "
    f"{shown(figures['value'])} − {shown(figures['current_value'])} = "
    f"{shown(figures['gain_vs_current'], signed=True)}, "
    f"{formats.percent(figures['gain_ratio'], signed=True)} of today's value.",
)
silos.metric(
    "Price of silos",
    shown(figures["price_of_silos"]),
    border=True,
    help="What the portfolio loses, in money, when every department optimizes its own "
    "touchpoints with its own budget: the optimum of the same budget is worth this much more "
    "than the silo allocation. Priority-weighted (each journey's value times its priority) "
    f"it is {common.money(figures['price_of_silos_weighted'], portfolio)}.",
)

st.caption(
    f"**Price of silos**: when every department spends its own budget on its own touchpoints "
    f"for their own quality, blind to the journeys they serve, the portfolio is worth "
    f"{shown(figures['silo_value'])}; spending the same budget for the journeys makes it "
    f"worth {shown(figures['value'])}: {shown(figures['value'])} − "
    f"{shown(figures['silo_value'])} = {shown(figures['price_of_silos'])} lost to silos. "
    f"Priority-weighted, the price of silos is "
    f"{common.money(figures['price_of_silos_weighted'], portfolio)}."
)

left_out = run.get("left_out") or []
if left_out:
    named = "; ".join(f"{x['name']}, {x['reason']}" for x in left_out[:5])
    more = f"; and {len(left_out) - 5} more" if len(left_out) > 5 else ""
    st.caption(f"**Left out by lifecycle** ({len(left_out)}): {named}{more}.")

with (
    st.spinner("Bridging to a pooled budget, then a bigger one..."),
    common.api_errors(),
):
    pooled = common.pooled_bridge(portfolio["id"], portfolio["version"])
sentence = frames.pooled_bridge_sentence(pooled)
if sentence is not None:
    st.info(
        f"**What would pooling, then {common.WHAT_IF_PERCENT:g} % more budget, buy?** "
        f"{sentence} Each step is a re-solve; try other budgets in the scenario planner.",
        icon=":material/lightbulb:",
    )
    st.page_link(
        "app_pages/scenarios.py", label="Open the scenario planner", icon=":material/tune:"
    )

st.subheader("Journey portfolio")
st.caption(
    "Each bubble is a journey: how good its experience is (right is better) against what it "
    "earns per period (up is more). Bubble size is the cost attributed to it, colour its "
    "persona. Qualities and values are those of the optimal allocation of the planned budget."
)
table = frames.journey_table(journeys, personas, run)
st.altair_chart(charts.portfolio_matrix(table, currency), width="stretch")

st.subheader("Journeys by value")
st.dataframe(
    table,
    hide_index=True,
    placeholder=formats.MISSING,
    column_order=[
        "journey",
        "persona",
        "owner",
        "lifecycle",
        "value",
        "quality",
        "current_quality",
        "attributed_cost",
        "value_per_cost",
        "max_value",
        "limited_by",
    ],
    column_config={
        "journey": st.column_config.TextColumn("Journey", width="medium"),
        "persona": "Persona",
        "owner": "Owner",
        "lifecycle": "Lifecycle",
        "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
        "quality": st.column_config.ProgressColumn(
            "Quality", min_value=0.0, max_value=1.0, format="%.2f"
        ),
        "current_quality": st.column_config.NumberColumn("Quality today", format="%.2f"),
        "attributed_cost": st.column_config.NumberColumn(
            f"Attributed cost ({currency})", format="localized"
        ),
        "value_per_cost": st.column_config.NumberColumn("Value per cost", format="%.1f"),
        "max_value": st.column_config.NumberColumn(
            f"Value at quality 1 ({currency})", format="localized"
        ),
        "limited_by": "Held back most by",
    },
)
st.page_link("app_pages/journeys.py", label="Open a journey", icon=":material/route:")

st.subheader("Departments")
st.caption("Spend per department today and in the optimal allocation, against its cap.")
department_frame = frames.department_allocation(run)
st.altair_chart(
    charts.allocation_bars(
        frames.side_by_side(department_frame, "department"), "department", currency
    ),
    width="stretch",
)
