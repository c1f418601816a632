"""GET /donate/success and /donate/cancel: small accessible pages in the donor's language."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiohttp import web

from bot.i18n import Localizer, resolve_locale

BOT_USERNAME: web.AppKey[Callable[[], str]] = web.AppKey("bot_username")
LOCALIZER = web.AppKey("localizer", Localizer)

_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f1ec; color: #1d1d1d; }}
main {{ max-width: 32rem; margin: 4rem auto; padding: 2rem; background: #fff;
        border-radius: 12px; }}
h1 {{ font-size: 1.5rem; }}
a.button {{ display: inline-block; margin-top: 1rem; padding: .75rem 1.25rem;
            background: #1f4e8c; color: #fff; border-radius: 8px; text-decoration: none; }}
a.button:focus {{ outline: 3px solid #f5b400; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{body}</p>
<a class="button" href="{bot_url}">{back}</a>
</main>
</body>
</html>
"""


def page_locale(request: web.Request) -> str:
    """?lang= (set by the bot in Stripe's return URLs), else the browser's first language."""
    requested = request.query.get("lang")
    if requested:
        return resolve_locale(requested)
    accepted = request.headers.get("Accept-Language", "")
    return resolve_locale(accepted.split(",", 1)[0].split(";", 1)[0].strip() or None)


def render_page(request: web.Request, kind: str) -> web.Response:
    l10n = request.app[LOCALIZER]
    locale = page_locale(request)
    username = request.app[BOT_USERNAME]()
    body = _PAGE.format(
        lang=html.escape(locale),
        title=html.escape(l10n.format(locale, f"page-{kind}-title")),
        body=html.escape(l10n.format(locale, f"page-{kind}-body")),
        bot_url=html.escape(f"https://t.me/{username}", quote=True),
        back=html.escape(l10n.format(locale, "page-back-to-bot")),
    )
    return web.Response(
        text=body, content_type="text/html", charset="utf-8",
        headers={"Cache-Control": "no-store", "Content-Language": locale},
    )


async def donate_success(request: web.Request) -> web.Response:
    """Where Stripe sends a donor after paying."""
    return render_page(request, "success")


async def donate_cancel(request: web.Request) -> web.Response:
    """Where Stripe sends a donor who left the payment page."""
    return render_page(request, "cancel")
