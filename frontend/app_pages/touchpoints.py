"""Touchpoints: which journeys share which touchpoints, and what spend buys at each one."""

import streamlit as st

from frontend import charts, common, formats, frames
from frontend.client import ApiError

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

st.subheader("Curves from evidence")
observed = frames.with_observations(touchpoints)
if not observed:
    st.caption(
        "No touchpoint has observations yet: send a touchpoint's spend and outcome per period "
        "to `PUT .../touchpoints/{id}/observations`, then fit a curve to them here."
    )
    st.stop()
st.caption(
    "Observed spend and outcome per period (dots, the outcome as a quality), the curve fitted "
    "to them with the band of curves its uncertainty allows, and the touchpoint's current "
    "curve dashed. The rules mark today's spend and the optimal spend of the planned budget."
)
observed_names = frames.names(observed)
left, right = st.columns([3, 1])
with left:
    chosen = common.remember(
        "evidence_touchpoint", list(observed_names), "Touchpoint", format_func=observed_names.get
    )
with right:
    form = common.remember(
        "evidence_form",
        ["auto", "saturating", "hill", "exponential", "logistic"],
        "Curve form",
        format_func=lambda f: "Best by AICc" if f == "auto" else f,
    )
touchpoint = next(t for t in observed if t["id"] == chosen)
st.markdown(f"Current curve: {frames.curve_source(touchpoint['curve'])}.")
try:
    with st.spinner("Fitting..."):
        fitted = common.fit(portfolio["id"], portfolio["version"], chosen, form)
except ApiError as error:
    st.warning(error.message, icon=":material/query_stats:")
    st.stop()
optimal = {t["id"]: t["spend"] for t in run.get("touchpoints", [])}.get(chosen)
kpi = (touchpoint.get("observations") or {}).get("kpi")
r2, rmse, n, shape = st.columns(4)
r2.metric("r²", f"{fitted['r2']:.3f}", help="Share of the outcome's variation the curve explains.")
rmse.metric("RMSE", f"{fitted['rmse']:.3f}", help="Root mean square residual, in quality.")
n.metric("Observations", f"{fitted['n']}")
shape.metric("Form", fitted["form"])
st.altair_chart(
    charts.evidence_curve(
        frames.evidence(fitted, touchpoint, optimal), currency, fitted["band"]["level"]
    ),
    width="stretch",
)
st.caption(
    f"{'KPI ' + kpi + '; ' if kpi else ''}band: {fitted['band']['level']:.0%} of "
    f"{fitted['band']['draws']:,} curves drawn from the fit's parameter covariance."
)
for warning in fitted["warnings"]:
    st.warning(warning, icon=":material/warning:")
common.show_flash()
with common.api_errors():
    may_accept = common.me()["can_accept_curves"]
if may_accept:
    if st.button("Accept this curve", type="primary", icon=":material/check:"):
        with common.api_errors():
            current = common.api().touchpoint(portfolio["id"], chosen)
            common.api().accept_curve(portfolio["id"], chosen, fitted["curve"], etag=current.etag)
        common.flash(
            f"{observed_names[chosen]} now has the fitted {fitted['form']} curve "
            f"(r² {fitted['r2']:.3f}, {fitted['n']} observations); the audit log records it."
        )
        st.rerun()
else:
    st.caption("Only a planner accepts a fitted curve as the touchpoint's curve.")
