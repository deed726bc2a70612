"""SIGHUP: re-read and re-lint the config off the event loop, then swap it in one assignment.

A config with lint errors (or one that cannot be read) is refused and the running one stays. On a swap
the old authenticator's verified-token cache is cleared, so no token outlives the config it passed.
"""

from __future__ import annotations

import asyncio

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
