"""Every table on every page: ``table`` draws a frame with Chinese headers, the shared
column formats (``metrics.formatting.COLUMN_FORMATS``, the same the Excel file uses), "—"
for a missing value (never "None" or "nan") and a 导出Excel button under it."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pandas as pd
import streamlit as st

from metrics.formatting import COLUMN_FORMATS, NULL
from pages.ui.export import column_format, excel_button

_KINDS = {"number": st.column_config.NumberColumn, "date": st.column_config.DateColumn,
          "datetime": st.column_config.DatetimeColumn}
#: Rates show one decimal (as on the cards): Streamlit's "percent" takes its digits from
#: the column's step.
_PERCENT_STEP = 0.001


def column_config(formats: Mapping[str, str] | None = None,
                  helps: Mapping[str, str] | None = None,
                  extra: Mapping[str, dict] | None = None) -> dict:
    """Streamlit column settings from format keys (``formats``), one-line helps and any
    further settings (``extra``, e.g. a width)."""
    config: dict[str, dict] = {}
    for column, spec in (formats or {}).items():
        kind, fmt, _ = COLUMN_FORMATS[column_format(spec)]
        settings = {"format": fmt}
        if fmt == "percent":
            settings["step"] = _PERCENT_STEP
        config[column] = dict(_KINDS[kind](**settings))
    for column, text in (helps or {}).items():
        config.setdefault(column, {})["help"] = text
    for column, more in (extra or {}).items():
        config.setdefault(column, {}).update(more)
    return config


def arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with one type per column, so Streamlit converts it to Arrow as it is (a
    column of mixed Python objects makes it log a conversion error and guess): numbers
    (Decimal amounts included) become floats, other mixed columns text; missing values
    stay missing (shown as —)."""
    out = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        kinds = {type(v) for v in values if v is not None and v == v}
        if not kinds or len(kinds) == 1 and not kinds & {Decimal}:
            continue
        if out is frame:
            out = frame.copy()
        if all(issubclass(k, (int, float, Decimal)) and k is not bool for k in kinds):
            out[column] = pd.to_numeric(values.map(lambda v: None if v is None else float(v)))
        else:
            out[column] = values.map(lambda v: v if v is None or v != v else str(v)
                                     ).astype("string")
    return out


def table(frame: pd.DataFrame, key: str, *, title: str, f,
          formats: Mapping[str, str] | None = None, helps: Mapping[str, str] | None = None,
          extra: Mapping[str, dict] | None = None, export: pd.DataFrame | None = None,
          excel: bool = True, period: str | None = None, **kwargs):
    """Draw ``frame`` (its columns are the headers) and its 导出Excel button (unless
    ``excel`` is false); ``export`` replaces the frame in the file where the page shows
    something else; ``kwargs`` go to st.dataframe (selection, height). Returns
    st.dataframe's value."""
    frame = arrow_ready(frame)
    event = st.dataframe(frame, hide_index=True, placeholder=NULL, key=key,
                         column_config=column_config(formats, helps, extra), **kwargs)
    if excel:
        excel_button(frame if export is None else export, title, f, formats,
                     key=f"{key}_xlsx", period=period)
    return event
