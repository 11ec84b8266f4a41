"""The query builder writes statements QBO's parser accepts, with values escaped QBO's way."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.qbo.query import QueryValueError, format_value, quote_text, select


def unquote_like_qbo(literal: str) -> str:
    """Read a QBO string literal back: quotes around it, backslash escapes the next character."""
    assert literal[0] == "'" and literal[-1] == "'"
    out: list[str] = []
    chars = iter(literal[1:-1])
    for char in chars:
        if char == "\\":
            out.append(next(chars))
        else:
            assert char != "'", "an unescaped quote would end the literal early"
            out.append(char)
    return "".join(out)


def test_apostrophe_is_escaped_as_in_the_recorded_lookup() -> None:
    statement = select("Customer").where("DisplayName", "=", "Amy's Bird Sanctuary").build()
    assert statement == r"SELECT * FROM Customer WHERE DisplayName = 'Amy\'s Bird Sanctuary'"


def test_backslash_is_doubled_and_a_trailing_backslash_is_safe() -> None:
    assert quote_text("Studio A\\B") == r"'Studio A\\B'"
    assert quote_text("ends with \\") == "'ends with \\\\'"
    assert quote_text("\\'") == r"'\\\''"


def test_ampersand_is_left_for_url_encoding() -> None:
    statement = select("Vendor").where("DisplayName", "=", "Robertson & Associates").build()
    assert statement == "SELECT * FROM Vendor WHERE DisplayName = 'Robertson & Associates'"


def test_accented_names_pass_unchanged() -> None:
    assert quote_text("Café Lumière") == "'Café Lumière'"
    assert quote_text("Łódź Atelier Zoë") == "'Łódź Atelier Zoë'"


def test_decomposed_accents_are_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Café Lumière")
    assert decomposed != "Café Lumière"
    assert quote_text(decomposed) == "'Café Lumière'"


def test_typographic_quotes_and_dashes_become_ascii() -> None:
    # QBO answers "Lexical error … Encountered: \u2019" and "\u2013" for these (reference §4).
    assert quote_text("Amy’s Studio – North") == r"'Amy\'s Studio - North'"
    assert quote_text("“Blue” Architects — Phase 2…") == "'\"Blue\" Architects - Phase 2...'"
    assert quote_text("A\u00a0B") == "'A B'"


@pytest.mark.parametrize("text", ["Studio ★", "Design 🏛", "Tab\there", "Bell\x07"])
def test_characters_qbo_cannot_search_are_refused(text: str) -> None:
    with pytest.raises(QueryValueError):
        quote_text(text)


def test_values_are_formatted_per_type() -> None:
    assert format_value(True) == "true"
    assert format_value(False) == "false"
    assert format_value(5) == "'5'"
    assert format_value(Decimal("300.00")) == "'300.00'"
    assert format_value(Decimal("1E+2")) == "'100'"
    assert format_value(date(2024, 2, 29)) == "'2024-02-29'"
    pacific = timezone(timedelta(hours=-7))
    assert format_value(datetime(2015, 3, 1, 12, 0, 5, 999, tzinfo=pacific)) == (
        "'2015-03-01T12:00:05-07:00'"
    )
    assert format_value(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "'2025-01-02T03:04:05+00:00'"


@pytest.mark.parametrize("value", [1.5, datetime(2025, 1, 1), Decimal("NaN"), b"bytes"])
def test_ambiguous_values_are_refused(value: object) -> None:
    with pytest.raises(QueryValueError):
        format_value(value)  # type: ignore[arg-type]


def test_in_with_booleans_matches_the_recorded_inactive_lookup() -> None:
    statement = select("Vendor").where("Active", "IN", [True, False]).build()
    assert statement == "SELECT * FROM Vendor WHERE Active IN (true, false)"


def test_several_conditions_order_and_paging() -> None:
    statement = (
        select("Customer")
        .where("Id", "IN", ["5", 6])
        .where("MetaData.LastUpdatedTime", ">=", datetime(2025, 1, 1, tzinfo=UTC))
        .where("DisplayName", "LIKE", "Doe%")
        .order_by("Id")
        .build(start=1001, max_results=1000)
    )
    assert statement == (
        "SELECT * FROM Customer WHERE Id IN ('5', '6') AND MetaData.LastUpdatedTime >= "
        "'2025-01-01T00:00:00+00:00' AND DisplayName LIKE 'Doe%' ORDERBY Id "
        "STARTPOSITION 1001 MAXRESULTS 1000"
    )


@pytest.mark.parametrize("operator", ["=", "<", ">", "<=", ">="])
def test_comparison_operators(operator: str) -> None:
    statement = select("Invoice").where("TotalAmt", operator, Decimal("10.00")).build()  # type: ignore[arg-type]
    assert statement == f"SELECT * FROM Invoice WHERE TotalAmt {operator} '10.00'"


def test_descending_order() -> None:
    assert select("Bill").order_by("TxnDate", descending=True).build() == (
        "SELECT * FROM Bill ORDERBY TxnDate DESC"
    )


def test_count_keeps_the_filter_and_drops_the_order() -> None:
    assert select("Customer").as_count().build() == "SELECT COUNT(*) FROM Customer"
    query = select("Employee").where("Active", "IN", [True, False]).order_by("Id")
    assert query.as_count().build() == (
        "SELECT COUNT(*) FROM Employee WHERE Active IN (true, false)"
    )


def test_builder_is_immutable() -> None:
    base = select("Customer")
    filtered = base.where("Active", "=", True)
    assert base.build() == "SELECT * FROM Customer"
    assert filtered.build() == "SELECT * FROM Customer WHERE Active = true"


@pytest.mark.parametrize(
    "call",
    [
        lambda: select("Customer WHERE 1"),
        lambda: select("Customer").where("DisplayName = 'x' OR Id", "=", "1"),
        lambda: select("Customer").where("Id", "OR", "1"),  # type: ignore[arg-type]
        lambda: select("Customer").where("Id", "IN", []),
        lambda: select("Customer").where("Id", "IN", "123"),
        lambda: select("Customer").where("Id", "=", ["1"]),
        lambda: select("Customer").where("DisplayName", "LIKE", 5),
        lambda: select("Customer").order_by("Id; DROP"),
        lambda: select("Customer").build(start=0),
        lambda: select("Customer").build(max_results=1001),
    ],
)
def test_malformed_queries_are_refused(call: object) -> None:
    with pytest.raises(QueryValueError):
        call()  # type: ignore[operator]


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_any_ascii_text_round_trips_through_qbo_quoting(text: str) -> None:
    assert unquote_like_qbo(quote_text(text)) == text


@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "Zs", "P"])))
def test_any_text_is_either_quoted_safely_or_refused(text: str) -> None:
    try:
        literal = quote_text(text)
    except QueryValueError:
        return
    unquoted = unquote_like_qbo(literal)
    assert "\u2019" not in unquoted and "\u2013" not in unquoted
