"""/spent for organizers: amount, English text, French text, optional photo, the need it
served (only when the campaign file lists needs), exact preview, confirm. `/spent edit <n>` (or
Correct under an entry in /spending) corrects an entry's amount, texts and need the same way;
`/spent remove <n>` (or Remove) takes one out (handlers/spent_confirm).

Every command and button is registered for ADMIN_IDS only (handlers/access): anyone else gets
exactly the answer an unknown command gets.
"""

from __future__ import annotations

import html

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.donations.needs import NEED_ID, find_need
from bot.donations.public_text import visible_text
from bot.donations.spending import SpendingEntry
from bot.donations.spending_drafts import SpendingDraft
from bot.i18n import SUPPORTED_LOCALES, money
from bot.money import AmountProblem, AmountRefused, parse_amount
from handlers import spending, spent_confirm
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.need_choice import GENERAL, tapped_need
from handlers.spent_confirm import CONFIRM, DISCARD, ask_removal, existing_entry

AWAITING = "spent:"
TEXT_STEPS = ("en", "fr")
# Ten times the goal is no purchase but a slip of the keyboard (a zero too many).
ABSURD_GOAL_MULTIPLE = 10
# Short enough that an entry's page fits a photo's caption with room to spare.
TEXT_MAX = 200
KEEP = CallbackFormat("spt:keep", step="amount|en|fr|need")
NO_PHOTO = CallbackFormat("spt:nophoto")
NEED = CallbackFormat("spt:need", need=f"\\*|{NEED_ID}")


async def start_spent(update: Update, context: CampaignContext) -> None:
    """/spent: a new entry; `/spent edit <n>` corrects one, `/spent remove <n>` removes one."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    locale = await context.locale_for(update)
    args = context.args or []
    if not args:
        await context.spending_drafts.start(user.id)
        await _ask(context, user.id, locale, "amount")
        return
    if len(args) == 2 and args[0] in ("edit", "remove") and args[1].isdigit():
        entry_id = int(args[1])
        if args[0] == "edit":
            await start_correction(context, user.id, locale, entry_id)
        else:
            await ask_removal(context, user.id, locale, entry_id)
        return
    await message.reply_text(context.text(locale, "spent-usage"))


async def start_correction(
    context: CampaignContext, admin_id: int, locale: str, entry_id: int
) -> None:
    """A draft holding the entry as it is, for its amount and texts to be corrected."""
    entry = await existing_entry(context, admin_id, locale, entry_id)
    if entry is None:
        return
    await context.spending_drafts.start(
        admin_id, entry=entry_id, amount=entry.amount, photo=entry.photo or "",
        need=entry.need or "",
        **{f"text:{language}": text for language, text in entry.texts.items()},
    )
    await _ask(context, admin_id, locale, "amount")


async def correct_tapped(update: Update, context: CampaignContext) -> None:
    """Correct under an entry in /spending."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await start_correction(
        context, query.from_user.id, await context.locale_for(update),
        int(context.matched("entry")),
    )


async def _ask(context: CampaignContext, admin_id: int, locale: str, step: str) -> None:
    """Ask for one step, with Keep when correcting, No photo for the photo, the needs for the
    need, and Cancel."""
    draft = await context.spending_drafts.get(admin_id)
    if draft is None:
        return
    await context.users.expect_input(admin_id, f"{AWAITING}{step}")
    currency = context.settings.campaign.currency
    correcting = draft.entry_id is not None
    if step == "amount" and correcting and draft.amount is not None:
        text = context.text(
            locale, "spent-ask-amount-correct", entry=draft.entry_id,
            amount=money(draft.amount, currency),
        )
    elif step in TEXT_STEPS and correcting and step in draft.texts:
        question = context.text(locale, f"spent-ask-{step}", max=TEXT_MAX)
        current = context.text(
            locale, "spent-ask-text-correct", text=html.escape(draft.texts[step])
        )
        text = f"{question}\n{current}"
    elif step == "need" and correcting:
        text = context.text(locale, "spent-ask-need-correct", need=_need_name(
            context, locale, draft.need
        ))
    else:
        text = context.text(locale, f"spent-ask-{step}", max=TEXT_MAX)
    rows = _need_rows(context, locale) if step == "need" else []
    if correcting and step != "photo":
        rows.append([InlineKeyboardButton(
            context.text(locale, "spent-button-keep"), callback_data=KEEP.data(step=step)
        )])
    if step == "photo":
        rows.append([InlineKeyboardButton(
            context.text(locale, "spent-button-no-photo"), callback_data=NO_PHOTO.data()
        )])
    rows.append([InlineKeyboardButton(
        context.text(locale, "common-button-cancel"), callback_data=DISCARD.data(draft=draft.token)
    )])
    await context.bot.send_message(admin_id, text, reply_markup=InlineKeyboardMarkup(rows))


