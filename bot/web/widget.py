"""GET /widget: the campaign's progress as a small public page organizers can link or embed."""

from __future__ import annotations

import logging
import time
from html import escape

from aiohttp import web

from bot.campaign import Campaign, percent_of_goal
from bot.donations.spending import SpendingSummary
from bot.i18n import Localizer, money
from bot.reports.spending import spending_line
from bot.storage.connection import StorageUnavailable
from bot.web.app_keys import CAMPAIGN, LEDGER, LOCALIZER, SPENDING
from bot.web.landing_pages import bot_link, html_response, page_locale

log = logging.getLogger(__name__)

# Any site may frame the widget; nothing else loads, so injected markup could not run or phone out.
WIDGET_HEADERS = {
    "Cache-Control": "public, max-age=30",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors *"
    ),
    # The language comes from Accept-Language when ?lang= is absent: caches must key on it.
    "Vary": "Accept-Language",
}


async def widget(request: web.Request) -> web.Response:
    """Title, progress bar, raised, goal and donors in the reader's language; no JavaScript."""
    l10n = request.app[LOCALIZER]
    locale = page_locale(request)
    title = l10n.format(locale, "widget-title")
    try:
        totals = await request.app[LEDGER].totals()
        spent = await request.app[SPENDING].summary()
    except StorageUnavailable:
        log.warning("widget: redis did not answer")
        content = (
            f"<h1>{escape(title)}</h1>\n"
            f"<p>{escape(l10n.format(locale, 'widget-unavailable'))}</p>"
        )
        return html_response(
            locale, title, content, status=503,
            headers={**WIDGET_HEADERS, "Cache-Control": "no-store", "Retry-After": "30"},
        )
    campaign = request.app[CAMPAIGN]
    raised = max(0, totals.raised)
    percent = percent_of_goal(raised, campaign.goal)
    amounts = l10n.format(
        locale, "widget-raised",
        raised=money(raised, campaign.currency), goal=money(campaign.goal, campaign.currency),
    )
    percent_text = l10n.format(locale, "widget-percent", percent=percent)
    donors_text = l10n.format(locale, "widget-donors", donors=totals.donors)
    # <progress> carries role=progressbar and its value, min and max for assistive technology.
    content = (
        f"<h1>{escape(title)}</h1>\n"
        f'<p class="amounts">{escape(amounts)}</p>\n'
        f'<progress max="{campaign.goal}" value="{min(raised, campaign.goal)}" '
        f'aria-label="{escape(l10n.format(locale, "widget-progress-label"), quote=True)}">'
        f"{escape(percent_text)}</progress>\n"
        f'<p class="details">{escape(percent_text)} · {escape(donors_text)}</p>\n'
        f"{_spending(l10n, locale, totals.raised, spent, campaign.currency)}"
    )
    if campaign.end.over(time.time(), campaign.timezone, totals.closed):
        content += _over(l10n, campaign, locale)
    else:
        content += (
            # A new tab: inside an iframe, t.me would otherwise open within the host's page.
            f'<a class="button" href="{bot_link(request)}" target="_blank" rel="noopener">'
            f"{escape(l10n.format(locale, 'widget-give'))}</a>"
        )
    return html_response(locale, title, content, headers=WIDGET_HEADERS)


def _spending(
    l10n: Localizer, locale: str, raised: int, spent: SpendingSummary, currency: str
) -> str:
    """Spent and still to spend, once anything was spent."""
    if not spent.count:
        return ""
    line = spending_line(l10n, locale, raised, spent, currency)
    return f'<p class="details spending">{escape(line)}</p>\n'


def _over(l10n: Localizer, campaign: Campaign, locale: str) -> str:
    """In place of the Give button once the campaign is over: saying so, and where to go."""
    section = f'<p class="over">{escape(l10n.format(locale, "closing-widget-over"))}</p>'
    pointer = campaign.end.texts.get(locale)
    if pointer:
        section += f"\n<p>{escape(pointer)}</p>"
    if campaign.end.url:
        section += (
            f'\n<a class="button" href="{escape(campaign.end.url, quote=True)}" '
            f'target="_blank" rel="noopener">'
            f"{escape(l10n.format(locale, 'closing-widget-link'))}</a>"
        )
    return section
