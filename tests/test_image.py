"""The image as far as it can be checked without a container engine: the Dockerfile's two
stages, the build context .dockerignore lets through, and the final stage's working directory."""

from __future__ import annotations

import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

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

