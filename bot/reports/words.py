"""The catalogue keys of report words chosen by data: a metric's categories, breakdown and chart
unit, and the alert figures' labels. Written out, so `pybabel extract` finds each one."""

from __future__ import annotations

from collections.abc import Mapping

from bot.views.texts import N_
from survey_flows.models import Category, Metric

# The metric's words for its groups, in Category order (low to high).
CATEGORIES: Mapping[Metric, Mapping[Category, str]] = {
    Metric.NPS: {
        Category.DETRACTOR: N_("category.nps.detractor"),
        Category.PASSIVE: N_("category.nps.passive"),
        Category.PROMOTER: N_("category.nps.promoter"),
    },
    Metric.CSAT: {
        Category.DETRACTOR: N_("category.csat.unsatisfied"),
        Category.PASSIVE: N_("category.csat.neutral"),
        Category.PROMOTER: N_("category.csat.satisfied"),
    },
    Metric.CES: {
        Category.DETRACTOR: N_("category.ces.difficult"),
        Category.PASSIVE: N_("category.ces.neutral"),
        Category.PROMOTER: N_("category.ces.easy"),
    },
}
BREAKDOWNS: Mapping[Metric, str] = {
    Metric.NPS: N_("mgr.breakdown.nps"),
    Metric.CSAT: N_("mgr.breakdown.csat"),
    Metric.CES: N_("mgr.breakdown.ces"),
}
UNITS: Mapping[Metric, str] = {
    Metric.NPS: N_("chart.unit.nps"),
    Metric.CSAT: N_("chart.unit.csat"),
    Metric.CES: N_("chart.unit.ces"),
}
# storage's alert_figures() names -> their labels (a figure without one shows its name).
ALERT_FIGURES: Mapping[str, str] = {
    "raised": N_("report.alert.raised"),
    "open_count": N_("report.alert.open_count"),
    "median_time_to_take": N_("report.alert.median_time_to_take"),
    "median_time_to_resolve": N_("report.alert.median_time_to_resolve"),
    "rechecked_solved_share": N_("report.alert.rechecked_solved_share"),
    "reopened": N_("report.alert.reopened"),
    "reopened_share": N_("report.alert.reopened_share"),
}
