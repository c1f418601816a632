"""The public pages (progress widget, Stripe return pages) in headless chromium and over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.context import Services
from bot.donations.ledger import Donation, Totals
from tests.conftest import Harness
from tests.donation_steps import normalise, pay, pledge

CHROMIUM = Path("/usr/bin/chromium")
# Generous for a cold start on a slow CI machine; a page normally renders in about a second.
BROWSER_TIMEOUT_SECONDS = 30
HOSTILE = '"><script>document.title="pwned"</script><img src=x onerror=alert(1)>'

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)",
)


class Page(HTMLParser):
    """What a reader gets from a document: the text of its body and every element's attributes."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.markup = markup
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self._parts: list[str] = []
        self._hidden = 0
        self._in_body = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "body":
            self._in_body = True
        elif tag in ("style", "script"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._in_body and not self._hidden:
            self._parts.append(data)

    @property
    def text(self) -> str:
        """Body text with whitespace collapsed and French spaces made plain."""
        return " ".join(normalise(" ".join(self._parts)).split())

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]

    def one(self, tag: str) -> dict[str, str | None]:
        found = self.all(tag)
        assert len(found) == 1, f"{len(found)} <{tag}> in {self.markup}"
        return found[0]


async def chromium(
    url: str, *, accept_language: str = "en-US", screenshot: Path | None = None, width: int = 800
) -> str:
    """Run headless chromium once on a URL: its serialised DOM, or a screenshot into a file."""
    with tempfile.TemporaryDirectory(
        prefix="chromium-profile-", ignore_cleanup_errors=True
    ) as profile:
        args = [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}",
            # Set explicitly so the machine's locale never decides which language a test sees.
            f"--accept-lang={accept_language}",
        ]
        if screenshot is None:
            args += ["--dump-dom", url]
        else:
            args += [f"--screenshot={screenshot}", f"--window-size={width},700",
                     "--hide-scrollbars", url]
        # Own session, so a hung browser and all its helper processes are killed together.
        process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(), BROWSER_TIMEOUT_SECONDS
            )
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def services_of(harness: Harness) -> Services:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    return services


async def record_gift(harness: Harness, donation_id: str, amount: int) -> None:
    """A confirmed one-off gift straight into the ledger, for amounts no preset button offers."""
    donation = Donation(donation_id, amount, "EUR", "once", int(time.time()), "fr")
    assert await services_of(harness).ledger.record(donation, None)


async def donate_for_real(harness: Harness) -> None:
    """A French donor taps 100 € in the bot and pays on the fake Stripe Checkout."""
    _, session_id = await pledge(harness, harness.user(7001, "fr"), "100\xa0€")
    await pay(harness, session_id)
    assert (await harness.totals()).raised == 10_000


async def fetch(
    url: str, accept_language: str | None = None
) -> tuple[int, dict[str, str], Page]:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, dict(response.headers), Page(await response.text())


# ---- in the browser -------------------------------------------------------------------------


@needs_chromium
async def test_browser_renders_the_widget_after_a_real_donation_in_both_languages(
    harness: Harness, tmp_path: Path
) -> None:
    await donate_for_real(harness)
    widget = f"{harness.http}/widget"
    by_query, by_header, english, query_wins = await asyncio.gather(
        chromium(f"{widget}?lang=fr"),
        chromium(widget, accept_language="fr-FR,fr;q=0.9"),
        chromium(widget, accept_language="en-GB,en;q=0.8"),
        chromium(f"{widget}?lang=en", accept_language="fr-FR"),
    )
    for dom in (by_query, by_header):
        page = Page(dom)
        assert page.one("html")["lang"] == "fr"
        assert page.text.startswith("Aidons les réfugiés de Calais — Hiver")
        assert "100 € collectés sur 10 000 €" in page.text
        assert "1 % de l'objectif · 1 donateur" in page.text
        progress = page.one("progress")
        assert (progress["max"], progress["value"]) == ("1000000", "10000")
        assert progress["aria-label"] == "Progression vers l'objectif"
    for dom in (english, query_wins):
        page = Page(dom)
        assert page.one("html")["lang"] == "en"
        assert "Help Refugees in Calais — Winter" in page.text
        assert "€100 raised of €10,000" in page.text
        assert "1% of the goal · 1 donor" in page.text
        assert page.one("a")["href"] == "https://t.me/fake_campaign_bot"
        assert not page.all("script")

    shot = tmp_path / "widget-300px.png"
    await chromium(f"{widget}?lang=fr", screenshot=shot, width=300)
    assert png_size(shot) == (300, 700)


@needs_chromium
async def test_browser_renders_the_stripe_return_pages_in_both_languages(
    harness: Harness,
) -> None:
    base = harness.http
    success_fr, cancel_fr, success_en, cancel_en = await asyncio.gather(
        chromium(f"{base}/donate/success?lang=fr&session_id=cs_1"),
        chromium(f"{base}/donate/cancel?lang=fr"),
        chromium(f"{base}/donate/success?session_id=cs_1", accept_language="en-US"),
        chromium(f"{base}/donate/cancel", accept_language="de-DE,de;q=0.9"),
    )
    expected = [
        (success_fr, "fr", "Merci pour votre don", "Retour au bot"),
        (cancel_fr, "fr", "Aucun paiement n'a été effectué", "Retour au bot"),
        (success_en, "en", "Thank you for your gift", "Back to the bot"),
        (cancel_en, "en", "No payment was made", "Back to the bot"),
    ]
    for dom, lang, heading, back in expected:
        page = Page(dom)
        assert page.one("html")["lang"] == lang
        assert page.text.startswith(heading), page.text
        assert page.text.endswith(back), page.text
        assert page.one("a")["href"] == "https://t.me/fake_campaign_bot"


