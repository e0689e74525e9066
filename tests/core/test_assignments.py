"""One NAME=VALUE grammar: --grid, %%run_quick overrides, baseline:/treatment: and --baseline read
every value the same way and refuse the same values with the same message."""

from __future__ import annotations

import math

import pytest

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution.quickrun import parse_overrides
from jupyter_mlexp.core.record.assignments import AssignmentError, parse_assignment
from jupyter_mlexp.core.record.hypothesis import parse_config, parse_treatment
from jupyter_mlexp.report.load import parse_baseline
from jupyter_mlexp.runner.sweep import parse_grid, parse_params


def _all_surfaces(item: str) -> list:
    """The value of ``item`` (NAME=VALUE) as each surface reads it."""
    name = item.partition("=")[0]
    return [
        parse_grid([item])[name][0],
        parse_overrides([item])[name],
        parse_config(item)[name],  # type: ignore[index]
        parse_treatment(item)[name],
        parse_baseline(item)[name],  # type: ignore[index]
    ]


@pytest.mark.parametrize(
    "item, expected",
    [
        ("x=[1,2]", [1, 2]),
        ("x=[1, 2]", [1, 2]),
        ("x='a'", "a"),
        ('x="a,b"', "a,b"),
        ("x='a b'", "a b"),
        ("x=1e-3", 0.001),
        ("x=True", True),
        ("x=None", None),
        ("x=3", 3),
        ("x=adam", "adam"),
        ("x=data/train.csv", "data/train.csv"),
        ("x=-inf", -math.inf),
        ("x={'a': 1}", {"a": 1}),
        ("x=(1, 2)", (1, 2)),
    ],
)
def test_every_surface_reads_the_same_value(item, expected):
    for got in _all_surfaces(item):
        assert got == expected and type(got) is type(expected), (item, got)


def test_nan_is_a_float_everywhere():
    assert all(isinstance(v, float) and math.isnan(v) for v in _all_surfaces("x=nan"))


@pytest.mark.parametrize(
    "item, message",
    [
        ("x=[1,2", "unclosed bracket"),
        ("x='a", "unclosed quote"),
        ("x=[1)", "does not parse as a Python literal"),
        ("x=a=b", "quote it to mean a string ('a=b')"),
        ("x=", "empty value"),
        ("1x=2", "is not NAME=VALUE"),
        ("class=2", "is not NAME=VALUE"),
    ],
)
def test_every_surface_refuses_the_same_value_with_the_same_message(item, message):
    """Each surface names itself before the message; the message is the grammar's."""
    surfaces = [
        lambda: parse_grid([item]),
        lambda: parse_overrides([item]),
        lambda: parse_treatment(item),
        lambda: parse_baseline(item),
        lambda: parse_assignment(item),
    ]
    for call in surfaces:
        with pytest.raises(MlexpError) as err:
            call()
        assert message in str(err.value), (item, str(err.value))
        assert "\n" not in str(err.value)


def test_a_comma_inside_one_value_is_a_list_or_a_quoted_string():
    with pytest.raises(AssignmentError, match=r"write a list as \[1,2\]"):
        parse_overrides(["x=1,2"])
    # where commas separate values, the same text is two values or two assignments
    assert parse_grid(["x=1,2"]) == {"x": [1, 2]}
    assert parse_config("x=1, y=[1,2]") == {"x": 1, "y": [1, 2]}


def test_free_text_baseline_is_still_a_note():
    assert parse_config("majority class, about 0.10") is None
    assert parse_config("logistic regression") is None


def test_a_configuration_with_a_bad_value_is_an_error_not_a_note():
    with pytest.raises(MlexpError, match="unclosed bracket"):
        parse_config("C=[1,2, epochs=3")


def test_p_keeps_papermills_typing():
    """-p NAME VALUE is papermill's rule, documented as the exception: quotes stay, no lists."""
    assert parse_params([("x", "'a'"), ("y", "[1,2]"), ("z", "1e-3"), ("w", "True"), ("n", "nan")]) == {
        "x": "'a'",
        "y": "[1,2]",
        "z": 0.001,
        "w": True,
        "n": pytest.approx(math.nan, nan_ok=True),
    }


def test_a_huge_value_is_refused_without_recursing():
    with pytest.raises(AssignmentError, match="longer than"):
        parse_overrides(["x=" + "[" * 100_000 + "]" * 100_000])
    with pytest.raises(AssignmentError):
        parse_overrides(["x=" + "[" * 3000 + "]" * 3000])
