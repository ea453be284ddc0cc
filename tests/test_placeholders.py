"""Survey texts with `{product}`-style placeholders: filled, escaped, and missing ones left out
cleanly (what the customer reads must never show braces or double spaces)."""

from __future__ import annotations

import html

import pytest

from survey_flows.placeholders import fill_placeholders, placeholders

CONTEXT = {"product": "Kettle", "order_id": "A-17", "empty": "  "}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("How was your {product}?", "How was your Kettle?"),
        ("Order {order_id}: how was your {product}?", "Order A-17: how was your Kettle?"),
        ("How was your {colour} {product}?", "How was your Kettle?"),
        ("How was your order {missing}?", "How was your order?"),
        ("How was your order {missing} today?", "How was your order today?"),
        ("{missing} How was it?", "How was it?"),
        ("How was it? {missing}", "How was it?"),
        ("How was your order ({missing})?", "How was your order?"),
        ("Order {a} {b} {c}, thanks", "Order, thanks"),
        ("Blank {empty} value", "Blank value"),
        ("Line one {missing}\nline two", "Line one\nline two"),
        ("Literal {{braces}} stay", "Literal {braces} stay"),
        ("Not a name { :) } or {1}", "Not a name { :) } or {1}"),
        ("No placeholders at all", "No placeholders at all"),
        ("", ""),
        ("{product}{order_id}", "KettleA-17"),
        ("Keep  two spaces here {product}", "Keep  two spaces here Kettle"),
        ("Open brace { alone", "Open brace { alone"),
    ],
)
def test_fill_placeholders(template: str, expected: str) -> None:
    filled = fill_placeholders(template, CONTEXT)
    assert filled == expected, f"the customer would read {filled!r}"


@pytest.mark.parametrize(
    "template",
    ["{a}", "x {a} {b} y", "({a})", "{a}, {b}.", "  {a}  ", "{{{a}}}", "{a}\n{b}", "\x00{a}"],
)
def test_missing_values_never_leave_braces_or_double_spaces(template: str) -> None:
    filled = fill_placeholders(template, {})
    assert "{a}" not in filled and "{b}" not in filled and "\x00" not in filled
    assert "  " not in filled.strip(), f"double space in {filled!r}"


def test_values_and_text_are_escaped_for_html() -> None:
    filled = fill_placeholders(
        "<b>{product}</b> & co", {"product": "<script>alert(1)</script>"}, html.escape
    )
    assert filled == "&lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt; &amp; co"


def test_placeholders_lists_names_in_order() -> None:
    assert placeholders("{product} for {order_id} {{x}}") == ["product", "order_id"]
