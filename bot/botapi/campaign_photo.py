"""Sending the campaign photo: uploaded once, then re-sent by Telegram's file_id."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from pathlib import Path

from telegram import InlineKeyboardMarkup, Message
from telegram.ext import ExtBot

from bot.storage import keys
from bot.storage.users import UserStore


@functools.cache
def photo_fingerprint(path: Path) -> str:
    """Content hash, so replacing the photo file uploads the new one."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def photo_key(path: Path) -> str:
    """Where the file_id of this photo's upload is kept (read with each update's state)."""
    return keys.photo_file_id(photo_fingerprint(path))


async def send_campaign_photo(
    bot: ExtBot[None],
    users: UserStore,
    chat_id: int,
    photo: Path,
    file_id: str | None,
    caption: str,
    reply_markup: InlineKeyboardMarkup,
) -> Message:
    """Send the photo with a caption by `file_id`, the one stored, or upload it and store it."""
    if file_id is not None:
        return await bot.send_photo(chat_id, file_id, caption=caption, reply_markup=reply_markup)
    content = await asyncio.to_thread(photo.read_bytes)
    message = await bot.send_photo(
        chat_id, content, caption=caption, reply_markup=reply_markup, filename=photo.name
    )
    if message.photo:
        await users.set_photo_file_id(photo_fingerprint(photo), message.photo[-1].file_id)
    return message
