"""List objects ``{"object": "list", "data", "has_more", "url"}`` with Stripe's cursors and
filters, and the expansions the bot asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.stripe.errors import bad, no_such, unsupported
from tests.fakes.stripe.state import StripeState

Json = dict[str, Any]

_PAGING = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})


def page(ordered: list[Json], params: Json, url: str, keep: Callable[[Json], bool]) -> Json:
    """One page of a list object, honouring limit, starting_after and ending_before."""
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise bad("Invalid limit: must be between 1 and 100", "limit")
    if "starting_after" in params and "ending_before" in params:
        raise bad("You may only specify one of these parameters: ending_before, starting_after.")
    ids = [obj["id"] for obj in ordered]
    cursor_param = "starting_after" if "starting_after" in params else "ending_before"
    cursor = params.get(cursor_param)
    if cursor is not None and cursor not in ids:
        raise no_such("object", cursor, cursor_param)
    if cursor is None:
        matched = [obj for obj in ordered if keep(obj)]
        data = matched[:limit]
    elif cursor_param == "starting_after":
        matched = [obj for obj in ordered[ids.index(cursor) + 1 :] if keep(obj)]
        data = matched[:limit]
    else:
        matched = [obj for obj in ordered[: ids.index(cursor)] if keep(obj)]
        data = matched[-limit:]
    return {"object": "list", "data": data, "has_more": len(matched) > len(data), "url": url}


def list_objects(store: dict[str, Json], params: Json, url: str, filters: frozenset[str]) -> Json:
    """GET /v1/<things>: newest first, filtered by `created` and exact values."""
    wanted = {key: value for key, value in params.items() if key not in _PAGING}
    for key in wanted:
        if key not in filters:
            raise unsupported(f"the `{key}` filter on {url}")
    created = params.get("created")

    def keep(obj: Json) -> bool:
        return _created_matches(obj["created"], created) and all(
            obj.get(key) == value for key, value in wanted.items()
        )

    return page(list(reversed(store.values())), params, url, keep)


def _created_matches(created: int, wanted: Any) -> bool:
    """Stripe's created filter: an exact int or a gt/gte/lt/lte hash."""
    if wanted is None:
        return True
    if isinstance(wanted, int):
        return created == wanted
    bounds = {
        "gt": lambda bound: created > bound,
        "gte": lambda bound: created >= bound,
        "lt": lambda bound: created < bound,
        "lte": lambda bound: created <= bound,
    }
    return all(bounds[key](bound) for key, bound in wanted.items() if key in bounds)


def render(account: StripeState, obj: Json, expand: list[str]) -> Json:
    """The public form of a stored object with the requested expansions."""
    out = account.public(obj)
    for path in expand:
        if out.get("object") == "payment_intent" and path == "latest_charge":
            charge = account.charges.get(str(out["latest_charge"]))
            out["latest_charge"] = None if charge is None else account.public(charge)
            continue
        if out.get("object") != "invoice" or path != "payments":
            raise bad(f"This property cannot be expanded ({path}).", "expand")
        # An invoice's payments are only ever returned expanded.
        payments = [
            account.public(payment)
            for payment in account.invoice_payments.values()
            if payment["invoice"] == out["id"]
        ]
        out["payments"] = {
            "object": "list",
            "data": payments,
            "has_more": False,
            "url": f"/v1/invoice_payments?invoice={out['id']}",
        }
    return out


def render_page(account: StripeState, listed: Json, expand: list[str]) -> Json:
    """A list object whose items are rendered, expand paths given as ``data.<field>``."""
    fields = []
    for path in expand:
        if not path.startswith("data."):
            raise bad(f"This property cannot be expanded ({path}).", "expand")
        fields.append(path.removeprefix("data."))
    return {**listed, "data": [render(account, obj, fields) for obj in listed["data"]]}
