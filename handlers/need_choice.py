"""The need a gift is for, chosen on the amount step: its button formats and the menu's row.

Apart from handlers/needs so that /donate can draw the row without importing the handlers that
redraw /donate.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, User

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignContext
from bot.donations.needs import NEED_ID, Need, NeedsBoard, find_need
from bot.donations.stripe_client import Frequency

FREQUENCY = "|".join(option.value for option in Frequency)
# "*" stands for "where it helps most": no need id can be it.
GENERAL = "*"
OPEN_PICKER = CallbackFormat("nd:p", frequency=FREQUENCY)
CHOOSE = CallbackFormat("nd:c", frequency=FREQUENCY, need=f"\\*|{NEED_ID}")


def tapped_need(context: CampaignContext) -> tuple[bool, Need | None]:
    """Whether a button's `need` is one to accept (a need the campaign file lists, or where it
    helps most), and that need (None for where it helps most)."""
    need_id = context.matched("need")
    need = find_need(context.settings.campaign.needs, need_id)
    return need_id == GENERAL or need is not None, need


async def chosen_need(
    context: CampaignContext, user: User, board: NeedsBoard | None = None
) -> Need | None:
    """The need the supporter's next gift is for; None for where it helps most, also when the
    campaign file no longer lists the one they chose, or when it is filled (its gifts would go
    to the general pool anyway: ledger_scripts.py RECORD). `board`: already read, if it was."""
    needs = context.settings.campaign.needs
    if not needs:
        return None
    # Read with the update's other records (bot/storage/update_state): no round trip of its own.
    need = find_need(needs, (await context.state_of(user)).need)
    if need is None:
        return None
    if board is None:
        board = await context.needs.board()
    return None if filled_on(board, need) else need


def filled_on(board: NeedsBoard, need: Need) -> bool:
    """Whether the board shows this need filled."""
    return any(progress.filled for progress in board.needs if progress.need == need)


async def is_filled(context: CampaignContext, need: Need) -> bool:
    """Whether the board, read now, shows this need filled."""
    return filled_on(await context.needs.board(), need)


async def need_row(
    context: CampaignContext, locale: str, user: User, frequency: Frequency
) -> list[InlineKeyboardButton]:
    """The "For: ... ▾" button under the amounts; nothing when the campaign lists no needs."""
    if not context.settings.campaign.needs:
        return []
    need = await chosen_need(context, user)
    target = need.text(locale) if need else context.text(locale, "needs-general")
    return [InlineKeyboardButton(
        context.text(locale, "needs-button-for", need=target),
        callback_data=OPEN_PICKER.data(frequency=frequency.value),
    )]
