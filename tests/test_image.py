"""The image as far as it can be checked without a container engine: the Dockerfile's two
stages, the build context .dockerignore lets through, the final stage's working directory, and
the compose file with its proxy in front of the bot's replicas."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.campaign import load_campaign
from tests.conftest import ROOT

# What a careless build context would carry: secrets, the local venv and ledger, tests, caches.
LEFT_OUT = (
    ".env",
    "bot/.env",
    ".venv/bin/python",
    ".git/HEAD",
    "data/appendonlydir/appendonly.aof.1.incr.aof",
    "tests/conftest.py",
    "bench/__main__.py",
    "bot/__pycache__/app.cpython-312.pyc",
    ".mypy_cache/3.11/bot/app.data.json",
    "calais_campaign_bot.egg-info/PKG-INFO",
)
# Docker's glob pieces, as regular expressions over '/'-separated paths.
GLOB_PIECES = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, its continuation lines joined."""

    keyword: str
    arguments: str

    @property
    def words(self) -> list[str]:
        return self.arguments.split()


def dockerfile_stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions, one list per stage (each FROM opens one)."""
    # Docker drops comment lines before it joins continuations, so a comment cannot end a RUN.
    lines = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    stages: list[list[Instruction]] = []
    for line in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines():
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        if keyword and stages:
            stages[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return stages


def instructions(stage: list[Instruction], keyword: str) -> list[Instruction]:
    return [instruction for instruction in stage if instruction.keyword == keyword]


def environment(stage: list[Instruction]) -> dict[str, str]:
    """Every NAME=value the stage's ENV instructions set."""
    pairs = (word.split("=", 1) for env in instructions(stage, "ENV") for word in env.words)
    return dict(pair for pair in pairs if len(pair) == 2)


def context_copies(stage: list[Instruction]) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY that reads the build context, not another stage."""
    copies = []
    for copy in instructions(stage, "COPY"):
        if not any(word.startswith("--from=") for word in copy.words):
            *sources, destination = copy.words
            copies.append((sources, destination))
    return copies


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(re-includes, pattern) per .dockerignore line, in order."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = posixpath.normpath(line.removeprefix("!").lstrip("/"))
        pieces = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
        regex = "".join(GLOB_PIECES.get(piece, re.escape(piece)) for piece in pieces)
        rules.append((include, re.compile(regex)))
    return rules


def sent_to_builder(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last line matching the path or one of its parent folders decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    sent = True
    for include, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            sent = include
    return sent


def files_under(source: str) -> list[str]:
    """The tree's files a COPY of `source` takes, as context-relative paths."""
    path = ROOT / source
    found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return [p.relative_to(ROOT).as_posix() for p in found if "__pycache__" not in p.parts]


def test_build_context_leaves_out_secrets_local_state_tests_and_caches() -> None:
    rules = dockerignore_rules()
    assert [path for path in LEFT_OUT if sent_to_builder(path, rules)] == []


def test_build_context_holds_every_file_the_dockerfile_copies() -> None:
    rules = dockerignore_rules()
    sources = [source for stage in dockerfile_stages() for copied, _ in context_copies(stage)
               for source in copied]
    assert {"uv.lock", "pyproject.toml", "bot", "locales", "campaign.toml"} <= set(sources)
    for source in sources:
        files = files_under(source)
        assert files, f"COPY {source}: no such file in the tree"
        assert [file for file in files if not sent_to_builder(file, rules)] == [], source


def test_both_stages_start_from_the_python_image_build_argument() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.12-slim$", text, re.MULTILINE)
    stages = dockerfile_stages()
    assert len(stages) == 2
    assert [stage[0].words[0] for stage in stages] == ["${PYTHON_IMAGE}"] * 2


def test_build_stage_installs_the_lock_with_the_makefiles_uv_then_the_project_as_a_wheel() -> None:
    build = dockerfile_stages()[0]
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile_uv
    args = [arg.arguments for arg in instructions(build, "ARG")]
    assert f"UV_VERSION={makefile_uv.group(1)}" in args

    def role(step: Instruction) -> str:
        copied = {source for sources, _ in context_copies([step]) for source in sources}
        return "lock" if "uv.lock" in copied else "code" if "bot" in copied else step.arguments

    steps = [role(step) for step in build if step.keyword in ("COPY", "RUN")]
    syncs = [step for step in steps if step.startswith("uv sync")]
    assert len(syncs) == 2
    assert all("--locked" in sync and "--no-dev" in sync for sync in syncs)
    assert not any("--extra" in sync or "--all-extras" in sync for sync in syncs)
    # The dependencies' layer comes before the code, so a code change keeps it cached.
    order = [steps.index(step) for step in ("lock", syncs[0], "code", syncs[1])]
    assert order == sorted(order)
    assert "--no-install-project" in syncs[0]
    assert "--no-editable" in syncs[1]
    assert environment(build)["UV_PROJECT_ENVIRONMENT"] == "/opt/venv"


