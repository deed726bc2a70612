"""Prometheus metrics of one server process, in their own registry (so tests can build many apps).

Under ``--workers N`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` (a temp dir it creates and removes)
before the workers start: prometheus_client then keeps every worker's values in files there, and a scrape,
whichever worker answers it, reports the sum over all workers (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   120.0, 300.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """Requests by decision and reason code, key fetches, key cache age, upstream latency, reloads."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self._age: Callable[[], float] | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("jwtgate_requests", "Requests by decision (allow, deny, error) and reason code",
                                ["decision", "reason"], registry=r)
        self.key_fetches = Counter("jwtgate_key_fetches", "Key set fetches by outcome (ok, failed)", ["outcome"],
                                   registry=r)
        self.key_cache_age = Gauge("jwtgate_key_cache_age_seconds", "Age of the oldest key set in use", registry=r,
                                   multiprocess_mode="max")
        self.upstream_latency = Histogram("jwtgate_upstream_latency_seconds",
                                          "Time to the upstream's response headers", buckets=LATENCY_BUCKETS,
                                          registry=r)
        self.upstream_errors = Counter("jwtgate_upstream_errors", "Upstream failures by reason code", ["reason"],
                                       registry=r)
        self.reloads = Counter("jwtgate_config_reloads", "Config reloads by outcome (ok, rejected, failed)",
                               ["outcome"], registry=r)
        self.shadow = Counter("jwtgate_shadow_decisions", "Requests decided by the enforced and the shadow config, "
                              "by outcome pair (allow, deny)", ["enforced", "shadow"], registry=r)
        self._request_children: dict[tuple[str, str], Callable[[], None]] = {}
        self._shadow_children: dict[tuple[bool, bool], Callable[[], None]] = {}

    def count_request(self, decision: str, reason: str) -> None:
        """One finished request; the labelled child is cached (labels() costs a lock and a dict build)."""
        inc = self._request_children.get((decision, reason))
        if inc is None:
            inc = self.requests.labels(decision, reason).inc
            self._request_children[(decision, reason)] = inc
        inc()

    def count_shadow(self, enforced: bool, shadow: bool) -> None:
        """One request decided by both configs."""
        inc = self._shadow_children.get((enforced, shadow))
        if inc is None:
            inc = self.shadow.labels("allow" if enforced else "deny", "allow" if shadow else "deny").inc
            self._shadow_children[(enforced, shadow)] = inc
        inc()

    def watch_key_cache_age(self, age: Callable[[], float]) -> None:
        """Report the key cache age from a callable read at scrape time (with workers: the oldest a
        worker reported at its last scrape)."""
        if self.multiprocess:
            self._age = age
        else:
            self.key_cache_age.set_function(age)

    def render(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        if self._age is not None:
            self.key_cache_age.set(self._age())
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
