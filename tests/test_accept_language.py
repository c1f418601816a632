"""The web pages speak the language a browser weighs highest, q-values included."""

from __future__ import annotations

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import SUPPORTED_LOCALES, locale_from_accept_language
from tests.conftest import Harness


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en;q=0.1, fr;q=0.9", "fr"),
        ("fr;q=0.9, en;q=0.1", "fr"),
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("en-US,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,de;q=0.9,fr;q=0.5", "fr"),
        ("de;q=1, fr;q=0.001", "fr"),
        ("fr;q=0", "en"),
        ("fr;q=0.000", "en"),
        ("en;q=0", "fr"),
        ("en;q=0, fr;q=0", "en"),
        ("*;q=0.5, en;q=0.1", "fr"),
        ("*", "en"),
        ("fr;q=0.5, en;q=0.5", "fr"),
        ("en;q=0.5, fr;q=0.5", "en"),
        ("FR ; Q = 0.8 , en ; q=0.3", "fr"),
        ("fr_CA", "fr"),
        ("de-DE,de;q=0.9", "en"),
        ("fr;q=2, en;q=0.1", "en"),
        ("fr;q=0.5000, en;q=0.1", "en"),
        ("fr;q=abc", "en"),
        ("fr;level=1;q=0.8, en;q=0.5", "fr"),
        ("", "en"),
        (None, "en"),
        (",,;,;q=", "en"),
        ('fr-FR,<script>;q=1', "fr"),
    ],
)
def test_the_highest_q_value_among_supported_languages_wins(
    header: str | None, expected: str
) -> None:
    assert locale_from_accept_language(header) == expected


@given(st.text(max_size=200))
def test_any_header_gives_a_supported_locale(header: str) -> None:
    assert locale_from_accept_language(header) in SUPPORTED_LOCALES


async def test_the_cancel_page_follows_q_values(harness: Harness) -> None:
    async with aiohttp.ClientSession() as http:
        for accept, lang, heading in [
            ("en;q=0.1, fr;q=0.9", "fr", "Aucun paiement"),
            ("fr;q=0, en-GB;q=0.2", "en", "No payment was made"),
        ]:
            async with http.get(
                f"{harness.http}/donate/cancel", headers={"Accept-Language": accept}
            ) as response:
                page = await response.text()
                assert response.headers["Content-Language"] == lang
            assert f'<html lang="{lang}">' in page
            assert heading in page