def test_final_stage_runs_the_console_script_as_non_root_from_the_built_venv_alone() -> None:
    final = dockerfile_stages()[-1]
    from_stages = [
        copy.words for copy in instructions(final, "COPY")
        if any(word.startswith("--from=") for word in copy.words)
    ]
    assert from_stages == [["--from=build", "/opt/venv", "/opt/venv"]]
    runs = " ".join(run.arguments for run in instructions(final, "RUN"))
    assert not re.search(r"\b(pip|uv|apt-get|gcc)\b", runs), runs
    user = instructions(final, "USER")[-1].arguments
    assert user not in ("root", "0")
    assert re.search(rf"useradd [^&]*--uid 10001 [^&]*\b{user}\b", runs), runs
    assert instructions(final, "CMD")[-1].arguments == '["campaign-bot"]'
    env = environment(final)
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert env["DATA_DIR"] == "/data"
    assert instructions(final, "VOLUME")[-1].arguments == '["/data"]'
    assert instructions(final, "EXPOSE")[-1].arguments == "8080"
    assert "/healthz" in instructions(final, "HEALTHCHECK")[-1].arguments


def test_matplotlib_home_is_owned_by_the_bots_user_and_filled_at_build_time() -> None:
    final = dockerfile_stages()[-1]
    home = environment(final)["MPLCONFIGDIR"]
    user = instructions(final, "USER")[-1].arguments
    runs = [run.arguments for run in instructions(final, "RUN")]
    assert any(f"chown {user} " in run and home in run for run in runs), runs
    # The font list is written by the bot's own user, after USER, into that folder.
    after_user = final[final.index(instructions(final, "USER")[-1]):]
    runs_as_user = [run.arguments for run in instructions(after_user, "RUN")]
    assert any("matplotlib.font_manager" in run for run in runs_as_user)


def test_final_working_directory_holds_the_campaign_file_and_the_photo_it_names(
    tmp_path: Path,
) -> None:
    final = dockerfile_stages()[-1]
    assert instructions(final, "WORKDIR")[-1].arguments == "/app"
    for sources, destination in context_copies(final):
        target = tmp_path / destination
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, target)
    # CAMPAIGN_FILE's default is relative to the working directory, and the photo to the file.
    campaign = load_campaign(tmp_path / "campaign.toml")
    assert campaign.photo is not None
    assert campaign.photo.is_relative_to(tmp_path)



def yaml_scalar(text: str) -> Any:
    """A scalar or flow sequence as the compose file writes them: plain, quoted, or JSON-like."""
    if text[:1] in ('"', "["):
        return json.loads(text)
    return text[1:-1] if text[:1] == "'" else text


def yaml_block(lines: list[tuple[int, str]], start: int) -> tuple[Any, int]:
    """The mapping or sequence whose first line is lines[start], and the index after it."""
    indent, first = lines[start]
    items: list[Any] = []
    mapping: dict[str, Any] = {}
    index = start
    while index < len(lines) and lines[index][0] == indent:
        text = lines[index][1]
        index += 1
        if first.startswith("- "):
            assert text.startswith("- "), f"a mapping inside a sequence: {text}"
            items.append(yaml_scalar(text[2:].strip()))
            continue
        key, colon, value = text.partition(":")
        assert colon and not text.startswith("- "), f"not `key: value`: {text}"
        if value.strip():
            mapping[key] = yaml_scalar(value.strip())
        elif index < len(lines) and lines[index][0] > indent:
            mapping[key], index = yaml_block(lines, index)
        else:
            mapping[key] = None
    assert index == len(lines) or lines[index][0] < indent, f"indentation: {lines[index][1]}"
    return (items if first.startswith("- ") else mapping), index


