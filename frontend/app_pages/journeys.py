"""Journey: the product page. Owner, lifecycle, KPIs, the journey map, pain points, the
journey's P&L; its owner keeps it up to date here."""

import streamlit as st

from frontend import charts, common, edits, formats, frames
from frontend.client import ApiError

portfolio = common.pick_portfolio()
personas, touchpoints, journeys = common.load(portfolio, "personas", "touchpoints", "journeys")
currency = portfolio["currency"]
if not journeys:
    st.info("This portfolio has no journeys yet.")
    st.stop()

journey_names = frames.names(journeys)
with st.sidebar:
    journey_id = common.remember(
        "journey", list(journey_names), "Journey", format_func=journey_names.__getitem__
    )
journey = next(j for j in journeys if j["id"] == journey_id)
run = common.as_planned(portfolio)
result = next((j for j in run.get("journeys", []) if j["id"] == journey_id), None)
persona = frames.names(personas).get(journey["persona"], journey["persona"])

common.show_flash()
st.title(journey["name"])
lifecycle_badge = {"idea": "blue", "active": "green", "sunset": "gray"}
st.markdown(
    f":{lifecycle_badge.get(journey['lifecycle'], 'gray')}-badge[{journey['lifecycle']}] "
    f"Persona **{persona}** · Owner **{journey.get('owner') or 'nobody'}** · Priority "
    f"{journey.get('priority', 1):g} · Floor {frames.quality(journey.get('floor'))} · Stages "
    f"{' → '.join(frames.stage_order(journey))}"
)
if journey.get("description"):
    st.caption(journey["description"])

if result is None:
    st.warning(
        "The portfolio as planned has no optimal allocation right now (see the Portfolio "
        "page), so qualities and costs are not shown."
    )
else:
    shown = frames.journey_figures(result)

    def amount(figure: float, *, signed: bool = False) -> str:
        return common.money(figure, portfolio, signed=signed, step=shown["step"])

    quality, value, cost, ratio = st.columns(4)
    quality.metric(
        "Experience quality",
        f"{shown['quality']:.2f}",
        delta=common.change(f"{shown['quality_change']:+.2f} vs. today", shown["quality_change"]),
        border=True,
        help="Weighted average of its touchpoints' qualities, never better than its weakest "
        "moment of truth; in the optimal allocation of the planned budget. Today: "
        f"{shown['current_quality']:.2f}.",
    )
    value.metric(
        "Value per period",
        amount(shown["value"]),
        delta=common.change(
            f"{amount(shown['value_change'], signed=True)} vs. today", shown["value_change"]
        ),
        border=True,
        help=f"Worth {common.money(result['max_value'], portfolio)} at perfect experience; "
        f"today {amount(shown['current_value'])}: {amount(shown['value'])} − "
        f"{amount(shown['current_value'])} = {amount(shown['value_change'], signed=True)}.",
    )
    cost.metric(
        "Attributed cost",
        amount(shown["attributed_cost"]),
        border=True,
        help="Each touchpoint's spend shared among the journeys it serves, in proportion to "
        "their weight times their value.",
    )
    ratio.metric(
        "Value per cost",
        formats.number(shown["value_per_cost"], 1),
        border=True,
        help=f"{amount(shown['value'])} / {amount(shown['attributed_cost'])}.",
    )
    if result.get("limited_by"):
        held = next(
            (t["name"] for t in run["touchpoints"] if t["id"] == result["limited_by"]),
            result["limited_by"],
        )
        kind = "a moment of truth" if result["limited_by_critical"] else "its weakest link"
        st.caption(f"Held back most by **{held}** ({kind}).")

st.subheader("Journey map")
st.caption(
    "Where the customer meets which touchpoint, stage by stage; colour is the touchpoint's "
    "quality in the optimal allocation. Outlined cells with ★ are moments of truth (critical): "
    "the journey is never better than its weakest one."
)
journey_map = frames.journey_map(journey, touchpoints, run)
map_column, emotion_column = st.columns([3, 2])
map_column.altair_chart(
    charts.journey_map(journey_map, frames.stage_order(journey)), width="stretch"
)
with emotion_column:
    if journey_map["emotion"].notna().any():
        st.markdown("**Emotion curve**")
        st.altair_chart(charts.emotion_curve(journey_map), width="stretch")
    else:
        st.info("No emotion scores recorded for this journey yet (edit the links below).")

st.subheader("KPIs against targets")
history = frames.kpi_history(journey)
if history.empty:
    st.info("No KPI actuals yet: add KPIs and their actuals below.")
else:
    st.altair_chart(charts.kpi_trend(history), width="stretch")
st.dataframe(
    frames.kpi_status(journey),
    hide_index=True,
    placeholder=formats.MISSING,
    column_config={
        "kpi": "KPI",
        "unit": "Unit",
        "period": "Latest period",
        "actual": st.column_config.NumberColumn("Actual"),
        "target": st.column_config.NumberColumn("Target"),
        "better": "Better is",
        "status": "Status",
    },
)

st.subheader("Pain points and feedback")
pains = frames.pain_points(journey, touchpoints)
if pains.empty:
    st.info("No pain points recorded on this journey's touchpoints.")
