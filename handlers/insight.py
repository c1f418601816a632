"""/stats for organizers and beneficiaries, /export and /link for organizers only."""

from __future__ import annotations

from datetime import datetime

from telegram import InputFile, Update
from telegram.ext import CommandHandler

from bot.botapi.text_split import split_message
from bot.broadcasts.preferences import Cadence
from bot.campaign import percent_of_goal
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.donations.sharing import SHARED_CODE_PREFIX, is_shared_code
from bot.i18n import money
from bot.referrals import is_referral_code
from bot.reports.export import export_csv
from bot.reports.spending import spending_line
from bot.reports.stats import collect_stats
from handlers.access import organizers, stats_readers
from handlers.private_document import send_to_organizer
from handlers.receipts import export_receipts


async def stats(update: Update, context: CampaignContext) -> None:
    """The campaign's numbers and the chart."""
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    services = context.services
    numbers = await collect_stats(
        services.ledger, services.monthly, services.subscribers, services.broadcasts
    )
    campaign = context.settings.campaign
    totals = numbers.totals

    def cash(minor: int) -> object:
        return money(minor, campaign.currency)

    lines = [context.text(
        locale, "stats-text", raised=cash(totals.raised), goal=cash(campaign.goal),
        percent=percent_of_goal(totals.raised, campaign.goal), donations=totals.donations,
        donors=totals.donors, average=cash(numbers.average_gift),
        monthly=numbers.monthly_donors, monthlysum=cash(numbers.monthly_sum),
        refunded=cash(totals.refunded), disputed=cash(totals.disputed),
        en=numbers.subscribers.get("en", 0), fr=numbers.subscribers.get("fr", 0),
        blocked=numbers.inactive_subscribers,
    ), context.text(locale, "fees-stats", fee=cash(totals.fees_covered))]
    digests = await context.preferences.subscribed_digest_counts()
    lines.append(context.text(
        locale, "settings-stats", every=sum(numbers.subscribers.values()) - sum(digests.values()),
        daily=digests[Cadence.DAILY], weekly=digests[Cadence.WEEKLY],
    ))
    lines.append(spending_line(
        context.l10n, locale, totals.raised, await context.spending.summary(),
        campaign.currency, message_id="spending-stats",
    ))
    lines += ["", context.text(locale, "stats-broadcasts-title")]
    for item in numbers.broadcasts:
        day = datetime.fromtimestamp(item.started_at / 1000, campaign.timezone).date()
        lines.append(context.text(
            locale, "stats-broadcast-line", id=item.broadcast_id, date=day.isoformat(),
            **item.counts,
        ))
    if not numbers.broadcasts:
        lines.append(context.text(locale, "stats-none"))
    lines += ["", context.text(locale, "stats-referrals-title")]
    referrals = [
        context.text(locale, "stats-referral-line", code=code, amount=cash(amount))
        for code, amount in numbers.referrals
    ]
    # Supporters' own links as one line: each is a person's, and organizers need the sum.
    shared = await context.sharing.campaign_total()
    if shared.count:
        referrals.append(context.text(
            locale, "share-stats-line", count=shared.count, amount=cash(shared.amount)
        ))
    lines += referrals or [context.text(locale, "stats-none")]
    for part in split_message("\n".join(lines)):
        await context.bot.send_message(chat.id, part)
    await services.charts.send(chat.id, locale)


async def export(update: Update, context: CampaignContext) -> None:
    """Every donation as CSV, sent to the organizer's private chat (Stripe ids, public names
    and amounts per gift are not for a group)."""
    chat = update.effective_chat
    if chat is None:
        return
    if context.args == ["receipts"]:
        await export_receipts(update, context)
        return
    locale = await context.locale_for(update)
    zone = context.settings.campaign.timezone
    content, count = await export_csv(context.ledger.donations(), zone)
    day = datetime.fromtimestamp(context.services.clock.now(), zone).strftime("%Y%m%d")
    await send_to_organizer(
        update, context, locale, InputFile(content, filename=f"donations-{day}.csv"),
        context.text(locale, "export-caption", count=count),
    )


async def share_link(update: Update, context: CampaignContext) -> None:
    """/link <code>: the deep link that credits donations to a referral code."""
    code = context.args[0] if context.args and len(context.args) == 1 else ""
    if not is_referral_code(code):
        await context.reply(update, "link-usage")
        return
    if is_shared_code(code):
        await context.reply(update, "share-link-reserved", code=SHARED_CODE_PREFIX)
        return
    url = f"https://t.me/{context.bot.username}?start={code}"
    await context.reply(update, "link-text", code=code, url=url)


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    application.add_handler(CommandHandler("stats", stats, filters=stats_readers(settings)))
    application.add_handler(CommandHandler("export", export, filters=admins))
    application.add_handler(CommandHandler("link", share_link, filters=admins))
