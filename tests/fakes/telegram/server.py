"""The fake Bot API's HTTP side: /bot<token>/<method>, long polling, injected failures and
late answers, and the recording of every call."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from tests.fakes.serving import Served
from tests.fakes.telegram import messages, profile
from tests.fakes.telegram.calls import MESSAGE_METHODS, ApiCall, CallLog
from tests.fakes.telegram.errors import BLOCKED, ApiError, bad_request, injected
from tests.fakes.telegram.state import BOT_FIRST_NAME, BOT_USERNAME, TEST_TOKEN, BotState
from tests.fakes.telegram.users import FakeUser
from tests.fakes.telegram.wire import Request, canonical, json_response, read_request

JSON = dict[str, Any]

_LOGGER = logging.getLogger(__name__)
_METHODS: Final[dict[str, Callable[[BotState, Request], Any]]] = {
    "getMe": profile.get_me,
    "setWebhook": profile.set_webhook,
    "deleteWebhook": profile.delete_webhook,
    "setMyCommands": profile.set_my_commands,
    "setMyDescription": profile.set_my_description,
    "setMyShortDescription": profile.set_my_short_description,
    "sendMessage": messages.send_message,
    "sendPhoto": messages.send_photo,
    "sendDocument": messages.send_document,
    "editMessageText": messages.edit_message_text,
    "answerCallbackQuery": messages.answer_callback_query,
}


def _not_found() -> ApiError:
    """Telegram's answer for a path or a method it does not have."""
    return ApiError(404, "Not Found")


@dataclass
class _Rule:
    """A pending injected failure (error set) or late answer (seconds set)."""

    method: str
    remaining: int
    chat_id: int | None
    error: ApiError | None = None
    seconds: float = 0.0

    def take(self, req: Request) -> bool:
        """Whether this rule applies to the request; applying it uses one of its turns."""
        if self.method != req.method or self.remaining <= 0:
            return False
        if self.chat_id is not None and req.params.get("chat_id") != self.chat_id:
            return False
        self.remaining -= 1
        return True


