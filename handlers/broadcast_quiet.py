"""Quiet hours on the broadcast preview: who is in them when it goes out, and the Urgent toggle.

Drawn by the composer's preview (handlers/broadcast_compose), whose toggle handler redraws it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import InlineKeyboardButton

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.drafts import TOKEN_PATTERN, Draft
from bot.broadcasts.quiet import quiet_now
from bot.context import CampaignContext

# Urgent on or off for the draft with this token (handlers/broadcast_compose).
URGENT = CallbackFormat("bc:urg", draft=TOKEN_PATTERN)


async def quiet_line(context: CampaignContext, locale: str, draft: Draft, audience: int) -> str:
    """How many will be in quiet hours when the broadcast goes out, and from when they get it;
    '' when nobody. Only the subscribers with a window of their own are read one by one."""
    if draft.urgent:
        return context.text(locale, "quiet-preview-urgent")
    zone = context.settings.campaign.timezone
    at = draft.send_at / 1000 if draft.send_at else context.services.clock.now()
    moment = datetime.fromtimestamp(at, zone)
    custom = await context.preferences.custom_quiet()
    members = list(custom)
    subscribed = await asyncio.gather(*(context.subscribers.is_subscribed(m) for m in members))
    windows = [custom[m] for m, follows in zip(members, subscribed, strict=True) if follows]
    found = quiet_now(moment, context.preferences.default_quiet, audience, windows)
    if not found.count or found.ends is None:
        return ""
    key = "quiet-preview-then" if draft.send_at else "quiet-preview-now"
    return context.text(locale, key, count=found.count, when=f"{found.ends:%H:%M}")


def urgent_button(context: CampaignContext, locale: str, draft: Draft) -> InlineKeyboardButton:
    """The toggle: names what a tap makes of the draft."""
    label = "quiet-button-normal" if draft.urgent else "quiet-button-urgent"
    return InlineKeyboardButton(
        context.text(locale, label), callback_data=URGENT.data(draft=draft.token)
    )
