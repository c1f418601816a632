"""Callback data formats, each declared once and used both to build a button and to match it."""

from __future__ import annotations

import re

# Telegram refuses a button whose callback data is longer than this, in bytes.
CALLBACK_DATA_LIMIT = 64
SEPARATOR = ":"


class CallbackFormat:
    """A fixed prefix, then named fields, each with the regex its values must match.

    ``CallbackFormat("don:a", frequency="once|monthly", amount="[0-9]{1,9}")`` builds
    ``don:a:once:500`` with ``.data(frequency="once", amount=500)``; its ``.pattern`` (for
    ``CallbackQueryHandler``) matches that data and names the groups ``frequency`` and ``amount``.
    """

    def __init__(self, prefix: str, **fields: str) -> None:
        self.prefix = prefix
        # Each field's name and the regex its values must match, in the order they are written.
        self.fields = dict(fields)
        groups = "".join(f"{SEPARATOR}(?P<{name}>{regex})" for name, regex in fields.items())
        # \Z, not $: a trailing newline in forged data must not match.
        self.pattern = re.compile(f"^{re.escape(prefix)}{groups}\\Z")

    def data(self, **values: object) -> str:
        """The callback data for these values; refuses what its own pattern would not match."""
        if set(values) != set(self.fields):
            raise TypeError(f"{self.prefix} takes {tuple(self.fields)}, got {tuple(values)}")
        shown = {name: str(values[name]) for name in self.fields}
        data = SEPARATOR.join([self.prefix, *shown.values()])
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.prefix}")
        match = self.pattern.match(data)
        if match is None or match.groupdict() != shown:
            raise ValueError(f"values do not fit the format {self.prefix}: {shown}")
        return data

    def __repr__(self) -> str:
        return f"CallbackFormat({self.pattern.pattern!r})"