class FakeBotAPI(CallLog, BotState, Served):
    """An aiohttp server on 127.0.0.1 speaking the part of the Bot API the bot uses."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
    ) -> None:
        CallLog.__init__(self)
        BotState.__init__(self, token, bot_username, bot_first_name)
        self._poll_generation = 0
        # Long polls ended by a newer getUpdates with Telegram's 409: two pollers at once.
        self.superseded_polls = 0
        self._failures: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:12345."""
        if self._url is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._url

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url."""
        return f"{self.url}/bot"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        if self._runner is not None:
            return
        # Campaign photos can exceed aiohttp's 1 MiB default body limit.
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation ends a long poll whose client (a stopping Updater) went away.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._closing = False
        self._url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        """End pending long polls and waits, then close the server."""
        self._closing = True
        self.notify()
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Give woken long polls a turn to write their empty answers before sockets close.
        await asyncio.sleep(0)
        await runner.cleanup()

    # ----- test-facing controls -----

    def user(
        self,
        user_id: int,
        *,
        language_code: str | None = "en",
        first_name: str = "Test",
        username: str | None = None,
    ) -> FakeUser:
        """A user that can write to the bot."""
        user = FakeUser(
            self, user_id, language_code=language_code, first_name=first_name, username=username
        )
        self.users[user_id] = user
        return user

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates and return its update_id."""
        update_id = self.queue_update(update)
        self.notify()
        return update_id

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `count` calls of the method (optionally for one chat) with an error;
        without a description, Telegram's usual one for the status."""
        error = injected(status, description, retry_after)
        self._failures.append(_Rule(canonical(method), count, chat_id, error=error))

    def delay_next(
        self, method: str, *, seconds: float, count: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next `count` calls of the method (optionally for one chat) only after
        `seconds`, so the bot's client times out while the call still arrives (like Telegram
        under load: the message may be delivered although the bot never hears back)."""
        self._delays.append(_Rule(canonical(method), count, chat_id, seconds=seconds))

    def stop_delaying(self) -> None:
        """Answer every call at once again: what delay_next rules had left is dropped."""
        self._delays.clear()

    def _injected_failure(self, req: Request) -> ApiError | None:
        """Consume a matching fail_next rule, if any."""
        rule = next((rule for rule in self._failures if rule.take(req)), None)
        self._failures = [rule for rule in self._failures if rule.remaining > 0]
        return rule.error if rule is not None else None

    def _injected_delay(self, req: Request) -> float:
        """Consume a matching delay_next rule, if any."""
        rule = next((rule for rule in self._delays if rule.take(req)), None)
        self._delays = [rule for rule in self._delays if rule.remaining > 0]
        return rule.seconds if rule is not None else 0.0

    # ----- HTTP -----

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Route /bot<token>/<method>; Telegram answers 401 for a wrong token, 404 otherwise."""
        path = request.path
        if not path.startswith("/bot"):
            return json_response(_not_found().body(), status=404)
        token, _, raw_method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            unauthorized = ApiError(401, "Unauthorized")
            return json_response(unauthorized.body(), status=401)
        if not raw_method or "/" in raw_method:
            return json_response(_not_found().body(), status=404)
        at = time.monotonic()
        req = await read_request(raw_method, request)
        if req.method == "getUpdates":
            peer = request.transport.get_extra_info("peername") if request.transport else None
            return await self._get_updates(req, at, peer[1] if peer else None)
        delay = self._injected_delay(req)
        if delay:
            # Telegram acts on a request even when the client gave up waiting: finish it (and
            # record it) although the bot's timeout closes the connection meanwhile.
            return await asyncio.shield(self._answer_later(req, at, delay))
        return self._answer(req, at)

    async def _answer_later(self, req: Request, at: float, delay: float) -> web.Response:
        await asyncio.sleep(delay)
        return self._answer(req, at)

    def _answer(self, req: Request, at: float) -> web.Response:
        """Dispatch one request, record it and build its answer."""
        try:
            result = self._dispatch(req)
        except ApiError as exc:
            return self._record(req, at, None, exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A malformed request is the bot's bug; answer like Telegram would rather than 500.
            _LOGGER.warning("fake Bot API rejected %s: %r", req.method, exc)
            return self._record(req, at, None, bad_request(f"invalid request: {exc!r}"))
        return self._record(req, at, result, None)

    def _dispatch(self, req: Request) -> Any:
        """Answer one non-polling request or raise ApiError."""
        failure = self._injected_failure(req)
        if failure is not None:
            raise failure
        handler = _METHODS.get(req.method)
        if handler is None:
            raise _not_found()
        if req.method in MESSAGE_METHODS and req.params.get("chat_id") in self.blocked:
            raise ApiError(403, BLOCKED)
        return handler(self, req)

    def _record(
        self, req: Request, at: float, result: Any, error: ApiError | None
    ) -> web.Response:
        """Append the call to the log, wake waiters and build the HTTP answer."""
        # A JSON round trip both validates the answer and detaches it from later edits.
        result_copy = json.loads(json.dumps(result))
        call = ApiCall(
            method=req.method,
            params=req.params,
            files=req.files,
            at=at,
            index=len(self.calls),
            result=result_copy,
            error=error.body() if error else None,
            filenames=req.filenames,
        )
        self.calls.append(call)
        self.notify()
        if error is not None:
            return json_response(error.body(), status=error.status)
        return json_response({"ok": True, "result": result_copy})

    async def _get_updates(
        self, req: Request, at: float, client_port: int | None
    ) -> web.Response:
        """Long-poll for updates, honouring offset, limit and timeout, as Telegram does."""
        self.calls.append(
            ApiCall(
                req.method, req.params, req.files, at, index=len(self.calls),
                client_port=client_port,
            )
        )
        self.notify()
        error = self._injected_failure(req) or self._webhook_conflict()
        if error is not None:
            return json_response(error.body(), status=error.status)
        # A newer getUpdates supersedes this one, which then gets Telegram's 409.
        self._poll_generation += 1
        generation = self._poll_generation
        offset = req.params.get("offset")
        if isinstance(offset, int):
            self._confirm(offset)
        limit = req.params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = req.params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            # Telegram ends the earlier of two polls even if updates wait: the newer gets them.
            if generation != self._poll_generation:
                self.superseded_polls += 1
                conflict = ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
                return json_response(conflict.body(), status=409)
            if self.pending or self._closing:
                return json_response({"ok": True, "result": self.pending[:limit]})
            remaining = deadline - loop.time()
            if remaining <= 0:
                return json_response({"ok": True, "result": []})
            await self.changed(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by offset; a negative one keeps the last -offset updates."""
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [update for update in self.pending if update["update_id"] >= offset]

    def _webhook_conflict(self) -> ApiError | None:
        """Telegram refuses getUpdates while a webhook is set."""
        if not self.webhook_url:
            return None
        return ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        )
