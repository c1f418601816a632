"""Donations: Stripe Checkout, verified events, the ledger, monthly gifts, notices owed."""
