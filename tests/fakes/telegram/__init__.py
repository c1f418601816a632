"""A local Bot API that the real python-telegram-bot talks to: the methods the bot calls, HTML."""

from tests.fakes.telegram.calls import ApiCall, InlineButton
from tests.fakes.telegram.server import FakeBotAPI
from tests.fakes.telegram.state import BOT_FIRST_NAME, BOT_ID, BOT_USERNAME, FAKE_JPEG, TEST_TOKEN
from tests.fakes.telegram.users import FakeUser

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "FAKE_JPEG",
    "TEST_TOKEN",
    "ApiCall",
    "FakeBotAPI",
    "FakeUser",
    "InlineButton",
]
