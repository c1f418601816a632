"""Params checked against the SDK's own TypedDicts, which spell what the API accepts: unknown
keys, missing required ones, enums and scalars are refused as Stripe refuses them."""

from __future__ import annotations

import re
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, cast

import stripe
import stripe._request_options as stripe_request_options

from tests.fakes.stripe.errors import ApiError, bad, empty, missing_param

Json = dict[str, Any]

_INTEGER: Final = re.compile(r"-?\d+")
_OPTION_KEYS: Final = frozenset(stripe_request_options.RequestOptions.__annotations__)
_HINTS: dict[object, dict[str, Any]] = {}


def _hints(schema: object) -> dict[str, Any]:
    """Resolved field types of an SDK params TypedDict, without the request-option keys."""
    cached = _HINTS.get(schema)
    if cached is None:
        # RequestOptions names types it imports only under TYPE_CHECKING.
        namespace = {**vars(stripe_request_options), "StripeContext": stripe.StripeContext}
        resolved = typing.get_type_hints(schema, localns=namespace)
        cached = {key: tp for key, tp in resolved.items() if key not in _OPTION_KEYS}
        _HINTS[schema] = cached
    return cached


def _join(path: str, key: str | int) -> str:
    """Stripe's spelling of a nested param name."""
    return f"{path}[{key}]" if path else str(key)


def _is_typeddict(schema: Any) -> bool:
    """Whether a type is a TypedDict (typing or typing_extensions flavour)."""
    return isinstance(schema, type) and hasattr(schema, "__required_keys__")


def _is_stripe_object(schema: Any) -> bool:
    """Whether a union arm is the SDK's response-object type, which is not a param shape."""
    target = typing.get_origin(schema) or schema
    return isinstance(target, type) and issubclass(target, stripe.StripeObject)


def validate(params: Json, schema: object) -> Json:
    """Check decoded params against an SDK params TypedDict and coerce ints and bools."""
    return cast(Json, _check_hash(params, schema, ""))


def _check(value: Any, schema: Any, path: str) -> Any:
    """Check and coerce one decoded value against its declared type."""
    if _is_typeddict(schema):
        return _check_hash(value, schema, path)
    origin = typing.get_origin(schema)
    args = typing.get_args(schema)
    if origin is typing.Union or origin is types.UnionType:
        return _check_union(value, args, path)
    if origin is Literal:
        return _check_union(value, (schema,), path)
    if origin is list:
        if not isinstance(value, list):
            raise bad(f"Invalid array: {path}", path)
        return [_check(item, args[0], _join(path, index)) for index, item in enumerate(value)]
    if origin is dict:
        return _check_map(value, args[1] if len(args) == 2 else str, path)
    if schema in (str, int, bool, float, Decimal):
        return _check_scalar(value, schema, path)
    return value


def _check_hash(value: Any, schema: Any, path: str) -> Any:
    """Reject unknown keys the way Stripe does, and missing required ones."""
    if not isinstance(value, dict):
        raise bad(f"Invalid hash: {path}", path)
    hints = _hints(schema)
    out: Json = {}
    for key, item in value.items():
        name = _join(path, key)
        if key not in hints:
            raise bad(f"Received unknown parameter: {name}", name)
        out[key] = _check(item, hints[key], name)
    for key in sorted(getattr(schema, "__required_keys__", frozenset()) - _OPTION_KEYS):
        if key not in value:
            raise missing_param(_join(path, key))
    return out


def _check_union(value: Any, arms: tuple[Any, ...], path: str) -> Any:
    """Accept a value matching any arm; ``Literal[...] | str`` is an enum, not free text."""
    literals = [
        option
        for arm in arms
        if typing.get_origin(arm) is Literal
        for option in typing.get_args(arm)
    ]
    if isinstance(value, str) and value in literals:
        return value
    is_enum = any(option != "" for option in literals)
    if value == "":
        raise empty(path)
    candidates = [
        arm
        for arm in arms
        if typing.get_origin(arm) is not Literal
        and not _is_stripe_object(arm)
        and not (is_enum and arm is str)
    ]
    errors: list[tuple[Any, ApiError]] = []
    for arm in candidates:
        try:
            return _check(value, arm, path)
        except ApiError as error:
            errors.append((arm, error))
    if is_enum and isinstance(value, str):
        leaf = path.rsplit("[", 1)[-1].rstrip("]")
        options = ", ".join(str(option) for option in literals if option != "")
        raise bad(f"Invalid {leaf}: must be one of {options}", path)
    for arm, arm_error in errors:
        # Report the arm shaped like the value: a hash error for a hash, etc.
        if isinstance(value, dict) == (_is_typeddict(arm) or typing.get_origin(arm) is dict):
            raise arm_error
    if errors:
        raise errors[0][1]
    raise bad(f"Invalid value for {path}", path)


def _check_map(value: Any, item_schema: Any, path: str) -> Json:
    """Check a free-form hash such as metadata, with Stripe's metadata limits."""
    if not isinstance(value, dict):
        raise bad(f"Invalid hash: {path}", path)
    out: Json = {}
    for key, item in value.items():
        name = _join(path, key)
        if item_schema is str:
            if not isinstance(item, str):
                raise bad(f"Invalid value type: {name} must be a string", name)
            out[key] = item
        else:
            out[key] = _check(item, item_schema, name)
    if path.endswith("metadata"):
        if len(out) > 50:
            raise bad("You can specify up to 50 metadata keys.", path)
        for key, item in out.items():
            if len(key) > 40:
                raise bad(f"Metadata keys can have up to 40 characters: {key}", _join(path, key))
            if isinstance(item, str) and len(item) > 500:
                raise bad(
                    "Metadata values can have up to 500 characters, but you passed in a value "
                    f"that is {len(item)} characters.",
                    _join(path, key),
                )
    return out


def _check_scalar(value: Any, schema: Any, path: str) -> Any:
    """Parse a form string as the declared scalar type."""
    if not isinstance(value, str):
        raise bad(f"Invalid {schema.__name__}: {path} must be a scalar", path)
    if value == "":
        raise empty(path)
    if schema is bool:
        if value not in ("true", "false"):
            raise bad(f"Invalid boolean: {value}", path)
        return value == "true"
    if schema is int:
        if not _INTEGER.fullmatch(value):
            raise bad(f"Invalid integer: {value}", path)
        return int(value)
    if schema in (float, Decimal):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise bad(f"Invalid decimal: {value}", path) from None
        if not number.is_finite():
            raise bad(f"Invalid decimal: {value}", path)
        return number if schema is Decimal else float(number)
    return value
