"""The main menu's buttons: built by several features (welcome, story, progress, thank-you)
and each handled by the one that owns it, so their formats sit here rather than in any one."""

from __future__ import annotations

from bot.botapi.callback_data import CallbackFormat

DONATE = CallbackFormat("donate")
STORY = CallbackFormat("story")
FOLLOW = CallbackFormat("follow")
LANGUAGE = CallbackFormat("language")
