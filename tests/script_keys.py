"""The keys Lua scripts touch without being given them in KEYS, as MONITOR shows them.

Redis needs every key a script touches in KEYS to route it (cluster, proxies); nothing checks
that on a single server, so the tests watch what the scripts' own commands name.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis


async def undeclared_keys(redis: Redis, action: Callable[[], Awaitable[object]]) -> set[str]:
    """Run `action`; the keys its scripts' commands named that none of its EVALSHA passed."""
    marker = f"undeclared-keys-{secrets.token_hex(4)}"
    declared: set[str] = set()
    named: set[str] = set()
    async with redis.monitor() as monitor:
        await action()
        await redis.echo(marker)
        while True:
            seen = await monitor.next_command()
            words = seen["command"].split()
            if words[:2] == ["ECHO", marker]:
                return named - declared
            if seen["client_type"] == "lua" and len(words) > 1:
                # Every command the scripts here use names its one key first.
                named.add(words[1])
            elif words and words[0].upper() == "EVALSHA":
                # Keys come before the arguments, and none holds a space.
                declared.update(words[3 : 3 + int(words[2])])
