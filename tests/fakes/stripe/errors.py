"""Stripe's error answers: ``{"error": {"type", "code", "message", "param", "doc_url"}}``."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """A Stripe API error, rendered as the body the SDK parses into a StripeError subclass."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code

    def body(self) -> Json:
        """The JSON body Stripe sends for this error."""
        error: Json = {"type": self.kind, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


def bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 invalid_request_error."""
    return ApiError(400, message, param=param, code=code)


def missing_param(param: str) -> ApiError:
    """Stripe's error for an absent required parameter."""
    return bad(f"Missing required param: {param}.", param, "parameter_missing")


def no_such(kind: str, object_id: str, param: str, status: int = 400) -> ApiError:
    """Stripe's resource_missing error (404 for path ids, 400 for ids inside params)."""
    return ApiError(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def unsupported(what: str) -> ApiError:
    """Refuse loudly rather than silently ignore something that would change money or state."""
    return bad(f"FakeStripe does not simulate {what}.", code="fake_unsupported")


def empty(path: str) -> ApiError:
    """Stripe treats "" as an attempt to unset, which most create params forbid."""
    return bad(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        path,
    )
