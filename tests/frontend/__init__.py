"""Tests of the Streamlit app, its API client and charts, and `journeyfolio up`."""

import streamlit.logger

# The app's cached functions are defined here outside a Streamlit server, and Streamlit logs
# a warning for each ("No runtime found") that says nothing about the tests.
streamlit.logger.set_log_level("error")
