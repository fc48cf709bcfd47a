"""Zhili's KPIs: pure functions of (engine, period, scope, as_of, settings), no Streamlit."""
