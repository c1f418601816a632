"""The landing pages Stripe sends donors back to, and the one page shell all HTML pages use."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from aiohttp import web

from bot.i18n import locale_from_accept_language, resolve_locale
from bot.web.app_keys import BOT_USERNAME, LOCALIZER

# Colours keep at least 4.5:1 for text and 3:1 for the bar against its track (WCAG AA).
_SHELL = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f1ec; color: #1d1d1d;
        line-height: 1.5; }}
main {{ max-width: 32rem; margin: 4rem auto; padding: 2rem; background: #fff;
        border-radius: 12px; }}
h1 {{ font-size: 1.5rem; line-height: 1.25; margin-top: 0; overflow-wrap: break-word; }}
a.button {{ display: inline-block; margin-top: 1rem; padding: .75rem 1.25rem;
            background: #1f4e8c; color: #fff; border-radius: 8px; text-decoration: none; }}
a.button:focus {{ outline: 3px solid #f5b400; outline-offset: 2px; }}
.amounts {{ font-size: 1.25rem; font-weight: 600; margin: 0 0 .75rem; }}
progress {{ display: block; width: 100%; height: 1.25rem; appearance: none;
            border: 1px solid #5c5c5c; border-radius: 999px; background: #e8e2d8;
            overflow: hidden; }}
progress::-webkit-progress-bar {{ background: #e8e2d8; }}
progress::-webkit-progress-value {{ background: #1f4e8c; }}
progress::-moz-progress-bar {{ background: #1f4e8c; }}
.details {{ margin: .5rem 0 0; color: #3d3d3d; }}
/* Embedded in a narrow iframe or a phone: the card fills the width instead of floating. */
@media (max-width: 30rem) {{
  body {{ background: #fff; }}
  main {{ margin: 0; padding: 1.25rem; border-radius: 0; }}
}}
</style>
</head>
<body>
<main>
{content}
</main>
</body>
</html>
"""


def page_locale(request: web.Request) -> str:
    """?lang= (set by the bot in Stripe's return URLs), else the browser's preferred one."""
    requested = request.query.get("lang")
    if requested:
        return resolve_locale(requested)
    return locale_from_accept_language(request.headers.get("Accept-Language"))


def render_shell(locale: str, title: str, content: str) -> str:
    """The whole document: `title` is plain text (escaped here), `content` already-escaped HTML."""
    return _SHELL.format(lang=escape(locale, quote=True), title=escape(title), content=content)


def html_response(
    locale: str, title: str, content: str, *, headers: Mapping[str, str], status: int = 200
) -> web.Response:
    """A page in the shell, declaring its language so caches and readers know it."""
    return web.Response(
        text=render_shell(locale, title, content), status=status, content_type="text/html",
        charset="utf-8", headers={**headers, "Content-Language": locale},
    )


def bot_link(request: web.Request) -> str:
    """The bot's t.me address, escaped for an href attribute."""
    return escape(f"https://t.me/{request.app[BOT_USERNAME]()}", quote=True)


def render_page(request: web.Request, kind: str) -> web.Response:
    """The success or cancel page in the donor's language."""
    l10n = request.app[LOCALIZER]
    locale = page_locale(request)
    title = l10n.format(locale, f"page-{kind}-title")
    content = (
        f"<h1>{escape(title)}</h1>\n"
        f"<p>{escape(l10n.format(locale, f'page-{kind}-body'))}</p>\n"
        f'<a class="button" href="{bot_link(request)}">'
        f"{escape(l10n.format(locale, 'page-back-to-bot'))}</a>"
    )
    return html_response(locale, title, content, headers={"Cache-Control": "no-store"})


async def donate_success(request: web.Request) -> web.Response:
    """Where Stripe sends a donor after paying."""
    return render_page(request, "success")


async def donate_cancel(request: web.Request) -> web.Response:
    """Where Stripe sends a donor who left the payment page."""
    return render_page(request, "cancel")


async def card_updated(request: web.Request) -> web.Response:
    """Where Stripe's card page sends a monthly donor back."""
    return render_page(request, "card")
