"""The Journeyfolio app: `streamlit run frontend/streamlit_app.py` (`journeyfolio up` does it)."""

import streamlit as st

st.set_page_config(page_title="Journeyfolio", page_icon=":material/route:", layout="wide")
page = st.navigation(
    [
        st.Page("app_pages/overview.py", title="Portfolio", icon=":material/dashboard:"),
        st.Page("app_pages/journeys.py", title="Journeys", icon=":material/route:"),
        st.Page("app_pages/touchpoints.py", title="Touchpoints", icon=":material/hub:"),
        st.Page("app_pages/scenarios.py", title="Scenario planner", icon=":material/tune:"),
        st.Page("app_pages/compare.py", title="Compare scenarios", icon=":material/compare:"),
        st.Page("app_pages/tables.py", title="Spreadsheet tables", icon=":material/table:"),
    ]
)
page.run()
