"""Who may use what, declared on each handler at registration instead of checked inside it.

A refused update matches no feature and falls through to handlers/fallback.py, so anyone else
gets exactly the answer an unknown command or button gets and the feature stays invisible.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, filters

from bot.config import Settings
from bot.context import CampaignContext


def organizers(settings: Settings) -> filters.User:
    """Organizers from ADMIN_IDS writing as themselves: an anonymous group admin is not one."""
    return filters.User(user_id=settings.admin_ids)


def stats_readers(settings: Settings) -> filters.BaseFilter:
    """Organizers, and the beneficiaries in their own chats or groups."""
    return organizers(settings) | filters.Chat(chat_id=settings.beneficiary_chat_ids)


class UserCallbackQueryHandler(CallbackQueryHandler[CampaignContext, None]):
    """A CallbackQueryHandler that only sees taps by the users a filters.User lets through.

    PTB's filters read messages, and a button's message is the bot's own, so this checks the
    tapping user (update.effective_user) instead.
    """

    def __init__(
        self,
        callback: Callable[[Update, CampaignContext], Coroutine[Any, Any, None]],
        pattern: re.Pattern[str],
        users: filters.User,
    ) -> None:
        super().__init__(callback, pattern=pattern)
        self._user_ids = users.user_ids

    def check_update(self, update: object) -> bool | object | None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None or user.id not in self._user_ids:
            return None
        return super().check_update(update)
