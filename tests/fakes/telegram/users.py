"""A Telegram user writing to the bot: messages, photos, documents, button taps, blocking."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram.calls import ApiCall, buttons_of
from tests.fakes.telegram.entities import u16
from tests.fakes.telegram.state import FAKE_JPEG, now

if TYPE_CHECKING:
    from tests.fakes.telegram.server import FakeBotAPI

JSON = dict[str, Any]


class FakeUser:
    """A Telegram user writing to the bot through the fake server."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        *,
        language_code: str | None,
        first_name: str,
        username: str | None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.language_code = language_code
        self.first_name = first_name
        self.username = username

    @property
    def as_user(self) -> JSON:
        """The User object Telegram puts in `from`."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            user["username"] = self.username
        if self.language_code is not None:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> JSON:
        """This user's private chat with the bot."""
        return self.api.chat(self.id)

    def _push_message(self, content: JSON, chat_id: int | None) -> int:
        """Store a message from this user and queue it as an update."""
        target = self.id if chat_id is None else chat_id
        message: JSON = {
            "message_id": self.api.next_message_id(target),
            "from": self.as_user,
            "chat": self.api.chat(target),
            "date": now(),
            **content,
        }
        self.api.store(message)
        return self.api.push_update({"message": message})

    def send(self, text: str, *, chat_id: int | None = None) -> int:
        """Send a text message (private chat unless chat_id names a group)."""
        content: JSON = {"text": text}
        command = re.match(r"/\S+", text)
        if command is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": u16(command.group(0))}
            ]
        return self._push_message(content, chat_id)

    def send_photo(
        self, caption: str | None = None, *, content: bytes = FAKE_JPEG, chat_id: int | None = None
    ) -> int:
        """Send a photo whose file id the bot can send on."""
        message: JSON = {"photo": self.api.photo_sizes(content)}
        if caption is not None:
            message["caption"] = caption
        return self._push_message(message, chat_id)

    def send_document(
        self,
        content: bytes,
        *,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """Send a document whose file id the bot can send on."""
        message: JSON = {"document": self.api.document(content, file_name, mime_type)}
        if caption is not None:
            message["caption"] = caption
        return self._push_message(message, chat_id)

    def tap(self, message: ApiCall, label_substring: str) -> int:
        """Press the inline button containing the label on the message as it is now."""
        message_id = message.message_id if isinstance(message.result, dict) else None
        chat_id = message.chat_id
        if message_id is None or chat_id is None:
            raise AssertionError(f"{message.describe()} produced no message to tap")
        current = self.api.messages.get((chat_id, message_id))
        if current is None:
            raise AssertionError(f"message of {message.describe()} no longer exists")
        flat = [button for row in buttons_of(current.get("reply_markup")) for button in row]
        matching = [button for button in flat if label_substring in button.text]
        if not matching:
            edited = (
                " (the message was edited since that call)" if current.get("edit_date") else ""
            )
            raise AssertionError(
                f"no button containing {label_substring!r} on message {message_id} "
                f"in chat {chat_id}{edited}; buttons now: {[button.text for button in flat]}"
            )
        if matching[0].callback_data is None:
            raise AssertionError(
                f"button {matching[0].text!r} has no callback_data (url={matching[0].url!r}); "
                "pressing it sends the bot nothing"
            )
        return self._push_callback(copy.deepcopy(current), matching[0].callback_data)

    def tap_data(
        self, message_id: int, data: str | None, *, chat_id: int | None = None
    ) -> int:
        """Send a callback query with any data, or none at all, as a tampered client could."""
        target = self.id if chat_id is None else chat_id
        stored = self.api.messages.get((target, message_id))
        # An unknown message arrives as Telegram's InaccessibleMessage (date 0).
        message = (
            copy.deepcopy(stored)
            if stored is not None
            else {"chat": self.api.chat(target), "message_id": message_id, "date": 0}
        )
        return self._push_callback(message, data)

    def _push_callback(self, message: JSON, data: str | None) -> int:
        """Queue a callback_query update for a message."""
        query = {
            "id": self.api.new_callback_id(),
            "from": self.as_user,
            "chat_instance": f"{message['chat']['id']}0042",
            "message": message,
        }
        if data is not None:
            query["data"] = data
        return self.api.push_update({"callback_query": query})

    def block_bot(self) -> int:
        """Block the bot; later sends to this chat get 403 like in Telegram."""
        self.api.blocked.add(self.id)
        return self._push_member_change("member", "kicked")

    def unblock_bot(self) -> int:
        """Unblock the bot (Telegram's Restart button, before its /start)."""
        self.api.blocked.discard(self.id)
        return self._push_member_change("kicked", "member")

    def _push_member_change(self, old: str, new: str) -> int:
        """Queue a my_chat_member update for the bot's membership in this private chat."""

        def member(status: str) -> JSON:
            entry: JSON = {"status": status, "user": self.api.bot_user}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        update = {
            "chat": self.chat,
            "from": self.as_user,
            "date": now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self.api.push_update({"my_chat_member": update})
