"""The call log tests read: every request the bot made, decoded, with the answer it got."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from tests.fakes.telegram.wire import canonical

MESSAGE_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
EDIT_METHODS: Final = frozenset({"editMessageText"})


@dataclass(frozen=True)
class InlineButton:
    """One inline keyboard button as the bot sent it."""

    text: str
    callback_data: str | None
    url: str | None


def buttons_of(markup: Any) -> list[list[InlineButton]]:
    """Read the inline keyboard rows out of a reply_markup value."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return []
    return [
        [
            InlineButton(
                text=str(button.get("text", "")),
                callback_data=_opt_str(button.get("callback_data")),
                url=_opt_str(button.get("url")),
            )
            for button in row
            if isinstance(button, dict)
        ]
        for row in rows
        if isinstance(row, list)
    ]


def _opt_str(value: Any) -> str | None:
    """Return the value if it is a string, else None."""
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, decoded, with the answer the fake gave."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    index: int = -1
    result: Any = None
    error: dict[str, Any] | None = None
    filenames: dict[str, str] = field(default_factory=dict)
    # The caller's TCP port, for getUpdates: which process polled (tests map ports to processes).
    client_port: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the fake answered this call with success."""
        return self.error is None

    @property
    def chat_id(self) -> int | None:
        """The numeric chat the call targets, or the chat of the returned message."""
        value = self.params.get("chat_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(self.result, dict) and isinstance(self.result.get("chat"), dict):
            chat_id = self.result["chat"].get("id")
            return chat_id if isinstance(chat_id, int) else None
        return None

    @property
    def text(self) -> str | None:
        """The text or caption exactly as the bot sent it (markup included)."""
        for key in ("text", "caption"):
            value = self.params.get(key)
            if isinstance(value, str):
                return value
        return None

    @property
    def rendered_text(self) -> str | None:
        """The text or caption as the user sees it, i.e. after parse_mode was applied."""
        if isinstance(self.result, dict):
            for key in ("text", "caption"):
                value = self.result.get(key)
                if isinstance(value, str):
                    return value
        return self.text

    @property
    def message_id(self) -> int | None:
        """The id of the message this call produced or edited."""
        if isinstance(self.result, dict) and isinstance(self.result.get("message_id"), int):
            return int(self.result["message_id"])
        value = self.params.get("message_id")
        return value if isinstance(value, int) else None

    @property
    def buttons(self) -> list[list[InlineButton]]:
        """The inline keyboard the bot attached to this call, empty if none."""
        return buttons_of(self.params.get("reply_markup"))

    def button(self, label_substring: str) -> InlineButton:
        """Return the first button whose text contains the substring."""
        flat = [button for row in self.buttons for button in row]
        for button in flat:
            if label_substring in button.text:
                return button
        raise AssertionError(
            f"no button containing {label_substring!r} in {self.method} #{self.index}; "
            f"buttons: {[button.text for button in flat]}"
        )

    def describe(self) -> str:
        """One line naming the call for failure messages."""
        parts = [f"#{self.index} {self.method}"]
        if self.chat_id is not None:
            parts.append(f"chat={self.chat_id}")
        if self.text is not None:
            shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
            parts.append(f"text={shown!r}")
        labels = [button.text for row in self.buttons for button in row]
        if labels:
            parts.append(f"buttons={labels}")
        if self.error is not None:
            parts.append(f"-> {self.error.get('error_code')} {self.error.get('description')}")
        return " ".join(parts)


def is_output(call: ApiCall, chat_id: int, *, edits: bool) -> bool:
    """Whether a call successfully put a message (or, optionally, an edit) in the chat."""
    methods = MESSAGE_METHODS | EDIT_METHODS if edits else MESSAGE_METHODS
    return call.ok and call.method in methods and call.chat_id == chat_id


class CallLog:
    """The calls in arrival order, and waits that wake as soon as a matching one arrives."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._changed = asyncio.Event()
        self._closing = False

    def notify(self) -> None:
        """Wake everything waiting for a new call, an update or shutdown."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def changed(self, timeout: float) -> None:
        """Return after the next notify(), or after `timeout` seconds."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    def mark(self) -> int:
        """Index of the next call, for after= in waits."""
        return len(self.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """All calls of one method, any case."""
        wanted = canonical(method)
        return [call for call in self.calls if call.method == wanted]

    def sent_to(self, chat_id: int) -> list[ApiCall]:
        """Successful message-producing and editing calls for a chat, in order."""
        return [call for call in self.calls if is_output(call, chat_id, edits=True)]

    def summary(self, after: int = 0, limit: int = 20) -> str:
        """Recent calls (long polls left out) for failure messages."""
        recent = [call for call in self.calls[after:] if call.method != "getUpdates"]
        if not recent:
            return f"no Bot API calls since #{after} (total {len(self.calls)})"
        lines = [call.describe() for call in recent[-limit:]]
        skipped = len(recent) - len(lines)
        head = f"calls since #{after}" + (f" ({skipped} older omitted)" if skipped else "")
        return head + ":\n  " + "\n  ".join(lines)

    async def wait_for(
        self, predicate: Callable[[ApiCall], bool], *, after: int = 0, timeout: float = 5.0
    ) -> ApiCall:
        """Return the first call at index >= after matching predicate, waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        scanned = after
        while True:
            while scanned < len(self.calls):
                call = self.calls[scanned]
                scanned += 1
                if predicate(call):
                    return call
            if self._closing:
                raise AssertionError(f"FakeBotAPI stopped while waiting; {self.summary(after)}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching Bot API call within {timeout}s; {self.summary(after)}"
                )
            await self.changed(remaining)

    async def wait_for_message(
        self, chat_id: int, *, after: int = 0, timeout: float = 5.0, edits: bool = False
    ) -> ApiCall:
        """Next successful new-message call to the chat (edits too when edits=True)."""
        return await self.wait_for(
            lambda call: is_output(call, chat_id, edits=edits), after=after, timeout=timeout
        )

    async def wait_for_edit(
        self, chat_id: int, *, after: int = 0, timeout: float = 5.0
    ) -> ApiCall:
        """Next successful editMessageText call in the chat."""
        return await self.wait_for(
            lambda call: call.ok and call.method in EDIT_METHODS and call.chat_id == chat_id,
            after=after,
            timeout=timeout,
        )

    async def assert_no_message(self, chat_id: int, *, after: int, within: float = 0.3) -> None:
        """Fail if the bot sends or edits anything in the chat during the next `within` s."""
        try:
            call = await self.wait_for(
                lambda call: is_output(call, chat_id, edits=True), after=after, timeout=within
            )
        except AssertionError:
            return
        raise AssertionError(f"expected silence in chat {chat_id}, got {call.describe()}")
