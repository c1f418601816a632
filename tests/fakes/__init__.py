"""Test doubles of the Bot API and of Stripe, pinned by their own tests to the documented APIs."""
