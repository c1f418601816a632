"""Stripe's side of a donation, played by tests: the donor pays, a month passes, money goes
back. Each helper changes the account as Stripe would and returns the events it announces."""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe import billing, payments
from tests.fakes.stripe.checkout import Plan
from tests.fakes.stripe.state import StripeState, new_id

Json = dict[str, Any]

# What a donor types on a page that requires a billing address, unless a test says otherwise;
# every part of a Stripe address, null where left blank.
TEST_ADDRESS: Json = {
    "city": "Calais", "country": "FR", "line1": "1 rue de la Paix", "line2": None,
    "postal_code": "62100", "state": None,
}


class StripeSide(StripeState):
    """The account plus what Stripe does on its own: payments, renewals, refunds, disputes."""

    def __init__(self, api_version: str, legacy_fields: bool) -> None:
        super().__init__(api_version, legacy_fields)
        self.plans: dict[str, Plan] = {}
        self._periods: dict[str, int] = {}

    # --- checkout ---

    def complete_session(
        self, session_id: str, *, email: str | None = None, name: str | None = None,
        address: Json | None = None,
    ) -> list[Json]:
        """The donor pays by card: money captured at once. `address` is the billing address
        the donor typed (a test one where the session requires it and none is given)."""
        return self._finish_session(
            session_id, paid=True, email=email, name=name, address=address
        )

    def complete_session_async(
        self, session_id: str, *, email: str | None = None, name: str | None = None
    ) -> list[Json]:
        """The donor pays with a delayed method (e.g. SEPA debit): complete but unpaid."""
        return self._finish_session(session_id, paid=False, email=email, name=name)

    def async_payment_succeeded(self, session_id: str) -> list[Json]:
        """The delayed payment of a completed session clears."""
        session, plan = self._delayed_session(session_id)
        out: list[Json] = []
        self._settle_payment(self._session_payment_intent(session), succeeded=True)
        session["payment_status"] = "paid"
        plan.delayed = False
        self.emit(out, "checkout.session.async_payment_succeeded", session)
        if session["mode"] == "subscription":
            invoice = self.invoices[session["invoice"]]
            self._mark_invoice_paid(invoice)
            self.emit(out, "invoice.paid", invoice)
        return out

    def async_payment_failed(self, session_id: str) -> list[Json]:
        """The delayed payment of a completed session fails; no money arrives."""
        session, plan = self._delayed_session(session_id)
        out: list[Json] = []
        self._settle_payment(self._session_payment_intent(session), succeeded=False)
        plan.delayed = False
        self.emit(out, "checkout.session.async_payment_failed", session)
        if session["mode"] == "subscription":
            invoice = self.invoices[session["invoice"]]
            invoice["next_payment_attempt"] = None
            self.emit(out, "invoice.payment_failed", invoice)
            subscription = self.subscriptions[session["subscription"]]
            previous = {"status": subscription["status"]}
            subscription["status"] = "past_due"
            self.emit(out, "customer.subscription.updated", subscription, previous=previous)
        return out

    def expire_session(self, session_id: str) -> list[Json]:
        """The session times out unpaid."""
        session = self._open_session(session_id)
        session.update(status="expired", url=None)
        out: list[Json] = []
        self.emit(out, "checkout.session.expired", session)
        return out

    # --- subscriptions ---

    def renew_subscription(self, subscription_id: str) -> list[Json]:
        """A billing period ends and the renewal charge succeeds; while collection is paused the
        period passes unpaid (its voided invoice, which the bot ignores, is not simulated), and
        once `resumes_at` has passed Stripe clears the pause, says so, and collects again."""
        subscription = self._live_subscription(subscription_id)
        period_index = self._periods[subscription_id]
        self._periods[subscription_id] = period_index + 1
        anchor = subscription["billing_cycle_anchor"]
        items = subscription["items"]["data"]
        recurring = items[0]["price"]["recurring"]
        interval, count = recurring["interval"], recurring["interval_count"]
        start = billing.add_interval(anchor, interval, count * period_index)
        end = billing.add_interval(anchor, interval, count * (period_index + 1))
        for item in items:
            item.update(current_period_start=start, current_period_end=end)
        subscription.update(current_period_start=start, current_period_end=end)
        out: list[Json] = []
        pause = subscription["pause_collection"]
        if pause is not None:
            if pause["resumes_at"] is None or pause["resumes_at"] > start:
                return out
            subscription["pause_collection"] = None
            self.emit(
                out, "customer.subscription.updated", subscription,
                previous={"pause_collection": pause},
            )
        plan_items = [
            billing.Item(
                price=item["price"],
                name=str(self.products[item["price"]["product"]]["name"]),
                quantity=item["quantity"],
            )
            for item in items
        ]
        invoice = self._bill(subscription, plan_items, "subscription_cycle", paid=True)
        if subscription["status"] == "past_due":
            # A paid renewal clears an earlier failed payment, as Stripe's dunning does.
            subscription["status"] = "active"
        self.emit(out, "invoice.paid", invoice)
        return out

    def change_default_card(self, customer_id: str) -> list[Json]:
        """The donor saves a new card on the billing portal's payment-method page: Stripe makes
        it the customer's default for invoices and says so."""
        customer = self.customers[customer_id]
        settings = customer["invoice_settings"]
        previous: Json = {
            "invoice_settings": {"default_payment_method": settings["default_payment_method"]}
        }
        settings["default_payment_method"] = new_id("pm")
        out: list[Json] = []
        self.emit(out, "customer.updated", customer, previous=previous)
        return out

    def cancel_subscription_event(
        self, subscription_id: str, *, reason: str = "cancellation_requested"
    ) -> list[Json]:
        """Stripe ends the subscription (customer portal, dunning, dashboard)."""
        out: list[Json] = []
        self.end_subscription(self._live_subscription(subscription_id), reason, out)
        return out

    def end_subscription(
        self,
        subscription: Json,
        reason: str,
        out: list[Json],
        request: tuple[str, str | None] | None = None,
    ) -> None:
        """Cancel now and announce customer.subscription.deleted."""
        now = self.now()
        subscription.update(
            status="canceled", canceled_at=subscription["canceled_at"] or now, ended_at=now
        )
        subscription["cancellation_details"]["reason"] = reason
        self.emit(out, "customer.subscription.deleted", subscription, request=request)

    # --- money back ---

    def refund(
        self, payment_intent_id: str, amount: int | None = None, *, reason: str | None = None
    ) -> list[Json]:
        """Refund part (amount) or the rest (None) of a payment's charge."""
        charge = self._charge_of(payment_intent_id)
        remaining = charge["amount"] - charge["amount_refunded"]
        refunded = remaining if amount is None else amount
        if not charge["paid"] or not 0 < refunded <= remaining:
            raise ValueError(f"cannot refund {refunded} of {charge['id']}: {remaining} left")
        refund = payments.refund(self.now(), charge, refunded, reason)
        self.refunds[refund["id"]] = refund
        previous: Json = {"amount_refunded": charge["amount_refunded"]}
        # amount_refunded is cumulative; refunded turns true only once all of it is back.
        charge["amount_refunded"] += refunded
        if charge["amount_refunded"] == charge["amount"]:
            previous["refunded"] = False
            charge["refunded"] = True
        out: list[Json] = []
        self.emit(out, "charge.refunded", charge, previous=previous)
        return out

    def dispute(self, payment_intent_id: str, amount: int | None = None) -> list[Json]:
        """The card holder disputes the payment (a chargeback)."""
        charge = self._charge_of(payment_intent_id)
        if charge["disputed"]:
            raise ValueError(f"charge {charge['id']} is already disputed")
        disputed = charge["amount"] if amount is None else amount
        if not 0 < disputed <= charge["amount"]:
            raise ValueError(f"dispute amount {disputed} is outside 1..{charge['amount']}")
        dispute = payments.dispute(self.now(), charge, disputed)
        self.disputes[dispute["id"]] = dispute
        charge["disputed"] = True
        out: list[Json] = []
        self.emit(out, "charge.dispute.created", dispute)
        return out

    # --- what the helpers share ---

    def _finish_session(
        self, session_id: str, *, paid: bool, email: str | None, name: str | None,
        address: Json | None = None,
    ) -> list[Json]:
        """Complete an open session and create what Stripe creates for its mode."""
        session = self._open_session(session_id)
        plan = self.plans[session_id]
        customer_id: str | None = session["customer"]
        known = self.customers.get(customer_id or "", {})
        email = email or session["customer_email"] or known.get("email") or "donor@example.com"
        name = name or known.get("name") or "Test Donor"
        # Checkout asks for the full billing address only when the session requires it.
        if session["billing_address_collection"] == "required":
            address = {**TEST_ADDRESS, **(address or {})}
        address = None if address is None else {part: address.get(part) for part in TEST_ADDRESS}
        # Payment mode makes a guest (no Customer) unless customer_creation=always.
        if customer_id is None and (
            session["mode"] == "subscription" or plan.customer_creation == "always"
        ):
            customer = payments.customer(self.now(), email, name, address)
            self.customers[customer["id"]] = customer
            customer_id = customer["id"]
        details = {"address": address, "email": email, "name": name, "phone": None}
        session.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            customer=customer_id,
            customer_details={**details, "tax_exempt": "none", "tax_ids": []},
            url=None,
        )
        plan.delayed = not paid
        out: list[Json] = []
        if session["mode"] == "payment":
            payment_intent, charge = payments.payment(
                self.now(),
                amount=session["amount_total"],
                currency=session["currency"],
                customer=customer_id,
                metadata=plan.payment_intent_data.get("metadata", {}),
                description=plan.payment_intent_data.get("description"),
                invoice=None,
                state="succeeded" if paid else "processing",
                email=email,
            )
            self.payment_intents[payment_intent["id"]] = payment_intent
            self.charges[charge["id"]] = charge
            session["payment_intent"] = payment_intent["id"]
            self.emit(out, "checkout.session.completed", session)
            return out
        assert customer_id is not None
        subscription = billing.subscription(
            self.now(), plan.items, customer_id, plan.subscription_data
        )
        self.subscriptions[subscription["id"]] = subscription
        self._periods[subscription["id"]] = 1
        invoice = self._bill(
            subscription, plan.items, "subscription_create", paid=paid, email=email
        )
        session.update(subscription=subscription["id"], invoice=invoice["id"])
        self.emit(out, "checkout.session.completed", session)
        if paid:
            self.emit(out, "invoice.paid", invoice)
        return out

    def _bill(
        self,
        subscription: Json,
        items: list[billing.Item],
        billing_reason: str,
        *,
        paid: bool,
        email: str | None = None,
    ) -> Json:
        """Store a finalized invoice for the items with its PaymentIntent, charge and
        InvoicePayment."""
        now = self.now()
        customer = self.customers[subscription["customer"]]
        invoice_id = new_id("in")
        lines = [billing.invoice_line(invoice_id, subscription, item) for item in items]
        creating = billing_reason == "subscription_create"
        payment_intent, charge = payments.payment(
            now,
            amount=sum(item.amount for item in items),
            currency=subscription["currency"],
            customer=customer["id"],
            metadata={},
            description="Subscription creation" if creating else "Subscription update",
            invoice=invoice_id,
            state="succeeded" if paid else "processing",
            email=email or customer["email"],
        )
        self.payment_intents[payment_intent["id"]] = payment_intent
        self.charges[charge["id"]] = charge
        count = sum(1 for other in self.invoices.values() if other["customer"] == customer["id"])
        invoice = billing.invoice(
            now,
            subscription,
            customer,
            lines,
            billing_reason=billing_reason,
            number=count + 1,
            payment_intent=payment_intent,
        )
        self.invoices[invoice_id] = invoice
        invoice_payment = billing.invoice_payment(now, invoice)
        self.invoice_payments[invoice_payment["id"]] = invoice_payment
        subscription["latest_invoice"] = invoice_id
        return invoice

    def _settle_payment(self, pi_id: str, *, succeeded: bool) -> None:
        """Resolve a processing payment."""
        payment_intent = self.payment_intents[pi_id]
        charge = self.charges[payment_intent["latest_charge"]]
        payments.settle(payment_intent, charge, succeeded=succeeded)

    def _mark_invoice_paid(self, invoice: Json) -> None:
        """Record that an open invoice's payment cleared."""
        now = self.now()
        invoice.update(
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            paid=True,
            status="paid",
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        for payment in self.invoice_payments.values():
            if payment["invoice"] == invoice["id"]:
                payment.update(status="paid", amount_paid=payment["amount_requested"])
                payment["status_transitions"]["paid_at"] = now
        subscription = self.subscriptions[invoice["subscription"]]
        if subscription["status"] == "past_due":
            subscription["status"] = "active"

    def _open_session(self, session_id: str) -> Json:
        """An open session, or ValueError: Stripe cannot complete an expired/complete one."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ValueError(f"no checkout session {session_id}")
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
        return session

    def _delayed_session(self, session_id: str) -> tuple[Json, Plan]:
        """A session completed with a delayed method whose payment is still processing."""
        session = self.sessions.get(session_id)
        plan = self.plans.get(session_id)
        if session is None or plan is None:
            raise ValueError(f"no checkout session {session_id}")
        if not plan.delayed:
            raise ValueError(f"checkout session {session_id} has no payment pending")
        return session, plan

    def _session_payment_intent(self, session: Json) -> str:
        """The PaymentIntent that pays for a session (directly or via its first invoice)."""
        if session["mode"] == "payment":
            return str(session["payment_intent"])
        return str(self.invoices[session["invoice"]]["payment_intent"])

    def _live_subscription(self, subscription_id: str) -> Json:
        """A subscription that has not ended, or ValueError."""
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise ValueError(f"no subscription {subscription_id}")
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise ValueError(f"subscription {subscription_id} is {subscription['status']}")
        return subscription

    def _charge_of(self, payment_intent_id: str) -> Json:
        """The latest charge of a PaymentIntent."""
        payment_intent = self.payment_intents.get(payment_intent_id)
        if payment_intent is None:
            raise ValueError(f"no payment intent {payment_intent_id}")
        return self.charges[payment_intent["latest_charge"]]
