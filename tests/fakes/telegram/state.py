"""What the fake Bot API remembers: chats and their messages, files, callbacks, the profile."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from tests.fakes.telegram.users import FakeUser

JSON = dict[str, Any]

TEST_TOKEN: Final = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_ID: Final = 123456
BOT_USERNAME: Final = "fake_campaign_bot"
BOT_FIRST_NAME: Final = "Campaign Bot"
# Enough of a JPEG for anything that only sniffs the header; tests rarely decode images.
FAKE_JPEG: Final = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + (b"\x00" * 64)
    + b"\xff\xd9"
)


def now() -> int:
    """Unix time as Telegram stamps messages."""
    return int(time.time())


class BotState:
    """Chats, messages, files and settings, shared by the methods and the fake users."""

    def __init__(self, token: str, bot_username: str, bot_first_name: str) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else BOT_ID
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.users: dict[int, FakeUser] = {}
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], JSON] = {}
        self._next_message_id: dict[int, int] = {}
        # Every file id the fake handed out, with the object re-sending it gives back.
        self.media: dict[str, Any] = {}
        self._file_counter = 0
        self.callback_ids: set[str] = set()
        self._callback_counter = 0
        self.pending: list[JSON] = []
        self.pushed: dict[int, JSON] = {}
        self._next_update_id = 1
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.commands_by_language: dict[str | None, list[dict[str, Any]]] = {}
        self.descriptions: dict[str | None, str] = {}
        self.short_descriptions: dict[str | None, str] = {}

    def queue_update(self, update: JSON) -> int:
        """Queue an update for getUpdates and return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        queued = {**copy.deepcopy(update), "update_id": update_id}
        self.pending.append(queued)
        self.pushed[update_id] = queued
        return update_id

    def next_message_id(self, chat_id: int) -> int:
        """Next message id in a chat; users and the bot share one sequence, as in Telegram."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def chat(self, chat_id: int) -> JSON:
        """The Chat object for an id: private for users, (super)group for negative ids."""
        if chat_id > 0:
            user = self.users.get(chat_id)
            chat: JSON = {
                "id": chat_id,
                "type": "private",
                "first_name": user.first_name if user else "User",
            }
            if user is not None and user.username:
                chat["username"] = user.username
            return chat
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Test {kind}"}

    def store(self, message: JSON) -> None:
        """Remember a message so edits and taps can find it."""
        self.messages[(message["chat"]["id"], message["message_id"])] = message

    def new_file(self, kind: str, content: bytes) -> JSON:
        """The file_id, file_unique_id and file_size of freshly stored content."""
        self._file_counter += 1
        number = self._file_counter
        return {
            "file_id": f"fake-{kind}-{number:06d}",
            "file_unique_id": f"uniq{kind}{number:06d}",
            "file_size": len(content),
        }

    def photo_sizes(self, content: bytes) -> list[JSON]:
        """PhotoSize list for a new photo; any of its file ids re-sends the same sizes."""
        sizes = [
            {**self.new_file("photo", content), "width": width, "height": height}
            for width, height in ((90, 68), (800, 600))
        ]
        for size in sizes:
            self.media[size["file_id"]] = sizes
        return sizes

    def document(self, content: bytes, file_name: str | None, mime_type: str) -> JSON:
        """A new Document whose file id can be sent again."""
        document = {**self.new_file("document", content), "mime_type": mime_type}
        if file_name:
            document["file_name"] = file_name
        self.media[document["file_id"]] = document
        return document

    def new_callback_id(self) -> str:
        """A fresh callback query id, remembered for answerCallbackQuery checks."""
        self._callback_counter += 1
        callback_id = str(4_000_000_000_000_000 + self._callback_counter)
        self.callback_ids.add(callback_id)
        return callback_id
