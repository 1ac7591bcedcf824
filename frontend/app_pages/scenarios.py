"""Scenario planner: build a scenario, run it, read the allocation and what holds it back."""

from typing import Any

import streamlit as st

from frontend import charts, common, edits, formats, frames
from frontend.client import ApiError

NEW = "__new__"

portfolio = common.pick_portfolio()
departments, touchpoints, journeys, scenarios = common.load(
    portfolio, "departments", "touchpoints", "journeys", "scenarios"
)
currency = portfolio["currency"]
scenario_names = frames.names(scenarios)
everything = {
    **frames.names(journeys),
    **frames.names(touchpoints),
    **frames.names(departments),
}

st.title("Scenario planner")
st.caption(
    "A scenario changes the plan: the total budget, one pooled budget instead of department "
    "caps, priorities and service floors per journey, locked or excluded touchpoints, the "
    "objective. Save it, run it, and compare runs on the Compare page."
)
common.show_flash()
with st.sidebar:
    chosen = common.remember(
        "scenario",
        [*scenario_names, NEW],
        "Scenario",
        format_func=lambda s: "New scenario..." if s == NEW else scenario_names[s],
    )

# =========================================================================== edit

if chosen == NEW:
    base = None
    scenario: dict[str, Any] = {"name": "", "pooled": False, "mode": "max_value"}
    tag = f"{portfolio['id']}:new"
else:
    base_key = f"scenario-base:{portfolio['id']}:{chosen}"
    if base_key not in st.session_state:
        with common.api_errors():
            st.session_state[base_key] = common.api().scenario(portfolio["id"], chosen)
    base = st.session_state[base_key]
    scenario = base.body
    tag = f"{portfolio['id']}:{chosen}:{base.etag}"

if base is not None:
    st.subheader(scenario["name"])
    if scenario.get("description"):
        st.caption(scenario["description"])
    summary = "; ".join(edits.scenario_summary(scenario, currency, everything))
    st.markdown(f"Against the plan: {summary}.")
