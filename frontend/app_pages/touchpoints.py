"""Touchpoints: which journeys share which touchpoints, and what spend buys at each one."""

import streamlit as st

from frontend import charts, common, formats, frames

portfolio = common.pick_portfolio()
departments, touchpoints, journeys = common.load(
    portfolio, "departments", "touchpoints", "journeys"
)
currency = portfolio["currency"]
if not touchpoints:
    st.info("This portfolio has no touchpoints yet.")
    st.stop()
run = common.as_planned(portfolio)

st.title("Touchpoints")
table = frames.touchpoint_table(touchpoints, journeys, departments, run)
shared = int((table["journeys"] > 1).sum())
st.caption(
    f"{len(touchpoints)} touchpoints serve {len(journeys)} journeys; {shared} of them serve "
    "more than one journey. A touchpoint owner who optimizes only their own KPI cannot see this."
)

idle = table[table["serves_no_journey"]]
if not idle.empty:
    st.warning(
        f"**{len(idle)} touchpoint(s) serve no journey**: "
        f"{', '.join(idle['touchpoint'])}. Their spend "
        f"({common.money(idle['current_spend'].sum(), portfolio)} today) creates no journey "
        "value; link them to a journey or stop them.",
        icon=":material/link_off:",
    )

st.subheader("Sharing matrix")
st.caption(
    "Rows are journeys, columns touchpoints (the most shared first). Colour is the share of the "
    "journey's experience the touchpoint carries; ★ marks a moment of truth."
)
st.altair_chart(
    charts.sharing_matrix(frames.sharing_matrix(journeys, touchpoints)), width="content"
)

st.subheader("Current and optimal spend")
st.dataframe(
    table.sort_values("journeys", ascending=False),
    hide_index=True,
    placeholder=formats.MISSING,
    column_order=[
        "touchpoint",
        "department",
        "channel",
        "journeys",
        "current_spend",
        "optimal_spend",
        "change",
        "quality",
        "why",
        "pain_points",
    ],
    column_config={
        "touchpoint": st.column_config.TextColumn("Touchpoint", width="medium"),
        "department": "Department",
        "channel": "Channel",
        "journeys": st.column_config.NumberColumn("Journeys served"),
        "current_spend": st.column_config.NumberColumn(
            f"Spend today ({currency})", format="localized"
        ),
        "optimal_spend": st.column_config.NumberColumn(
            f"Optimal spend ({currency})", format="localized"
        ),
        "change": st.column_config.NumberColumn(f"Change ({currency})", format="localized"),
        "quality": st.column_config.NumberColumn("Quality", format="%.2f"),
        "why": st.column_config.TextColumn("Why it sits there", width="large"),
        "pain_points": st.column_config.NumberColumn("Pain points"),
    },
)
if run["status"] == "optimal":
    st.caption(
        f"Marginal values and prices under *Why it sits there* are in "
        f"{run['shadow_prices']['unit']}."
    )

st.subheader("Response curves")
st.caption(
    "What each touchpoint's quality (0-1) is at each spend. The circle is today's spend, the "
    "diamond the optimal spend of the planned budget; where the curve flattens, more money "
    "buys little."
)
department_names = frames.names(departments)
choice = st.selectbox(
    "Department",
    ["all", *department_names],
    format_func=lambda d: "All departments" if d == "all" else department_names[d],
)
shown = [t for t in touchpoints if choice in ("all", t["department"])]
st.altair_chart(
    charts.response_curves(frames.response_curves(shown, run), currency), width="stretch"
)
