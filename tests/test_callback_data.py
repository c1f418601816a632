"""Callback formats: each button's data matches its own pattern back, and no other pattern."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import handlers
from bot.botapi.callback_data import CALLBACK_DATA_LIMIT, CallbackFormat
from bot.broadcasts import report
from handlers import donate, language, monthly, thanks, updates_archive


def declared_formats() -> dict[str, CallbackFormat]:
    """Every format a handler module (or the broadcast report) declares, by qualified name."""
    modules = [report] + [
        importlib.import_module(f"handlers.{info.name}")
        for info in pkgutil.iter_modules(handlers.__path__)
    ]
    return {
        f"{module.__name__}.{name}": value
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, CallbackFormat)
    }


FORMATS = declared_formats()


def values_for(callback: CallbackFormat) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {name: st.from_regex(regex, fullmatch=True) for name, regex in callback.fields.items()}
    )


def test_the_declared_formats_are_all_found() -> None:
    assert len(FORMATS) >= 20, sorted(FORMATS)


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(data=st.data())
def test_built_data_matches_its_own_pattern_with_the_same_groups(
    name: str, data: st.DataObject
) -> None:
    callback = FORMATS[name]
    values = data.draw(values_for(callback))
    try:
        built = callback.data(**values)
    except ValueError:
        # Only the 64-byte limit may refuse values the field regexes allow.
        raw = ":".join([callback.prefix, *values.values()])
        assert len(raw.encode()) > CALLBACK_DATA_LIMIT
        return
    match = callback.pattern.match(built)
    assert match is not None
    assert match.groupdict() == values
    others = [other for key, other in FORMATS.items() if other.pattern != callback.pattern]
    assert [other for other in others if other.pattern.match(built)] == []


@pytest.mark.parametrize(
    ("callback", "values", "expected"),
    [
        (donate.PRESET, {"frequency": "once", "amount": 1000}, "don:a:once:1000"),
        (donate.SET_FREQUENCY, {"frequency": "monthly"}, "don:f:monthly"),
        (donate.CANCEL_TYPING, {}, "don:x"),
        (monthly.CONFIRM_CANCEL, {"subscription": "sub_123"}, "don:cy:sub_123"),
        (thanks.WORDS, {"donation": "pi_42"}, "sup:w:pi_42"),
        (updates_archive.PHOTO, {"broadcast": 7}, "upd:photo:7"),
        (language.SET_LANGUAGE, {"locale": "fr"}, "language:fr"),
        (report.STOP, {"broadcast": 12}, "bc:stop:12"),
    ],
)
def test_formats_keep_the_data_buttons_already_carry(
    callback: CallbackFormat, values: dict[str, Any], expected: str
) -> None:
    assert callback.data(**values) == expected


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"frequency": "weekly", "amount": 500}, ValueError),
        ({"frequency": "once", "amount": "5:00"}, ValueError),
        ({"frequency": "once", "amount": "500\n"}, ValueError),
        ({"frequency": "once"}, TypeError),
        ({"frequency": "once", "amount": 5, "extra": 1}, TypeError),
    ],
)
def test_a_button_its_own_handler_would_not_match_is_refused(
    values: dict[str, Any], problem: type[Exception]
) -> None:
    with pytest.raises(problem):
        donate.PRESET.data(**values)


def test_data_over_telegrams_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        monthly.ASK_CANCEL.data(subscription="sub_" + "a" * 60)


def test_forged_data_with_a_trailing_newline_matches_nothing() -> None:
    assert [name for name, f in FORMATS.items() if f.pattern.match("don:x\n")] == []


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(data=st.data())
def test_no_format_matches_its_own_data_with_a_newline_after_it(
    name: str, data: st.DataObject
) -> None:
    values = data.draw(values_for(FORMATS[name]))
    forged = ":".join([FORMATS[name].prefix, *values.values()]) + "\n"
    assert [other for other, f in FORMATS.items() if f.pattern.match(forged)] == []


def test_no_handler_reads_the_raw_callback_data() -> None:
    # handlers/callbacks only asks whether there is any data, to stop buttons that have none.
    sources = {
        info.name: inspect.getsource(importlib.import_module(f"handlers.{info.name}"))
        for info in pkgutil.iter_modules(handlers.__path__)
        if info.name != "callbacks"
    }
    readers = [name for name, source in sources.items() if re.search(r"query\.data\b", source)]
    assert readers == [], "read values from the format's match groups (context.matched)"
