"""A plain wheel ships every module and message, and starts the bot outside the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LOCALES, Localizer
from tests.conftest import ROOT

PACKAGES = ("bot", "handlers", "locales")
PREFIXES = tuple(f"{package}/" for package in PACKAGES)
TOKEN_LINE = (
    "configuration error: TELEGRAM_BOT_TOKEN is not set: set it to the token @BotFather "
    "gave you (looks like 123456:ABC-DEF…)"
)


def shipped_files() -> set[str]:
    """Every module and message file the source tree holds, as paths inside a wheel."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in (".py", ".ftl") and "__pycache__" not in path.parts:
                found.add(path.relative_to(ROOT).as_posix())
    return found


def pip(*args: str | Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *map(str, args)],
        check=True, timeout=180,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from a copy of the tree (no stale build/ folder in it)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = tmp_path_factory.mktemp("dist")
    # Offline: the environment's own setuptools builds it, and nothing else is fetched.
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", dist, source)
    (built,) = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def target(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed (not editable) into a folder of its own, bytecode left unwritten."""
    installed = tmp_path_factory.mktemp("target")
    pip("install", "--no-deps", "--no-index", "--no-compile", "--target", installed, wheel)
    return installed


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no source tree, .env or campaign file around it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def run_installed(command: list[str], target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with nothing but the installed folder on the path; checks it was imported."""
    cache = target / "bot" / "__pycache__"
    shutil.rmtree(cache, ignore_errors=True)
    # The installed folder first: the editable install of the source tree comes after it.
    result = subprocess.run(
        command, cwd=cwd, env={"PYTHONPATH": str(target)}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert any(cache.glob("__init__.*.pyc")), "the installed bot package was not the one imported"
    return result


def test_wheel_lists_every_module_and_every_message_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if name.startswith(PREFIXES)}
    assert names == shipped_files()
    assert {"bot/__main__.py", "locales/en/common.ftl", "locales/fr/common.ftl"} <= names


def test_installed_copy_is_the_one_imported_and_finds_its_messages(
    target: Path, elsewhere: Path
) -> None:
    probe = (
        "import json, bot, handlers, locales\n"
        "from bot.i18n import SUPPORTED_LOCALES, Localizer\n"
        "messages = Localizer()\n"
        "print(json.dumps({'files': [bot.__file__, handlers.__file__, locales.__file__],\n"
        "    'ids': {loc: sorted(messages.message_ids(loc)) for loc in SUPPORTED_LOCALES}}))\n"
    )
    result = run_installed([sys.executable, "-c", probe], target, elsewhere)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert all(Path(file).is_relative_to(target) for file in found["files"]), found["files"]
    source = Localizer()
    assert found["ids"] == {loc: sorted(source.message_ids(loc)) for loc in SUPPORTED_LOCALES}


@pytest.mark.parametrize("entry", ["python -m bot", "campaign-bot"])
def test_installed_bot_starts_outside_the_tree_and_stops_on_missing_configuration(
    entry: str, target: Path, elsewhere: Path
) -> None:
    command = (
        [sys.executable, "-m", "bot"] if entry == "python -m bot"
        else [str(target / "bin" / "campaign-bot")]
    )
    result = run_installed(command, target, elsewhere)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == TOKEN_LINE
    # One line per problem and nothing else: no traceback, nothing on stdout.
    assert all(line.startswith("configuration error: ") for line in lines), result.stderr
    assert result.stdout == ""
