"""Callback data the main menu's buttons carry; each feature owns the handling of its own."""

from __future__ import annotations

DONATE = "donate"
STORY = "story"
FOLLOW = "follow"
LANGUAGE = "language"
# "language:<locale>" sets the language.
LANGUAGE_SET_PREFIX = "language:"
