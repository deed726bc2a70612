"""Process management for ``jwtgate serve``: the listening socket, the HTTP server, logging, GC tuning,
and with ``--workers N`` (N > 1) a supervisor of N processes sharing that socket.

Like uvicorn's own supervisor, but each worker builds its state from the config itself (``server/wiring.py``)
and SIGHUP is passed on to every worker, so each re-reads the config and keeps its running one when the new
one has errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jwtgate.errors import JwtgateError, UsageError
from jwtgate.model import ServeSettings
from jwtgate.server.http_connection import Limits
from jwtgate.server.http_server import Server, StartupFailed
from jwtgate.server.metrics import MULTIPROC_ENV
from jwtgate.server.state import AccessLog, ConfigRejected
from jwtgate.server.wiring import ServeOptions, build_state

if TYPE_CHECKING:
    from jwtgate.server.app import JwtgateApp


def configure_logging() -> None:
    """JSON access lines and server events on stderr, one per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("jwtgate.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    access.propagate = False
    events = logging.getLogger("jwtgate.server")
    events_handler = logging.StreamHandler(sys.stderr)
    events_handler.setFormatter(logging.Formatter("jwtgate: %(levelname)s %(message)s"))
    events.handlers[:] = [events_handler]
    events.setLevel(logging.INFO)
    events.propagate = False


def listen(settings: ServeSettings) -> socket.socket:
    """The listening socket (port 0 = any free port; the bound one is announced)."""
    try:
        sock = socket.create_server((settings.host, settings.port), backlog=2048)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UsageError(f"cannot listen on {settings.host}:{settings.port} ({reason})",
                         hint="choose another --port or --host") from None
    sock.set_inheritable(True)
    return sock


def run_worker(opts: ServeOptions, env: Mapping[str, str], sock: socket.socket | None = None,
               announce: Callable[[str], None] | None = None) -> None:
    """One server process: build the state, serve on jwtgate's HTTP server (uvloop) until SIGTERM/SIGINT."""
    import uvloop

    from jwtgate.server.app import create_app

    configure_logging()
    state, _ = build_state(opts, env, access_stream=sys.stderr, batch_log=True)
    if sock is None:
        sock = listen(state.settings)
    if announce is not None:
        host, port = sock.getsockname()[:2]
        announce(f"listening on http://{host}:{port}")
    server = http_server(create_app(state), state.settings)
    tune_gc()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(server.serve(sock))
    except StartupFailed as err:
        raise UsageError(f"the gateway could not start: {err}") from None
    finally:
        if isinstance(state.access_log, AccessLog):
            state.access_log.flush()


def http_server(app: JwtgateApp, settings: ServeSettings) -> Server:
    """jwtgate's HTTP server for ``app`` with the timeouts of ``jwtgate.serve``; the requests it answers itself
    go to the app's access log and metrics."""
    limits = Limits(settings.header_timeout, settings.body_timeout, settings.keepalive_timeout)
    return Server(app, limits, shutdown_timeout=settings.shutdown_timeout, log=logging.getLogger("jwtgate.server"),
                  on_refusal=app.connection_refused)


GC_THRESHOLD = (7000, 20, 20)


def tune_gc() -> None:
    """Freeze what start-up built (modules, config, keys) out of the collector's scans and collect the
    young generation less often: the request path allocates much and keeps little, and full collections
    otherwise walk every module jwtgate imported. About -25 µs per request at 64 connections (README
    "Performance"); garbage cycles are still collected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def _worker_main(opts: ServeOptions, env: dict[str, str], sock: socket.socket) -> None:
    try:
        run_worker(opts, env, sock)
    except (JwtgateError, ConfigRejected) as err:
        print(f"jwtgate: worker {os.getpid()} cannot start: {err}", file=sys.stderr)
        sys.exit(2)


def supervise(opts: ServeOptions, env: Mapping[str, str], settings: ServeSettings,
              announce: Callable[[str], None]) -> int:
    """Run ``settings.workers`` processes on one socket; pass SIGHUP on; stop them on SIGTERM/SIGINT."""
    import multiprocessing

    sock = listen(settings)
    announce(f"listening on http://{settings.host}:{sock.getsockname()[1]} with {settings.workers} workers")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker_main, args=(opts, dict(env), sock), daemon=False)
             for _ in range(settings.workers)]
    with _shared_metrics_dir():
        for p in procs:
            p.start()
        stopping = _install_forwarders(procs)
        for p in procs:
            while p.is_alive():
                p.join(0.5)
                if stopping() and not p.is_alive():
                    break
    sock.close()
    return max((p.exitcode or 0) for p in procs) if not stopping() else 0


@contextlib.contextmanager
def _shared_metrics_dir() -> Iterator[None]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the workers (they inherit it): a temp dir, removed at the end.
    One the user set is used as it is and left in place."""
    if os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="jwtgate-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def _install_forwarders(procs: list[Any]) -> Callable[[], bool]:
    state = {"stopping": False}

    def forward(signum: int, _frame: Any) -> None:
        if signum != signal.SIGHUP:
            state["stopping"] = True
        for p in procs:
            if p.pid is not None and p.is_alive():
                os.kill(p.pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    return lambda: state["stopping"]
