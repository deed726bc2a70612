"""The on-disk JWKS cache: one JSON file per source (name = sha256 of the source), written atomically.

A corrupt or unreadable entry is never fatal: it is reported as a warning and treated as absent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CACHE_VERSION = 1


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What was last fetched for one source."""

    source: str
    jwks_url: str
    fetched_at: float
    expires_at: float
    jwks: dict[str, Any]
    etag: str | None = None
    last_modified: str | None = None
    issuer: str | None = None  # from the discovery document, when there was one
    discovered_at: float | None = None

    def to_json(self) -> str:
        return json.dumps({"version": CACHE_VERSION, **asdict(self)}, indent=1, sort_keys=True)


def default_cache_dir(env: Mapping[str, str], home: Path) -> Path:
    """``$JWTGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/jwtgate``, else ``~/.cache/jwtgate``."""
    if env.get("JWTGATE_CACHE_DIR"):
        return Path(env["JWTGATE_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME")
    return (Path(base) if base and os.path.isabs(base) else home / ".cache") / "jwtgate"


def entry_name(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest() + ".json"


def parse_entry(text: str) -> CacheEntry:
    """Cache file text -> CacheEntry; ValueError/KeyError/TypeError on anything unexpected."""
    raw = json.loads(text)
    if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
        raise ValueError("unknown cache format")
    entry = CacheEntry(
        source=str(raw["source"]),
        jwks_url=str(raw["jwks_url"]),
        fetched_at=float(raw["fetched_at"]),
        expires_at=float(raw["expires_at"]),
        jwks=raw["jwks"],
        etag=_opt_str(raw.get("etag")),
        last_modified=_opt_str(raw.get("last_modified")),
        issuer=_opt_str(raw.get("issuer")),
        discovered_at=None if raw.get("discovered_at") is None else float(raw["discovered_at"]),
    )
    if not isinstance(entry.jwks, dict):
        raise ValueError("'jwks' is not an object")
    return entry


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("expected a string")


class DiskCache:
    """Reads and writes entries under one directory; ``None`` disables the disk (memory only)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def path_for(self, source: str) -> Path | None:
        return None if self.directory is None else self.directory / entry_name(source)

    def load(self, source: str, warnings: list[str]) -> CacheEntry | None:
        """The entry for a source; a corrupt one adds a warning and counts as absent."""
        path = self.path_for(source)
        if path is None:
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"cache entry {path} for {source} is unreadable ({exc}); refetching")
            return None
        return self._parse(text, path, source, warnings)

    def _parse(self, text: str, path: Path, source: str, warnings: list[str]) -> CacheEntry | None:
        try:
            entry = parse_entry(text)
        except (ValueError, KeyError, TypeError) as exc:
            warnings.append(f"cache entry {path} for {source} is corrupt ({exc}); ignoring it")
            return None
        if entry.source != source:
            warnings.append(f"cache entry {path} belongs to {entry.source}, not {source}; ignoring it")
            return None
        return entry

    def save(self, entry: CacheEntry, warnings: list[str]) -> None:
        """Write atomically (temp file + os.replace); a failure is a warning, never an error."""
        import tempfile

        path = self.path_for(entry.source)
        if path is None:
            return
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(entry.to_json())
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            warnings.append(
                f"cannot write cache entry {path} ({exc.strerror or exc}); keys kept in memory only"
            )
        finally:
            if tmp is not None:
                _unlink_quietly(tmp)

    def all_entries(self, warnings: list[str]) -> list[CacheEntry]:
        """Every readable entry in the directory (for ``jwks show`` without sources)."""
        if self.directory is None or not self.directory.is_dir():
            return []
        entries: list[CacheEntry] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                entry = parse_entry(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                warnings.append(f"cache entry {path} is corrupt ({exc}); ignoring it")
                continue
            entries.append(entry)
        return entries


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
