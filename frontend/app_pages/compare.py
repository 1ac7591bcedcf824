"""Compare: two to four runs side by side, with what changes per touchpoint, department and
journey."""

import streamlit as st

from frontend import charts, common, edits, frames

portfolio = common.pick_portfolio()
(scenarios,) = common.load(portfolio, "scenarios")
currency = portfolio["currency"]

st.title("Compare scenarios")
with common.api_errors():
    listing = common.runs(portfolio["id"])
if len(listing) < 2:
    st.info(
        "Comparing needs at least two runs of this portfolio. Run scenarios in the scenario "
        "planner (the Portfolio page also runs the plan)."
    )
    st.page_link(
        "app_pages/scenarios.py", label="Open the scenario planner", icon=":material/tune:"
    )
    st.stop()

scenario_names = frames.names(scenarios)
with common.api_errors():
    labels = {
        r["run_id"]: frames.run_label(
            r,
            scenario_names,
            None if r["scenario_id"] else common.run_overrides(r["run_id"]),
            currency,
        )
        for r in listing
    }
wanted = [r for r in st.session_state.get("compare", []) if r in labels]
if len(wanted) < 2:
    wanted = frames.default_pair(listing)
st.session_state["compare"] = wanted
st.session_state["_compare_widget"] = wanted


def keep() -> None:
    st.session_state["compare"] = st.session_state["_compare_widget"]


chosen = st.multiselect(
    "Runs to compare (the first is the reference the changes are measured against)",
    list(labels),
    format_func=labels.__getitem__,
    max_selections=4,
    key="_compare_widget",
    on_change=keep,
)
if len(chosen) < 2:
    st.info("Choose two to four runs.")
    st.stop()

with st.spinner("Comparing..."), common.api_errors():
    comparison = common.api().compare(portfolio["id"], chosen)
    for entry in comparison["runs"]:
        # The price of silos in money; read from the run itself where the comparison lacks it.
        if "price_of_silos_value" not in entry:
            entry["price_of_silos_value"] = common.run(entry["run_id"])["price_of_silos_value"]
names = [labels[r] for r in chosen]

summary = frames.compare_summary(comparison, names)
step = summary.attrs["step"]


def amount(figure: float, *, signed: bool = False) -> str:
    """A figure of the comparison (one step for all runs: the changes add up)."""
    return common.money(figure, portfolio, signed=signed, step=step)


columns = st.columns(len(chosen))
for column, (_, row) in zip(columns, summary.iterrows(), strict=True):
    with column.container(border=True):
        st.markdown(f"**{row['run']}**")
        if row["status"] != "optimal":
            st.error("Infeasible: see the scenario planner for what conflicts.")
            continue
        first = row.name == 0
        st.metric(
            "Value",
            amount(row["value"]),
            delta=None
            if first
            else common.change(amount(row["value_change"], signed=True), row["value_change"]),
        )
        st.metric(
            "Spend",
            amount(row["spend"]),
            delta=None
            if first
            else common.change(amount(row["spend_change"], signed=True), row["spend_change"]),
            # More spend is neither good nor bad in itself: it is the scenario's choice.
            delta_color="off",
        )
        st.metric(
            "Price of silos",
            amount(row["price_of_silos"]),
            help="This optimum minus the silo allocation of the same money, in money. "
            "Priority-weighted it is "
            f"{common.money(row['price_of_silos_weighted'], portfolio)}.",
        )
        st.caption(
            f"Budget {common.money(row['budget'], portfolio)}, unallocated "
            f"{common.money(row['unallocated'], portfolio)}, "
            f"{edits.MODES.get(row['mode'], row['mode']).lower()}. Priority-weighted price of "
            f"silos {common.money(row['price_of_silos_weighted'], portfolio)}."
        )

st.altair_chart(
    charts.compare_figures(frames.compare_figures(comparison, names), currency), width="stretch"
)

st.subheader("Why the value differs: a bridge from the first run")
st.caption(
    "One group of settings changes at a time, in this order: budget; pooling and department "
    "caps; priorities; floors; locks and excludes; objective mode; edits to the portfolio. "
    "Each step is a re-solve; its bar is the value it adds, in money. A step whose re-solve "
    "is infeasible is marked, and the next feasible step carries its effect."
)
bridge_tabs = st.tabs([f"To {name}" for name in names[1:]]) if len(chosen) > 2 else [st.container()]
for place, other, name in zip(bridge_tabs, chosen[1:], names[1:], strict=True):
    with st.spinner("Bridging..."), common.api_errors():
        bridged = common.bridge(portfolio["id"], chosen[0], other)
    frame = frames.bridge_frame(bridged, names[0], name)
    place.altair_chart(charts.bridge_waterfall(frame, currency), width="stretch")
    place.caption(frames.bridge_caption(bridged))

st.subheader("What changes against the first run")
touchpoint_tab, department_tab, journey_tab = st.tabs(["Touchpoints", "Departments", "Journeys"])
for tab, section, field, what in (
    (touchpoint_tab, "touchpoints", "spend", "spend"),
    (department_tab, "departments", "spend", "spend"),
    (journey_tab, "journeys", "value", "value"),
):
    deltas = frames.compare_deltas(comparison, names, section, field)
    if deltas.empty:
        tab.info(f"No {section[:-1]}'s {what} changes against the first run.")
        continue
    tab.altair_chart(
        charts.delta_bars(deltas, currency, f"Change in {what} ({currency})", names),
        width="stretch",
    )