else:
    st.dataframe(
        pains,
        hide_index=True,
        placeholder=formats.MISSING,
        column_config={
            "touchpoint": "Touchpoint",
            "stage": "Stage",
            "kind": "Kind",
            "severity": st.column_config.NumberColumn("Severity", help="1 (mild) to 5"),
            "text": st.column_config.TextColumn("What customers say", width="large"),
        },
    )

st.subheader("Journey P&L")
if result is not None:
    costs = frames.journey_costs(journey_id, journeys, run)
    pnl, chart = st.columns([1, 2])
    pnl.dataframe(
        {
            "line": [
                "Value at perfect experience",
                f"Value at quality {result['quality']:.2f}",
                "Attributed cost",
                "Value minus cost",
            ],
            currency: [
                frames.whole(result["max_value"]),
                frames.whole(result["value"]),
                frames.whole(-result["attributed_cost"]),
                frames.whole(result["value"]) - frames.whole(result["attributed_cost"]),
            ],
        },
        hide_index=True,
        placeholder=formats.MISSING,
        column_config={
            "line": st.column_config.TextColumn(" "),
            currency: st.column_config.NumberColumn(currency, format="localized"),
        },
    )
    chart.altair_chart(charts.journey_costs(costs, currency), width="stretch")

# =========================================================================== the owner's ask

st.subheader("What would it take?")
if result is None:
    st.caption("Pricing an ask needs an optimal plan (see the Portfolio page).")
else:
    today = round(result["quality"], 2)
    st.caption(
        f"Bring this journey to a higher quality than the plan's {today:.2f}, priced against "
        "the whole portfolio: what the other journeys give up at the same budget, and the "
        "money it takes without lowering the portfolio's optimal value."
    )
    target = st.slider(
        "Target quality",
        min_value=0.0,
        max_value=1.0,
        value=min(1.0, round(today + 0.05, 2)),
        step=0.01,
        key=f"ask-{journey_id}",
    )
    if st.button("Price this ask", key=f"price-{journey_id}"):
        try:
            priced = common.ask(portfolio["id"], portfolio["version"], journey_id, target)
        except ApiError as error:
            st.error(error.message)
            st.stop()
        same, extra = priced["same_budget"], priced["extra_budget"]
        first, second = st.columns(2)
        if same is not None:
            # the three figures of the sentence share one rounding step, so the difference
            # shown is the difference of the figures shown
            step = formats.step_for(
                priced["base"]["value"], same["value"], same["value"] - priced["base"]["value"]
            )
            before = float(formats.rounded(priced["base"]["value"], step))
            after = float(formats.rounded(same["value"], step))

            def value_text(amount: float, signed: bool = False) -> str:
                return common.money(amount, portfolio, signed=signed, step=step)

            first.metric(
                "At the same budget",
                value_text(after - before, signed=True),
                border=True,
                help=f"The portfolio's value (money): {value_text(before)} today, "
                f"{value_text(after)} with this journey at {target:.2f}: "
                f"{value_text(after)} − {value_text(before)} = "
                f"{value_text(after - before, signed=True)}.",
            )
        else:
            first.metric("At the same budget", "not reachable", border=True)
        if extra is not None:
            spend_step = formats.step_for(priced["base"]["spend"], extra["spend"], extra["extra"])
            spend_before = float(formats.rounded(priced["base"]["spend"], spend_step))
            spend_after = float(formats.rounded(extra["spend"], spend_step))

            def spend_text(amount: float) -> str:
                return common.money(amount, portfolio, step=spend_step)

            second.metric(
                "With more money",
                f"{spend_text(spend_after - spend_before)} more",
                border=True,
                help=f"Least total spend that reaches {target:.2f} and keeps the portfolio's "
                f"value: {spend_text(spend_after)} against {spend_text(spend_before)} today: "
                f"{spend_text(spend_after)} − {spend_text(spend_before)} = "
                f"{spend_text(spend_after - spend_before)}.",
            )
        else:
            second.metric("With more money", "not reachable", border=True)
        if priced["reason"]:
            st.warning(priced["reason"])
        if priced["highest_reachable"] is not None:
            st.caption(
                f"The highest quality this journey can reach: {priced['highest_reachable']:.2f}."
            )
        if same is not None and same["losers"]:
            losses = [
                f"{loser['name']} ({common.money(loser['value_change'], portfolio, signed=True)})"
                for loser in same["losers"]
            ]
            st.markdown("Loses most at the same budget: " + ", ".join(losses))
        if priced["changes"]:
            st.dataframe(
                {
                    "touchpoint": [c["name"] for c in priced["changes"]],
                    "shared": ["shared" if c["shared"] else "own" for c in priced["changes"]],
                    "same budget": [
                        None if c["same_budget"] is None else frames.whole(c["same_budget"])
                        for c in priced["changes"]
                    ],
                    "more money": [
                        None if c["extra_budget"] is None else frames.whole(c["extra_budget"])
                        for c in priced["changes"]
                    ],
                },
                hide_index=True,
                placeholder=formats.MISSING,
                column_config={
                    "touchpoint": st.column_config.TextColumn("Touchpoint", width="large"),
                    "shared": st.column_config.TextColumn(
                        "Serves", help="shared: other journeys depend on it too"
                    ),
                    "same budget": st.column_config.NumberColumn(
                        f"Spend change, same budget ({currency})", format="localized"
                    ),
                    "more money": st.column_config.NumberColumn(
                        f"Spend change, more money ({currency})", format="localized"
                    ),
                },
            )