def _need_name(context: CampaignContext, locale: str, need_id: str | None) -> str:
    """The need's name (escaped), or "none in particular"."""
    need = find_need(context.settings.campaign.needs, need_id)
    if need is None:
        return context.text(locale, "spent-no-need")
    return html.escape(need.text(locale))


def _need_rows(context: CampaignContext, locale: str) -> list[list[InlineKeyboardButton]]:
    """One button per need of the campaign file, then None / general."""
    choices = [(need.text(locale), need.need_id) for need in context.settings.campaign.needs]
    choices.append((context.text(locale, "spent-button-no-need"), GENERAL))
    return [
        [InlineKeyboardButton(label, callback_data=NEED.data(need=need_id))]
        for label, need_id in choices
    ]


async def draft_input(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """What a step asked for: the amount, a language's text, or the photo; the need is a tap."""
    user = message.from_user
    if user is None or user.id not in context.settings.admin_ids:
        return
    draft = await context.spending_drafts.get(user.id)
    if draft is None:
        await context.users.clear_expected_input(user.id)
        await message.reply_text(context.text(locale, "common-button-expired"))
        return
    step = expected.removeprefix(AWAITING)
    if step == "photo":
        if not message.photo:
            await message.reply_text(context.text(locale, "spent-not-a-photo-text"))
            return
        await context.spending_drafts.update(user.id, photo=message.photo[-1].file_id)
    elif step == "need":
        await message.reply_text(context.text(locale, "spent-need-use-buttons"))
        return
    elif step == "amount":
        amount, refusal = _typed_amount(context, locale, message.text or "")
        if refusal:
            await message.reply_text(refusal)
            return
        await context.spending_drafts.update(user.id, amount=amount)
    elif step in TEXT_STEPS:
        text, refusal = _typed_text(context, locale, message.text)
        if refusal:
            await message.reply_text(refusal)
            return
        await context.spending_drafts.update(user.id, **{f"text:{step}": text})
    else:
        await context.users.clear_expected_input(user.id)
        return
    await _after(context, user.id, locale, step, draft)


async def keep_tapped(update: Update, context: CampaignContext) -> None:
    """Keep: the corrected entry's amount, text or need stays as it is."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    step = context.matched("step")
    state = await context.state_of(query.from_user)
    draft = await context.spending_drafts.get(query.from_user.id)
    # Only the step being asked: an older prompt's Keep must not skip the one asked now.
    if draft is None or draft.entry_id is None or state.awaiting != f"{AWAITING}{step}":
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    await query.answer()
    await _after(context, query.from_user.id, locale, step, draft)


async def _tapped_at(
    update: Update, context: CampaignContext, step: str
) -> tuple[CallbackQuery, str, SpendingDraft] | None:
    """The tap, its locale and the tapper's draft if it is at this step; else None, the button
    answered as expired."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    state = await context.state_of(query.from_user)
    draft = await context.spending_drafts.get(query.from_user.id)
    if draft is None or state.awaiting != f"{AWAITING}{step}":
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return None
    return query, locale, draft


async def no_photo(update: Update, context: CampaignContext) -> None:
    """No photo: on to the need, or straight to the preview."""
    tapped = await _tapped_at(update, context, "photo")
    if tapped is None:
        return
    query, locale, draft = tapped
    await query.answer()
    await _after(context, query.from_user.id, locale, "photo", draft)


async def need_tapped(update: Update, context: CampaignContext) -> None:
    """A need (or None / general) for the entry; an id the campaign file does not list (forged,
    or a need since taken off) changes nothing."""
    tapped = await _tapped_at(update, context, "need")
    if tapped is None:
        return
    query, locale, draft = tapped
    listed, need = tapped_need(context)
    if not listed:
        await query.answer(context.text(locale, "spent-need-unknown"), show_alert=True)
        return
    await query.answer()
    await context.spending_drafts.update(query.from_user.id, need=need.need_id if need else "")
    await _after(context, query.from_user.id, locale, "need", draft)


async def not_a_photo(update: Update, context: CampaignContext) -> None:
    """A file, sticker or video while /spent waits: say a photo is wanted, change nothing."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.id not in context.settings.admin_ids:
        return
    state = await context.state_of(user)
    if state.awaiting is None or not state.awaiting.startswith(AWAITING):
        return
    step = state.awaiting.removeprefix(AWAITING)
    key = {"photo": "spent-not-a-photo", "need": "spent-need-use-buttons"}.get(
        step, "spent-need-text"
    )
    await message.reply_text(context.text(state.locale, key))
    raise ApplicationHandlerStop


async def cancel_spent(update: Update, context: CampaignContext) -> None:
    """/cancel while /spent asks for something: drop the draft; any other /cancel goes on to
    the broadcast flow's."""
    user = update.effective_user
    if user is None or user.id not in context.settings.admin_ids:
        return
    state = await context.state_of(user)
    if state.awaiting is None or not state.awaiting.startswith(AWAITING):
        return
    await context.spending_drafts.drop(user.id)
    await context.users.clear_expected_input(user.id)
    await context.reply(update, "spent-discarded")
    raise ApplicationHandlerStop


async def _after(
    context: CampaignContext, admin_id: int, locale: str, step: str, draft: SpendingDraft
) -> None:
    """The next step, or the preview once none is left (a correction keeps its photo; the need
    is asked only when the campaign file lists needs)."""
    steps = ["amount", *TEXT_STEPS]
    if draft.entry_id is None:
        steps.append("photo")
    if context.settings.campaign.needs:
        steps.append("need")
    following = steps[steps.index(step) + 1:]
    if following:
        await _ask(context, admin_id, locale, following[0])
        return
    await context.users.clear_expected_input(admin_id)
    await send_preview(context, admin_id, locale)


def _typed_amount(context: CampaignContext, locale: str, typed: str) -> tuple[int, str | None]:
    """The amount in minor units, or why it is refused."""
    currency = context.settings.campaign.currency
    maximum = context.settings.campaign.goal * ABSURD_GOAL_MULTIPLE
    try:
        # Nothing is charged: a spend of one cent is a spend (Stripe's minimum is for charges).
        return parse_amount(typed, minimum=1, maximum=maximum, charged=False), None
    except AmountRefused as refused:
        if refused.problem is AmountProblem.NOT_POSITIVE:
            return 0, context.text(locale, "spent-amount-not-positive")
        if refused.problem is AmountProblem.TOO_LARGE:
            return 0, context.text(locale, "spent-amount-too-large", max=money(maximum, currency))
        return 0, context.text(locale, "spent-amount-not-a-number")


def _typed_text(
    context: CampaignContext, locale: str, typed: str | None
) -> tuple[str, str | None]:
    """The text as stored (plain, escaped wherever it is shown), or why it is refused."""
    if typed is None:
        return "", context.text(locale, "spent-need-text")
    text = visible_text(typed)
    if not text:
        return "", context.text(locale, "spent-text-invisible")
    if len(text) > TEXT_MAX:
        return "", context.text(locale, "spent-text-too-long", length=len(text), max=TEXT_MAX)
    return text, None


async def send_preview(context: CampaignContext, admin_id: int, locale: str) -> None:
    """The entry in each language exactly as /spending will show it, then the totals it moves
    (flagged when it spends more than is left) and Confirm / Cancel."""
    draft = await context.spending_drafts.get(admin_id)
    if draft is None or draft.amount is None or set(draft.texts) < set(SUPPORTED_LOCALES):
        return
    totals, summary = await context.ledger.totals(), await context.spending.summary()
    correcting = draft.entry_id is not None
    # A correction replaces the entry as it stands now, whatever it was when begun.
    current = None if draft.entry_id is None else await context.spending.entry(draft.entry_id)
    others = summary.spent - (current.amount if current else 0)
    count = summary.count if correcting else summary.count + 1
    entry = SpendingEntry(
        draft.entry_id or 0, draft.amount, draft.texts, draft.photo, draft.need,
        current.recorded if current else int(context.services.clock.now() * 1000),
    )
    await context.bot.send_message(admin_id, context.text(locale, "spent-preview-header"))
    for language in SUPPORTED_LOCALES:
        page = spending.entry_page(context, language, entry, 1, count)
        await spending.send_entry(context, admin_id, page, draft.photo)
    currency = context.settings.campaign.currency
    lines = [context.text(
        locale, "spent-preview-summary", amount=money(draft.amount, currency),
        raised=money(totals.raised, currency), spent=money(others, currency),
    )]
    left = totals.raised - others
    if draft.amount > left:
        lines.append(context.text(
            locale, "spent-preview-over", left=money(max(0, left), currency),
            over=money(draft.amount - left, currency),
        ))
    confirm = "spent-button-confirm-correction" if correcting else "spent-button-confirm"
    await context.bot.send_message(admin_id, "\n".join(lines), reply_markup=InlineKeyboardMarkup([
        [InlineKeyboardButton(
            context.text(locale, confirm), callback_data=CONFIRM.data(draft=draft.token)
        )],
        [InlineKeyboardButton(
            context.text(locale, "common-button-cancel"),
            callback_data=DISCARD.data(draft=draft.token),
        )],
    ]))


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    application.add_handler(CommandHandler("spent", start_spent, filters=admins))
    for callback, button in (
        (keep_tapped, KEEP), (no_photo, NO_PHOTO), (need_tapped, NEED),
        (correct_tapped, spending.CORRECT),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))
    spent_confirm.register(application, settings)
