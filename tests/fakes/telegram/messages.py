"""The message methods the bot calls: sendMessage, sendPhoto, sendDocument, editMessageText,
answerCallbackQuery, each refusing what Telegram refuses."""

from __future__ import annotations

import copy
from typing import Any, Final

from tests.fakes.telegram.entities import text_content
from tests.fakes.telegram.errors import bad_request
from tests.fakes.telegram.state import BotState, now
from tests.fakes.telegram.wire import Request

JSON = dict[str, Any]

_MAX_CALLBACK_DATA: Final = 64
_BUTTON_ACTIONS: Final = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
# What an edit must change for Telegram to accept it.
_VISIBLE: Final = (
    "text", "entities", "caption", "caption_entities", "photo", "document",
    "link_preview_options", "reply_markup",
)  # fmt: skip


def chat_id_of(params: JSON) -> int:
    """The numeric chat a request targets."""
    value = params.get("chat_id")
    if isinstance(value, bool) or value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, int):
        return value
    raise bad_request("chat not found")


def _check_button(button: Any) -> None:
    """Refuse an inline button the way Telegram does."""
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    if len([action for action in _BUTTON_ACTIONS if action in button]) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (
        isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= _MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and (not isinstance(url, str) or not url or any(c.isspace() for c in url)):
        raise bad_request("BUTTON_URL_INVALID")


def _inline_keyboard(markup: Any) -> JSON | None:
    """A valid inline keyboard to put on the message; reply keyboards are not echoed back."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            _check_button(button)
    return markup


def _new_message(bot: BotState, req: Request, chat_id: int, content: JSON) -> JSON:
    """Create, store and return a bot message in the chat."""
    message: JSON = {
        "message_id": bot.next_message_id(chat_id),
        "from": bot.bot_user,
        "chat": bot.chat(chat_id),
        "date": now(),
        **content,
    }
    markup = _inline_keyboard(req.params.get("reply_markup"))
    if markup is not None:
        message["reply_markup"] = markup
    reply = req.params.get("reply_parameters")
    reply_to = reply.get("message_id") if isinstance(reply, dict) else None
    replied = bot.messages.get((chat_id, reply_to)) if isinstance(reply_to, int) else None
    if replied is not None:
        message["reply_to_message"] = {
            key: value for key, value in replied.items() if key != "reply_to_message"
        }
    for key in ("link_preview_options", "show_caption_above_media"):
        if key in req.params:
            message[key] = req.params[key]
    bot.store(message)
    return message


def send_message(bot: BotState, req: Request) -> JSON:
    """SendMessage."""
    chat_id = chat_id_of(req.params)
    return _new_message(bot, req, chat_id, text_content(req.params, caption=False))


def _media(bot: BotState, req: Request, kind: str) -> Any:
    """The Photo or Document for an upload (attach://name) or a file id the fake handed out."""
    ref = req.params.get(kind)
    if not isinstance(ref, str) or not ref:
        raise bad_request(f"there is no {kind} in the request")
    if ref in bot.media:
        # Re-sending a file id hands back the same object, as Telegram does.
        return copy.deepcopy(bot.media[ref])
    if not ref.startswith("attach://"):
        raise bad_request("wrong file identifier/HTTP URL specified")
    name = ref.removeprefix("attach://")
    if name not in req.files:
        raise bad_request(f"file {name} not found in the request")
    content = req.files[name]
    if kind == "photo":
        return bot.photo_sizes(content)
    return bot.document(content, req.filenames.get(name), "application/octet-stream")


def send_photo(bot: BotState, req: Request) -> JSON:
    """SendPhoto: an upload or a file id, with an optional caption."""
    chat_id = chat_id_of(req.params)
    content = text_content(req.params, caption=True)
    content["photo"] = _media(bot, req, "photo")
    return _new_message(bot, req, chat_id, content)


def send_document(bot: BotState, req: Request) -> JSON:
    """SendDocument: an upload or a file id, with an optional caption."""
    chat_id = chat_id_of(req.params)
    content = text_content(req.params, caption=True)
    content["document"] = _media(bot, req, "document")
    return _new_message(bot, req, chat_id, content)


def edit_message_text(bot: BotState, req: Request) -> JSON:
    """EditMessageText: the bot's own text message, changed in what the user sees."""
    content = text_content(req.params, caption=False)
    chat_id = chat_id_of(req.params)
    message_id = req.params.get("message_id")
    if not isinstance(message_id, int):
        raise bad_request("message identifier is not specified")
    old = bot.messages.get((chat_id, message_id))
    if old is None:
        # Unknown ids are accepted so tap_data tests need no setup; use fail_next for errors.
        old = {
            "message_id": message_id,
            "from": bot.bot_user,
            "chat": bot.chat(chat_id),
            "date": now(),
        }
    elif old.get("from", {}).get("id") != bot.bot_id:
        raise bad_request("message can't be edited")
    if "text" not in old and ("photo" in old or "document" in old):
        raise bad_request("there is no text in the message to edit")
    new = {key: value for key, value in old.items() if key not in ("text", "entities")}
    new.update(content)
    if "link_preview_options" in req.params:
        new["link_preview_options"] = req.params["link_preview_options"]
    # Telegram drops the inline keyboard unless the edit sends one again.
    new.pop("reply_markup", None)
    markup = _inline_keyboard(req.params.get("reply_markup"))
    if markup is not None:
        new["reply_markup"] = markup
    if _visible(old) == _visible(new):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    new["edit_date"] = now()
    bot.store(new)
    return new


def _visible(message: JSON) -> JSON:
    """What the user sees of a message, to refuse edits that change nothing."""
    return {key: message[key] for key in _VISIBLE if key in message}


def answer_callback_query(bot: BotState, req: Request) -> bool:
    """AnswerCallbackQuery, refused for ids no update carried (Telegram's late answer too)."""
    if req.params.get("callback_query_id") not in bot.callback_ids:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    return True
