"""Sending the campaign photo: uploaded once, then re-sent by Telegram's file_id."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from pathlib import Path

from telegram import InlineKeyboardMarkup, Message
from telegram.ext import ExtBot

from bot.storage.users import UserStore


@functools.cache
def photo_fingerprint(path: Path) -> str:
    """Content hash, so replacing the photo file uploads the new one."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


async def send_campaign_photo(
    bot: ExtBot[None],
    users: UserStore,
    chat_id: int,
    photo: Path,
    caption: str,
    reply_markup: InlineKeyboardMarkup,
) -> Message:
    """Send the photo with a caption, reusing the stored file_id when there is one."""
    fingerprint = photo_fingerprint(photo)
    file_id = await users.photo_file_id(fingerprint)
    if file_id is not None:
        return await bot.send_photo(chat_id, file_id, caption=caption, reply_markup=reply_markup)
    content = await asyncio.to_thread(photo.read_bytes)
    message = await bot.send_photo(
        chat_id, content, caption=caption, reply_markup=reply_markup, filename=photo.name
    )
    if message.photo:
        await users.set_photo_file_id(fingerprint, message.photo[-1].file_id)
    return message
