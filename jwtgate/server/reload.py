"""Reload: re-read and re-lint the config off the event loop, then swap it in one assignment.

On SIGHUP, and (``jwtgate.serve.reload_interval``) when a poll of the config and key files sees one changed.

A config with lint errors (or one that cannot be read) is refused and the running one stays. On a swap
the old authenticator's verified-token cache is cleared, so no token outlives the config it passed.
"""

from __future__ import annotations

import asyncio
import os

from jwtgate.errors import JwtgateError
from jwtgate.server.state import AppState, ConfigRejected


async def reload(state: AppState) -> bool:
    """Load, lint and build the new Gate; True when it replaced the running one."""
    if state.loader is None:
        state.events.warning("reload requested but this server has no config loader")
        return False
    log = state.events
    try:
        gate = await asyncio.get_running_loop().run_in_executor(None, state.loader)
    except ConfigRejected as rejected:
        for f in rejected.findings:
            log.error("reload refused: %s: %s %s: %s", f.location, f.code, f.severity, f.message)
        log.error("reload refused: the new config has %d error(s); keeping the running config",
                  len(rejected.findings))
        state.metrics.reloads.labels("rejected").inc()
        return False
    except JwtgateError as err:
        log.error("reload refused: %s [%s]; keeping the running config", err, err.code)
        state.metrics.reloads.labels("rejected").inc()
        return False
    except Exception:
        log.exception("reload failed; keeping the running config")
        state.metrics.reloads.labels("failed").inc()
        return False
    old = state.holder.swap(gate)
    old.authenticator.clear_cache()
    if old.aclose is not None:  # after in-flight requests had their chance to finish with the old keys
        close = old.aclose
        loop = asyncio.get_running_loop()
        loop.call_later(state.settings.shutdown_timeout, lambda: asyncio.ensure_future(close()))
    gate.authenticator.clear_cache()
    state.metrics.reloads.labels("ok").inc()
    log.info("config reloaded from %s (%d models)", gate.policy.file, len(gate.policy.models))
    return True


Signature = tuple[tuple[str, str, int, int, int] | None, ...]


def signature(files: tuple[str, ...]) -> Signature:
    """What identifies each file's content: its resolved path, inode, size and mtime (None: unreadable).

    The resolved path catches a Kubernetes ConfigMap update, which swaps the ``..data`` symlink to a new
    directory and never writes the old file; the inode and mtime catch an edit or an atomic rename.
    """
    out: list[tuple[str, str, int, int, int] | None] = []
    for name in files:
        try:
            st = os.stat(name)
            out.append((name, os.path.realpath(name), st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


async def watch(state: AppState, interval: float) -> None:
    """Every ``interval`` seconds, look at the running config's files; reload when one changed.

    A change is acted on once: a refused config is not retried until its files change again.
    """
    files = state.holder.gate.files
    seen = signature(files)
    while True:
        await asyncio.sleep(interval)
        now = signature(files)
        if now == seen:
            continue
        state.events.info("config or key file changed on disk; reloading")
        await reload(state)
        if state.holder.gate.files != files:  # the new config names other key files
            files = state.holder.gate.files
            now = signature(files)
        seen = now
