"""/export: the period's answers as a spreadsheet-safe CSV file, streamed row by row."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import ReportsConfig
from bot.reports.compose import tz_of
from storage.base import AnalyticsRepo
from storage.records import Filters
from survey_flows.models import Category, Metric
from survey_flows.periods import Selection
from survey_flows.reports import safe_cell, safe_cells
from survey_flows.scoring import category_name

EXPORT_COLUMNS = (
    "answered_at",
    "survey",
    "metric",
    "score",
    "category",
    "comment",
    "comment_kind",
    "customer_id",
    "invitation_id",
)


async def export_csv(
    analytics: AnalyticsRepo, start: datetime, end: datetime, filters: Filters, path: Path
) -> int:
    """Write the answers of [start, end) to `path` as spreadsheet-safe UTF-8 CSV; returns rows.

    Rows are streamed page by page from SQL; every text cell goes through `safe_cell`. The file
    starts with a byte-order mark so spreadsheet programs read it as UTF-8.
    """
    keys = await analytics.context_keys(start, end, filters)
    names: dict[tuple[str, str], str] = {}
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*EXPORT_COLUMNS, *(safe_cell(k) for k in keys)])
        async for page in analytics.export_pages(start, end, filters):
            table = []
            for row in page:
                name = names.get((row.metric, row.category))
                if name is None:
                    name = category_name(Metric(row.metric), Category(row.category))
                    names[row.metric, row.category] = name
                context = row.context
                survey, comment, *values = safe_cells(
                    [row.survey, row.comment or "", *[context.get(k, "") for k in keys]]
                )
                table.append(
                    [
                        row.answered_at,
                        survey,
                        row.metric,
                        row.score,
                        name,
                        comment,
                        row.comment_kind or "",
                        row.customer_id,
                        row.invitation_id,
                        *values,
                    ]
                )
            writer.writerows(table)
            count += len(table)
    return count


def export_name(selection: Selection, cfg: ReportsConfig) -> str:
    tz = tz_of(cfg)
    start = selection.period.start.astimezone(tz).strftime("%Y-%m-%d")
    end = (selection.period.end - timedelta(microseconds=1)).astimezone(tz).strftime("%Y-%m-%d")
    return f"answers_{start}_{end}.csv"
