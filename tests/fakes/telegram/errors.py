"""The Bot API's error answers: {"ok": false, "error_code", "description", "parameters"}."""

from __future__ import annotations

from typing import Any, Final

JSON = dict[str, Any]

BLOCKED: Final = "Forbidden: bot was blocked by the user"
# What Telegram says for each status when a test injects a failure without its own wording.
DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def injected(status: int, description: str | None, retry_after: int | None) -> ApiError:
    """A failure a test asked for; a 429 carries parameters.retry_after as Telegram's does."""
    if status == 429 and retry_after is None:
        retry_after = 1
    if description is None:
        if status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
        else:
            description = DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
    parameters = {"retry_after": retry_after} if retry_after is not None else None
    return ApiError(status, description, parameters)