@needs_chromium
async def test_browser_never_runs_or_reflects_a_hostile_lang(harness: Harness) -> None:
    hostile = quote(HOSTILE, safe="")
    doms = await asyncio.gather(
        chromium(f"{harness.http}/widget?lang={hostile}"),
        chromium(f"{harness.http}/donate/success?lang={hostile}"),
        chromium(f"{harness.http}/widget", accept_language="fr-FR,<script>"),
    )
    for dom in doms:
        page = Page(dom)
        assert page.one("html")["lang"] in ("en", "fr")
        assert not page.all("script")
        assert not page.all("img")
        assert "pwned" not in dom
        assert "onerror" not in dom


# ---- over plain HTTP (always run) -----------------------------------------------------------


async def test_widget_shows_progress_in_the_readers_language(harness: Harness) -> None:
    await record_gift(harness, "pi_widget_1", 123_450)
    widget = f"{harness.http}/widget"

    status, headers, page = await fetch(f"{widget}?lang=fr", accept_language="en-US")
    assert status == 200
    assert page.one("html")["lang"] == "fr"
    assert headers["Content-Language"] == "fr"
    assert "1 234,50 € collectés sur 10 000 €" in page.text
    assert "12 % de l'objectif · 1 donateur" in page.text
    progress = page.one("progress")
    assert (progress["max"], progress["value"]) == ("1000000", "123450")
    assert progress["aria-label"] == "Progression vers l'objectif"

    _, _, page = await fetch(widget, accept_language="en-US,en;q=0.9,fr;q=0.8")
    assert page.one("html")["lang"] == "en"
    assert "€1,234.50 raised of €10,000" in page.text
    assert "12% of the goal · 1 donor" in page.text
    _, _, page = await fetch(widget, accept_language="fr-CA")
    assert "collectés" in page.text
    _, _, page = await fetch(widget)
    assert page.one("html")["lang"] == "en"


async def test_widget_can_be_embedded_and_briefly_cached(harness: Harness) -> None:
    status, headers, page = await fetch(f"{harness.http}/widget")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "X-Frame-Options" not in headers
    assert "frame-ancestors *" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "public, max-age=30"
    assert headers["Vary"] == "Accept-Language"
    assert "no donors yet" in page.text
    assert page.one("progress")["value"] == "0"
    link = page.one("a")
    assert (link["href"], link["target"], link["rel"]) == (
        "https://t.me/fake_campaign_bot", "_blank", "noopener",
    )


async def test_widget_bar_stops_full_once_the_goal_is_passed(harness: Harness) -> None:
    await record_gift(harness, "pi_widget_big", 1_500_000)
    await record_gift(harness, "pi_widget_small", 2_000)
    _, _, page = await fetch(f"{harness.http}/widget?lang=en")
    assert page.one("progress")["value"] == page.one("progress")["max"] == "1000000"
    assert "€15,020 raised of €10,000" in page.text
    assert "150% of the goal · 2 donors" in page.text


async def test_pages_never_reflect_a_hostile_lang(harness: Harness) -> None:
    hostile = quote(HOSTILE, safe="")
    for path in ("/widget", "/donate/success", "/donate/cancel"):
        status, headers, page = await fetch(f"{harness.http}{path}?lang={hostile}")
        assert status == 200
        assert page.one("html")["lang"] == "en"
        assert headers["Content-Language"] == "en"
        assert "<script" not in page.markup
        assert "pwned" not in page.markup
        _, _, page = await fetch(f"{harness.http}{path}", accept_language=HOSTILE)
        assert page.one("html")["lang"] == "en"
        assert "<script" not in page.markup


async def test_stripe_return_pages_in_both_languages(harness: Harness) -> None:
    for path, lang, accept, heading in [
        ("/donate/success?lang=fr", "fr", None, "Merci pour votre don"),
        ("/donate/cancel", "fr", "fr-FR,fr;q=0.9", "Aucun paiement n'a été effectué"),
        ("/donate/success", "en", "en-US", "Thank you for your gift"),
        ("/donate/cancel?lang=en", "en", "fr-FR", "No payment was made"),
    ]:
        status, headers, page = await fetch(f"{harness.http}{path}", accept_language=accept)
        assert status == 200
        assert headers["Cache-Control"] == "no-store"
        assert page.one("html")["lang"] == lang
        assert page.text.startswith(heading)
        assert page.one("a")["href"] == "https://t.me/fake_campaign_bot"


async def test_widget_says_so_when_redis_does_not_answer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable() -> Totals:
        raise RedisConnectionError("down")

    monkeypatch.setattr(services_of(harness).ledger, "totals", unreachable)
    status, headers, page = await fetch(f"{harness.http}/widget?lang=fr")
    assert status == 503
    assert headers["Cache-Control"] == "no-store"
    assert "ne peut pas être affichée" in page.text
    assert not page.all("progress")