with st.expander(
    "Create a scenario" if base is None else "Change this scenario",
    expanded=base is None,
    icon=":material/tune:",
):
    if base is not None:
        if st.button("Reload the saved version (discards unsaved edits)", key=f"reload:{tag}"):
            del st.session_state[base_key]
            st.rerun()
    with st.form(f"scenario-form:{tag}"):
        name = st.text_input("Name", scenario.get("name", ""), placeholder="e.g. Pooled, +10 %")
        description = st.text_input("Description", scenario.get("description") or "")
        budget_column, pooled_column, mode_column = st.columns(3)
        budget = budget_column.number_input(
            f"Total budget ({currency})",
            min_value=0.0,
            value=float(scenario.get("budget") or portfolio["budget"]),
            step=10_000.0,
            format="%.0f",
            help=f"The plan's budget is {common.money(portfolio['budget'], portfolio)}.",
        )
        pooled = pooled_column.toggle(
            "Pooled budget (ignore department caps)", value=bool(scenario.get("pooled"))
        )
        mode = mode_column.selectbox(
            "Objective",
            list(edits.MODES),
            index=list(edits.MODES).index(scenario.get("mode", "max_value")),
            format_func=edits.MODES.__getitem__,
        )
        st.markdown(
            "**Journeys**: leave a cell empty to keep the plan's priority or floor; tick "
            "*no floor* to drop it in this scenario."
        )
        journey_rows = st.data_editor(
            edits.journey_overrides(scenario, journeys).set_index("id"),
            hide_index=True,
            placeholder=formats.MISSING,
            num_rows="fixed",
            disabled=["journey", "planned_priority", "planned_floor"],
            key=f"journeys:{tag}",
            column_config={
                "journey": st.column_config.TextColumn("Journey", width="medium"),
                "planned_priority": st.column_config.NumberColumn("Plan priority"),
                "priority": st.column_config.NumberColumn("Priority", min_value=0.0, step=0.1),
                "planned_floor": st.column_config.NumberColumn("Plan floor", format="%.2f"),
                "floor": st.column_config.NumberColumn(
                    "Floor", min_value=0.0, max_value=1.0, step=0.01, format="%.2f"
                ),
                "no_floor": st.column_config.CheckboxColumn("No floor"),
            },
        )
        ideas = {j["id"]: j["name"] for j in journeys if j.get("lifecycle") == "idea"}
        launch = st.multiselect(
            "Launch these ideas",
            list(ideas),
            default=[j for j in scenario.get("launch") or [] if j in ideas],
            format_func=ideas.__getitem__,
            help="An idea journey claims no budget unless a scenario launches it. Sunset "
            "journeys keep no floor unless this scenario sets one.",
            disabled=not ideas,
            placeholder="No idea journeys in this portfolio" if not ideas else "Choose ideas",
            key=f"launch:{tag}",
        )
        st.markdown("**Touchpoints**: lock a spend, or exclude (minimum spend only).")
        touchpoint_rows = st.data_editor(
            edits.touchpoint_overrides(scenario, touchpoints, departments).set_index("id"),
            hide_index=True,
            placeholder=formats.MISSING,
            num_rows="fixed",
            disabled=["touchpoint", "department", "current_spend"],
            key=f"touchpoints:{tag}",
            column_config={
                "touchpoint": st.column_config.TextColumn("Touchpoint", width="medium"),
                "department": "Department",
                "current_spend": st.column_config.NumberColumn(
                    f"Today ({currency})", format="localized"
                ),
                "lock": st.column_config.NumberColumn(
                    f"Lock at ({currency})", min_value=0.0, format="localized"
                ),
                "exclude": st.column_config.CheckboxColumn("Exclude"),
            },
        )
        st.markdown("**Department caps** (ignored when the budget is pooled).")
        department_rows = st.data_editor(
            edits.department_overrides(scenario, departments).set_index("id"),
            hide_index=True,
            placeholder=formats.MISSING,
            num_rows="fixed",
            disabled=["department", "planned_cap"],
            key=f"departments:{tag}",
            column_config={
                "department": "Department",
                "planned_cap": st.column_config.NumberColumn(
                    f"Plan cap ({currency})", format="localized"
                ),
                "cap": st.column_config.NumberColumn(
                    f"Cap ({currency})", min_value=0.0, format="localized"
                ),
                "no_cap": st.column_config.CheckboxColumn("No cap"),
            },
        )
        submitted = st.form_submit_button(
            "Create scenario" if base is None else "Save scenario",
            type="primary",
            icon=":material/save:",
        )

if submitted:
    try:
        data = edits.scenario_data(
            name=name,
            description=description,
            budget=None
            if base is not None
            and scenario.get("budget") is None
            and budget == float(portfolio["budget"])
            else budget,
            pooled=pooled,
            mode=mode,
            journeys=journey_rows.reset_index(),
            touchpoints=touchpoint_rows.reset_index(),
            departments=department_rows.reset_index(),
            launch=launch,
        )
    except edits.EditError as error:
        st.error(f"Not saved: {error}.", icon=":material/error:")
        st.stop()
    try:
        if base is None:
            data["id"] = edits.slug(data["name"], list(scenario_names))
            saved = common.api().create_scenario(portfolio["id"], data)
            st.session_state["scenario"] = saved.body["id"]
            common.flash(f"Created scenario “{saved.body['name']}”. Run it below.")
        else:
            saved = common.api().update_scenario(portfolio["id"], chosen, data, etag=base.etag)
            del st.session_state[base_key]
            common.flash(f"Saved scenario “{saved.body['name']}”.")
    except ApiError as error:
        st.error(error.message, icon=":material/error:")
        st.stop()
    st.rerun()

if base is None:
    st.stop()

# =========================================================================== run

run_key = f"planner-run:{portfolio['id']}:{chosen}"
if st.button("Run this scenario", type="primary", icon=":material/play_arrow:"):
    with st.status(f"Optimizing “{scenario['name']}”...", expanded=True) as status:
        st.write("Sending the saved scenario to the optimizer (HiGHS)...")
        try:
            created = common.api().create_run(portfolio["id"], scenario=chosen)
        except ApiError as error:
            status.update(label="The run failed", state="error")
            st.error(error.message, icon=":material/error:")
            st.stop()
        solver = created["solver"]
        st.write(
            f"Solved in {solver['total_seconds']:.2f} s: {solver['variables']} variables, "
            f"{solver['constraints']} constraints, chord approximation within "
            f"{formats.percent(solver['approximation_gap'], decimals=3)} of the true curves."
        )
        status.update(label=f"Run finished: {created['status']}", state="complete", expanded=False)
    common.created_run()
    st.session_state[run_key] = created["run_id"]

