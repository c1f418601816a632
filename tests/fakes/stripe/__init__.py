"""A local Stripe that the real SDK talks to, plus Stripe's side of a donation for tests."""

from tests.fakes.stripe.server import FakeStripe
from tests.fakes.stripe.signing import encode_event
from tests.fakes.stripe.state import API_KEY, API_VERSION, WEBHOOK_SECRET
from tests.fakes.stripe.wire import StripeRequest, decode_form

__all__ = [
    "API_KEY",
    "API_VERSION",
    "WEBHOOK_SECRET",
    "FakeStripe",
    "StripeRequest",
    "decode_form",
    "encode_event",
]