# =========================================================================== the owner's edit

st.subheader("Edit this journey")
st.caption(
    f"For its owner ({journey.get('owner') or 'nobody yet'}): lifecycle, stages, touchpoint "
    "links with their weights, and KPIs. Saving checks that nobody changed the journey since "
    "you opened it; if someone did, nothing is overwritten. Every change is kept in the "
    "portfolio's audit log."
)
base_key = f"journey-base:{portfolio['id']}:{journey_id}"
if base_key not in st.session_state:
    with common.api_errors():
        st.session_state[base_key] = common.api().journey(portfolio["id"], journey_id)
base = st.session_state[base_key]
editing = base.body
if st.button("Reload the latest version (discards unsaved edits)", icon=":material/refresh:"):
    del st.session_state[base_key]
    st.rerun()
st.caption(f"Editing version {editing['version']} of the journey.")

tag = f"{portfolio['id']}:{journey_id}:{base.etag}"
touchpoint_names = frames.names(touchpoints)
link_frame = edits.link_rows(editing)
kpi_frame, actual_frame = edits.kpi_rows(editing)
stages = frames.stage_order(editing)
with st.form(f"journey-form:{tag}"):
    lifecycle_column, stages_column = st.columns([1, 3])
    lifecycle = lifecycle_column.selectbox(
        "Lifecycle",
        edits.LIFECYCLES,
        index=edits.LIFECYCLES.index(editing.get("lifecycle", "active")),
        key=f"lifecycle:{tag}",
    )
    stage_text = stages_column.text_input(
        "Stages, in order (comma separated)",
        ", ".join(editing.get("stages") or []),
        key=f"stages:{tag}",
    )
    st.markdown("**Touchpoints of the journey** (add or delete rows to link or unlink)")
    links = st.data_editor(
        link_frame,
        num_rows="dynamic",
        hide_index=True,
        placeholder=formats.MISSING,
        key=f"links:{tag}",
        column_config={
            "touchpoint": st.column_config.SelectboxColumn(
                "Touchpoint",
                options=[t["id"] for t in touchpoints],
                format_func=lambda ref: touchpoint_names[str(ref)],
                required=True,
                width="medium",
            ),
            "stage": st.column_config.SelectboxColumn("Stage", options=stages),
            "weight": st.column_config.NumberColumn(
                "Weight", min_value=0.01, step=0.5, help="How much of the experience it carries."
            ),
            "critical": st.column_config.CheckboxColumn(
                "Moment of truth", help="The journey is never better than this touchpoint."
            ),
            "emotion": st.column_config.NumberColumn(
                "Emotion", min_value=-2.0, max_value=2.0, step=1.0, help="-2 (angry) to +2."
            ),
        },
    )
    kpi_column, actual_column = st.columns(2)
    with kpi_column:
        st.markdown("**KPIs**")
        kpis = st.data_editor(
            kpi_frame,
            num_rows="dynamic",
            hide_index=True,
            placeholder=formats.MISSING,
            key=f"kpis:{tag}",
            column_config={
                "name": st.column_config.TextColumn("KPI", required=True),
                "unit": "Unit",
                "target": st.column_config.NumberColumn("Target"),
                "higher_is_better": st.column_config.CheckboxColumn("Higher is better"),
            },
        )
    with actual_column:
        st.markdown("**Actuals**")
        actuals = st.data_editor(
            actual_frame,
            num_rows="dynamic",
            hide_index=True,
            placeholder=formats.MISSING,
            key=f"actuals:{tag}",
            column_config={
                "kpi": st.column_config.TextColumn("KPI", help="The KPI's name, as on the left."),
                "period": st.column_config.TextColumn("Period", help="e.g. 2026-Q4"),
                "value": st.column_config.NumberColumn("Value"),
            },
        )
    submitted = st.form_submit_button("Save changes", type="primary", icon=":material/save:")

if submitted:
    try:
        changes = edits.journey_changes(
            editing,
            lifecycle=lifecycle,
            stages=stage_text,
            links=links,
            kpis=kpis,
            actuals=actuals,
        )
    except edits.EditError as error:
        st.error(f"Not saved: {error}.", icon=":material/error:")
        st.stop()
    if not changes:
        st.info("Nothing changed, nothing to save.")
        st.stop()
    try:
        saved = common.api().update_journey(portfolio["id"], journey_id, changes, etag=base.etag)
    except ApiError as error:
        st.error(error.message, icon=":material/error:")
        st.stop()
    del st.session_state[base_key]
    common.flash(
        f"Saved {journey['name']} (version {saved.body['version']}): "
        f"{', '.join(sorted(changes))} changed. The figures above are optimized again."
    )
    st.rerun()