with common.api_errors():
    scenario_runs = common.runs(portfolio["id"], chosen)
if not scenario_runs:
    st.info("This scenario has not been run yet: press **Run this scenario**.")
    st.stop()
labels = {r["run_id"]: f"{frames.when(r['created_at'])} ({r['status']})" for r in scenario_runs}
if st.session_state.get(run_key) not in labels:
    st.session_state[run_key] = scenario_runs[0]["run_id"]
run_id = st.selectbox(
    "Run", list(labels), format_func=labels.__getitem__, key=run_key, help="Newest first."
)
with common.api_errors():
    result = common.run(run_id)

if result["status"] != "optimal":
    st.error(
        "**This scenario cannot be met.** The optimizer relaxed these constraints to find how "
        "far apart they are:",
        icon=":material/block:",
    )
    for conflict in result["conflicts"]:
        st.markdown(f"- {conflict['message']}")
    st.caption(
        "Change the scenario (a bigger budget, a pooled budget, lower floors, fewer locks) "
        "and run it again."
    )
else:
    plan = common.as_planned(portfolio)
    figures = result["portfolio"]
    shown = frames.run_figures(result, plan)

    def amount(value: float | None, *, signed: bool = False) -> str:
        """A figure of the value group (one step, so the differences add up)."""
        return common.money(value, portfolio, signed=signed, step=shown["step"])

    value, spend, silos, unallocated = st.columns(4)
    value.metric(
        "Portfolio value",
        amount(shown["value"]),
        delta=None
        if shown["change"] is None
        else common.change(f"{amount(shown['change'], signed=True)} vs. plan", shown["change"]),
        border=True,
        help=None
        if shown["change"] is None
        else f"The portfolio as planned is worth {amount(shown['plan_value'])}: "
        f"{amount(shown['value'])} − {amount(shown['plan_value'])} = "
        f"{amount(shown['change'], signed=True)}.",
    )
    spend.metric(
        "Spend",
        common.money(figures["spend"], portfolio),
        delta=f"of {common.money(figures['budget'], portfolio)} budget",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    silos.metric(
        "Price of silos",
        amount(shown["price_of_silos"]),
        border=True,
        help="This optimum minus what departments reach on their own with the same money: "
        f"{amount(shown['value'])} − {amount(shown['silo_value'])} = "
        f"{amount(shown['price_of_silos'])}. Priority-weighted it is "
        f"{common.money(shown['price_of_silos_weighted'], portfolio)}.",
    )
    unallocated.metric(
        "Unallocated",
        common.money(figures["unallocated"], portfolio),
        border=True,
        help="Budget that would create no value anywhere.",
    )

    for item in result.get("left_out") or []:
        st.caption(f"Left out by lifecycle: **{item['name']}**, {item['reason']}.")

    price_unit = result["shadow_prices"]["unit"]
    department_tab, touchpoint_tab, price_tab, journey_tab = st.tabs(
        ["Departments", "Touchpoints", "Shadow prices and what binds", "Journeys"]
    )
    with department_tab:
        department_frame = frames.department_allocation(result)
        st.altair_chart(
            charts.allocation_bars(
                frames.side_by_side(department_frame, "department"), "department", currency
            ),
            width="stretch",
        )
        caps_apply = bool(department_frame["cap"].notna().any())
        st.dataframe(
            department_frame,
            hide_index=True,
            placeholder=formats.MISSING,
            column_order=[
                "department",
                "current",
                "optimal",
                "change",
                *(["cap", "shadow_price"] if caps_apply else []),
            ],
            column_config={
                "department": "Department",
                "current": st.column_config.NumberColumn(
                    f"Current ({currency})", format="localized"
                ),
                "optimal": st.column_config.NumberColumn(
                    f"Optimal ({currency})", format="localized"
                ),
                "change": st.column_config.NumberColumn(f"Change ({currency})", format="localized"),
                "cap": st.column_config.NumberColumn(f"Cap ({currency})", format="localized"),
                "shadow_price": st.column_config.NumberColumn(
                    "Shadow price of the cap", format="%.2f", help=price_unit
                ),
            },
        )
        if caps_apply:
            st.caption(f"Shadow prices of the caps in {price_unit}; – where a cap does not apply.")
    with touchpoint_tab:
        allocation = frames.allocation(result)
        st.altair_chart(
            charts.allocation_bars(
                frames.side_by_side(allocation, "touchpoint"), "touchpoint", currency
            ),
            width="stretch",
        )
        st.dataframe(
            allocation,
            hide_index=True,
            placeholder=formats.MISSING,
            column_order=[
                "touchpoint",
                "department",
                "current",
                "optimal",
                "change",
                "quality",
                "why",
            ],
            column_config={
                "touchpoint": "Touchpoint",
                "department": "Department",
                "current": st.column_config.NumberColumn(
                    f"Current ({currency})", format="localized"
                ),
                "optimal": st.column_config.NumberColumn(
                    f"Optimal ({currency})", format="localized"
                ),
                "change": st.column_config.NumberColumn(f"Change ({currency})", format="localized"),
                "quality": st.column_config.NumberColumn("Quality", format="%.2f"),
                "why": st.column_config.TextColumn("Why", width="large"),
            },
        )
        st.caption(f"Marginal values and prices under *Why* are in {price_unit}.")
    with price_tab:
        binding = frames.binding_sentences(result, frames.names(journeys))
        if binding:
            st.markdown("**What holds the result back**")
            for sentence in binding:
                st.markdown(f"- {sentence}")
        else:
            st.markdown("**Nothing binds**: more money or looser limits would add nothing.")
        prices = frames.shadow_prices(result, frames.names(journeys))
        # One axis, one unit: the chart shows the prices of money (budget, caps); floors are
        # worth another unit and stay in the table.
        money_prices = prices[prices["unit"] == price_unit]
        if not money_prices.empty:
            st.altair_chart(charts.shadow_price_bars(money_prices, price_unit), width="stretch")
        st.dataframe(
            prices,
            hide_index=True,
            placeholder=formats.MISSING,
            column_config={
                "constraint": "Constraint",
                "price": st.column_config.NumberColumn("Shadow price", format="%.3f"),
                "unit": st.column_config.TextColumn("Unit", width="large"),
            },
        )
    with journey_tab:
        st.dataframe(
            frames.journey_table(journeys, [], result),
            hide_index=True,
            placeholder=formats.MISSING,
            column_order=[
                "journey",
                "quality",
                "current_quality",
                "floor",
                "value",
                "attributed_cost",
                "value_per_cost",
                "limited_by",
            ],
            column_config={
                "journey": "Journey",
                "quality": st.column_config.ProgressColumn(
                    "Quality", min_value=0.0, max_value=1.0, format="%.2f"
                ),
                "current_quality": st.column_config.NumberColumn("Today", format="%.2f"),
                "floor": st.column_config.NumberColumn("Floor", format="%.2f"),
                "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
                "attributed_cost": st.column_config.NumberColumn(
                    f"Cost ({currency})", format="localized"
                ),
                "value_per_cost": st.column_config.NumberColumn("Value/cost", format="%.1f"),
                "limited_by": "Held back by",
            },
        )

csv_column, xlsx_column, compare_column = st.columns(3)
with common.api_errors():
    csv_column.download_button(
        "Download CSV",
        common.export(run_id, "csv"),
        file_name=f"allocation-{run_id}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    xlsx_column.download_button(
        "Download XLSX",
        common.export(run_id, "xlsx"),
        file_name=f"allocation-{run_id}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )
if compare_column.button("Compare with the plan", icon=":material/compare:"):
    plan = common.as_planned(portfolio)
    st.session_state["compare"] = [plan["run_id"], run_id]
    common.created_run()
    st.switch_page("app_pages/compare.py")
