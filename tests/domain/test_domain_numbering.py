"""Invoice numbering: formatting, allocation that never reuses a number, QuickBooks limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factor_desktop.domain.invoices import (
    QBO_DOC_NUMBER_MAX_LENGTH,
    InvoiceNumberPolicy,
    parse_number,
)


def test_format_pads_with_zeros() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=1, padding=4)
    assert policy.format(42) == "INV-0042"
    assert policy.format(1) == "INV-0001"
    assert InvoiceNumberPolicy().format(7) == "0007"
    assert InvoiceNumberPolicy(padding=0).format(7) == "7"
    assert InvoiceNumberPolicy(prefix="2024-", padding=3).format(15) == "2024-015"


def test_numbers_outgrowing_the_padding_are_written_in_full() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=9999, padding=4)
    first, policy = policy.allocate(set())
    second, policy = policy.allocate(set())
    assert (first, second) == ("INV-9999", "INV-10000")
    assert parse_number(second, policy) == 10000


def test_allocate_returns_next_number_and_advances() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=42)
    number, advanced = policy.allocate(set())
    assert number == "INV-0042"
    assert advanced == InvoiceNumberPolicy(prefix="INV-", next_number=43)
    assert policy.next_number == 42  # the policy itself is unchanged (immutable)


def test_allocate_skips_used_numbers() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=42)
    number, advanced = policy.allocate({"INV-0042", "INV-0043", "INV-0045"})
    assert number == "INV-0044"
    assert advanced.next_number == 45
    number, advanced = advanced.allocate({"INV-0042", "INV-0043", "INV-0044", "INV-0045"})
    assert number == "INV-0046"


def test_allocate_never_goes_back_to_free_lower_numbers() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=100)
    number, _ = policy.allocate({"INV-0100"})
    assert number == "INV-0101"  # 1..99 are free but are never handed out again


def test_sequence_of_allocations_never_reuses_a_number() -> None:
    policy = InvoiceNumberPolicy(prefix="F", next_number=1, padding=3)
    used: set[str] = set()
    for _ in range(50):
        number, policy = policy.allocate(used)
        assert number not in used
        used.add(number)
    assert len(used) == 50
    assert policy.next_number == 51


def test_used_numbers_are_compared_ignoring_case_spaces_and_padding() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=1)
    used = {"inv-0001", " INV-0002 ", "INV-3", "INV-00004"}
    number, _ = policy.allocate(used)
    assert number == "INV-0005"


def test_numbers_of_other_schemes_do_not_block() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-", next_number=1)
    number, _ = policy.allocate({"1001", "CM-0001", "0001"})
    assert number == "INV-0001"


def test_doc_number_length_limit() -> None:
    longest = InvoiceNumberPolicy(prefix="ABCDEFGHIJ", next_number=1, padding=10)
    assert len(longest.format(1)) == 20
    assert len(longest.format(10**10)) == QBO_DOC_NUMBER_MAX_LENGTH == 21
    with pytest.raises(ValueError, match="21"):
        longest.format(10**11)


def test_allocation_refuses_when_numbers_no_longer_fit() -> None:
    policy = InvoiceNumberPolicy(prefix="ABCDEFGHIJ", next_number=10**11 - 1, padding=0)
    number, policy = policy.allocate(set())
    assert number == "ABCDEFGHIJ" + "9" * 11
    assert len(number) == 21
    with pytest.raises(ValueError, match="doesn't fit"):
        policy.allocate(set())


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"prefix": "ABCDEFGHIJK"}, "at most 10"),
        ({"prefix": "INV:"}, "colon"),
        ({"prefix": "INV\t"}, "printed"),
        ({"prefix": " INV"}, "space"),
        ({"padding": -1}, "between 0 and 10"),
        ({"padding": 11}, "between 0 and 10"),
        ({"next_number": 0}, "1 or more"),
        ({"next_number": -5}, "1 or more"),
    ],
)
def test_policy_validation(kwargs: dict[str, object], phrase: str) -> None:
    with pytest.raises(ValueError, match=phrase):
        InvoiceNumberPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_refuses_non_integers() -> None:
    with pytest.raises(TypeError):
        InvoiceNumberPolicy(next_number=True)
    with pytest.raises(TypeError):
        InvoiceNumberPolicy(padding="4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start at 1"):
        InvoiceNumberPolicy().format(0)


def test_parse_number() -> None:
    policy = InvoiceNumberPolicy(prefix="INV-")
    assert parse_number("INV-0042", policy) == 42
    assert parse_number("inv-42", policy) == 42
    assert parse_number(" INV-0042 ", policy) == 42
    assert parse_number("INV-", policy) is None
    assert parse_number("INV-0000", policy) is None
    assert parse_number("INV-12a", policy) is None
    assert parse_number("CM-0042", policy) is None
    assert parse_number("INV-١٢", policy) is None  # only ASCII digits
    assert parse_number("0042", InvoiceNumberPolicy()) == 42


policies = st.builds(
    InvoiceNumberPolicy,
    prefix=st.sampled_from(["", "INV-", "A", "2024-", "Inv#"]),
    next_number=st.integers(min_value=1, max_value=2000),
    padding=st.integers(min_value=0, max_value=6),
)


@given(policies, st.sets(st.integers(min_value=1, max_value=2100), max_size=60))
def test_allocate_never_returns_a_used_number(policy: InvoiceNumberPolicy, taken: set[int]) -> None:
    used = {policy.format(n) for n in taken}
    number, advanced = policy.allocate(used)
    assert number not in used
    n = parse_number(number, policy)
    assert n is not None
    assert n >= policy.next_number
    assert n not in taken
    assert advanced.next_number == n + 1
    # Every number between the old and new starting points was taken.
    assert all(k in taken for k in range(policy.next_number, n))


@given(policies, st.integers(min_value=1, max_value=10**9))
def test_format_and_parse_round_trip(policy: InvoiceNumberPolicy, n: int) -> None:
    text = policy.format(n)
    assert len(text) <= QBO_DOC_NUMBER_MAX_LENGTH
    assert parse_number(text, policy) == n
