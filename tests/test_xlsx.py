"""The one Excel writer: title block, Chinese headers, numbers as numbers with formats,
formula-looking text neutralised, missing values empty."""
from datetime import datetime
from zoneinfo import ZoneInfo
import io

import openpyxl
import pandas as pd

from metrics.xlsx import frame_xlsx


def test_frame_xlsx_values_formats_and_neutralised_text():
    frame = pd.DataFrame({
        "社区": ["=HYPERLINK(\"x\")", "和平社区", "-1+2"],
        "办结率": [0.9651, None, 0.5],
        "受理量": [1234, 0, 7],
        "时间": [datetime(2026, 11, 27, 0, 30, tzinfo=ZoneInfo("UTC")), None, None],
    })
    data = frame_xlsx(frame, ["诉求办理 社区排名", "统计期: 2026-11-01 至 2026-11-27"],
                      formats={"办结率": "pct", "受理量": "count", "时间": "datetime"})
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "诉求办理 社区排名"
    assert ws["A2"].value == "统计期: 2026-11-01 至 2026-11-27"
    assert [c.value for c in ws[4]] == ["社区", "办结率", "受理量", "时间"]
    assert ws["A5"].value == "=HYPERLINK(\"x\")" and ws["A5"].data_type == "s"
    assert ws["A5"].quotePrefix is True and ws["A6"].quotePrefix is False
    assert ws["A7"].quotePrefix is True
    assert ws["B5"].value == 0.9651 and ws["B5"].number_format == "0.0%"
    assert ws["B6"].value is None
    assert ws["C5"].value == 1234 and ws["C5"].number_format == "#,##0"
    # 00:30 UTC is 08:30 in Shanghai; stored naive local
    assert ws["D5"].value == datetime(2026, 11, 27, 8, 30)
    assert ws.freeze_panes == "A5"
