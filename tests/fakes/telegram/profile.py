"""The start-up and profile methods: getMe, setWebhook, deleteWebhook, setMyCommands,
setMyDescription and setMyShortDescription."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.telegram.errors import bad_request
from tests.fakes.telegram.state import BotState
from tests.fakes.telegram.wire import Request

JSON = dict[str, Any]


def get_me(bot: BotState, req: Request) -> JSON:
    """The bot's own User with the getMe-only flags."""
    return {
        **bot.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def set_webhook(bot: BotState, req: Request) -> bool:
    """SetWebhook; getUpdates is refused while one is set."""
    bot.webhook_url = str(req.params.get("url") or "")
    secret = req.params.get("secret_token")
    bot.webhook_secret = secret if isinstance(secret, str) else None
    if req.params.get("drop_pending_updates") is True:
        bot.pending.clear()
    return True


def delete_webhook(bot: BotState, req: Request) -> bool:
    """DeleteWebhook."""
    bot.webhook_url = ""
    bot.webhook_secret = None
    if req.params.get("drop_pending_updates") is True:
        bot.pending.clear()
    return True


def _language(params: JSON) -> str | None:
    """The language_code of a settings call, None when absent or empty."""
    value = params.get("language_code")
    return value if isinstance(value, str) and value else None


def _check_command(command: Any) -> None:
    """Refuse a BotCommand the way Telegram does."""
    name = command.get("command") if isinstance(command, dict) else None
    description = command.get("description") if isinstance(command, dict) else None
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def set_my_commands(bot: BotState, req: Request) -> bool:
    """SetMyCommands for the default scope, per language."""
    commands = req.params.get("commands")
    if not isinstance(commands, list):
        raise bad_request("commands must be an array")
    scope = req.params.get("scope")
    if isinstance(scope, dict) and scope.get("type", "default") != "default":
        raise bad_request(f"the fake Bot API keeps commands for the default scope only: {scope}")
    for command in commands:
        _check_command(command)
    bot.commands_by_language[_language(req.params)] = commands
    return True


def set_my_description(bot: BotState, req: Request) -> bool:
    """SetMyDescription, per language."""
    value = req.params.get("description")
    bot.descriptions[_language(req.params)] = value if isinstance(value, str) else ""
    return True


def set_my_short_description(bot: BotState, req: Request) -> bool:
    """SetMyShortDescription, per language."""
    value = req.params.get("short_description")
    bot.short_descriptions[_language(req.params)] = value if isinstance(value, str) else ""
    return True