def compose_file() -> dict[str, Any]:
    """docker-compose.yml in the block style it is written in (PyYAML is not a dependency)."""
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in (ROOT / "docker-compose.yml").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not any(" #" in text for _, text in lines), "comments on their own lines only"
    compose, _ = yaml_block(lines, 0)
    assert isinstance(compose, dict)
    return compose


@dataclass
class Directive:
    """One nginx directive, its arguments, and the directives of its block if it opens one."""

    name: str
    args: list[str]
    block: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [directive for directive in self.block if directive.name == name]

    def one(self, name: str) -> Directive:
        (directive,) = self.all(name)
        return directive


def nginx_config(path: Path) -> Directive:
    """An nginx configuration file as a tree of directives (no quoted strings in it)."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    root = Directive("", [])
    stack: list[Directive] = [root]
    words: list[str] = []
    for token in re.findall(r"[{};]|[^\s{};]+", text):
        if token in ("{", ";"):
            directive = Directive(words[0], words[1:])
            stack[-1].block.append(directive)
            if token == "{":
                stack.append(directive)
            words = []
        elif token == "}":
            assert not words, f"no `;` after {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces"
    return root


def test_the_bot_service_scales_behind_a_proxy_that_alone_publishes_a_port() -> None:
    services = compose_file()["services"]
    bot, proxy = services["bot"], services["proxy"]
    # Three replicas cannot bind one host port, nor share one container name.
    assert "ports" not in bot and "container_name" not in bot
    assert [name for name, service in services.items() if "ports" in service] == ["proxy"]
    # The address the single bot had, so an HTTPS proxy on the host needs no change.
    assert proxy["ports"] == ["127.0.0.1:8080:8080"]
    # An official image: no registry and no namespace before its name.
    assert proxy["image"] == "nginx:alpine"
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["environment"]["HTTP_HOST"] == "0.0.0.0"
    assert bot["depends_on"] == {"redis": {"condition": "service_healthy"}}
    (mount,) = proxy["volumes"]
    source, target, mode = mount.split(":")
    assert (ROOT / source).is_file()
    # The image's http block includes conf.d: the file replaces its default server.
    assert (target, mode) == ("/etc/nginx/conf.d/default.conf", "ro")


def test_one_valkey_keeps_the_ledger_with_an_fsync_on_every_write() -> None:
    services = compose_file()["services"]
    stores = [name for name, service in services.items() if "valkey" in service.get("image", "")]
    assert stores == ["redis"]
    command = services["redis"]["command"]
    pairs = dict(zip(command[1::2], command[2::2], strict=True))
    assert (pairs["--appendonly"], pairs["--appendfsync"]) == ("yes", "always")


def test_nginx_spreads_requests_over_every_replica_docker_dns_names() -> None:
    services = compose_file()["services"]
    proxy = services["proxy"]
    source = proxy["volumes"][0].split(":")[0]
    config = nginx_config(ROOT / source)
    # Docker's embedded DNS, asked again every few seconds instead of once at start.
    (resolver,) = config.all("resolver")
    assert resolver.args[0] == "127.0.0.11"
    assert int(resolver.args[1].removeprefix("valid=").removesuffix("s")) <= 10
    (upstream,) = config.all("upstream")
    assert upstream.one("zone").args[0] == upstream.args[0]
    (server,) = upstream.all("server")
    host, _, port = server.args[0].partition(":")
    assert host in services and "build" in services[host]
    assert port == services[host]["environment"]["HTTP_PORT"]
    # Every replica the name resolves to, kept current; one that fails is left out a while.
    assert "resolve" in server.args
    assert any(arg.startswith("fail_timeout=") for arg in server.args)

    site = config.one("server")
    published = proxy["ports"][0].rsplit(":", 1)[1]
    assert site.one("listen").args == [published]
    location = site.one("location")
    assert location.one("proxy_pass").args == [f"http://{upstream.args[0]}"]
    # A request that reached a replica is never sent to a second one: Telegram's and Stripe's
    # POSTs are retried by their senders, and the bot handles a retry once.
    assert "non_idempotent" not in location.one("proxy_next_upstream").args
    # The bot tells a proxied /metrics request from a direct one by this header.
    forwarded = [directive.args for directive in location.all("proxy_set_header")]
    assert ["X-Forwarded-For", "$proxy_add_x_forwarded_for"] in forwarded
    health = " ".join(proxy["healthcheck"]["test"])
    assert f"http://127.0.0.1:{published}/healthz" in health
