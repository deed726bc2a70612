"""``jwtgate jwks fetch|show`` through the kit's CLI runner, against a real loopback IdP and local key files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jwtgate.keys.disk_cache import entry_name
from tests.kit.cli import invoke
from tests.kit.idp import IdP, Route
from tests.kit.keys import ec_jwk, rsa_jwk


@pytest.fixture
def idp() -> Iterator[IdP]:
    server = IdP().start()
    yield server
    server.stop()


@pytest.fixture
def run(tmp_path: Path) -> Any:
    env = {"JWTGATE_CACHE_DIR": str(tmp_path / "cache"), "JWT_PUBLIC_KEY_URL": ""}

    def run_jwks(*args: str, **extra_env: str) -> Any:
        return invoke(args, env={**env, **extra_env})

    return run_jwks


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    keys = [rsa_jwk("good", alg="RS256", use="sig"), rsa_jwk("weak", bits=1024), ec_jwk("enc", use="enc")]
    path.write_text(json.dumps({"keys": [*keys, {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"}]}))
    return path


def test_show_local_file_explains_each_key(run: Any, jwks_file: Path) -> None:
    result = run("jwks", "show", str(jwks_file))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"{jwks_file} (local file)"
    row = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert row["good"].split()[1:5] == ["RSA", "RS256", "sig", "RSA"] and row["good"].rstrip().endswith("yes")
    assert "no: RSA key is 1024 bits; at least 2048 required" in row["weak"]
    assert "no: use is 'enc': an encryption key, not for signatures" in row["enc"]
    assert "no: symmetric keys are not accepted from a JWKS" in row["hs"]


def test_show_json_lists_usable_flags(run: Any, jwks_file: Path) -> None:
    result = run("jwks", "show", str(jwks_file), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    keys = doc["sources"][0]["keys"]
    assert [(k["kid"], k["usable"]) for k in keys] == [
        ("good", True),
        ("weak", False),
        ("enc", False),
        ("hs", False),
    ]
    assert keys[0]["detail"] == "RSA 2048" and len(keys[0]["thumbprint"]) == 43
    assert keys[3]["thumbprint"] is None and doc["warnings"] == []


def test_fetch_then_show_offline(run: Any, idp: IdP) -> None:
    idp.set_jwks("/certs", [rsa_jwk("k1", alg="RS256")], headers={"Cache-Control": "max-age=120"})
    fetched = run("jwks", "fetch", idp.url("/certs"))
    assert fetched.exit_code == 0, fetched.stderr
    heading = fetched.stdout.splitlines()[0]
    assert re.fullmatch(re.escape(idp.url("/certs")) + r" \(fetched \d+ s ago, expires in \d+ s\)", heading)
    assert "k1" in fetched.stdout and idp.count("/certs") == 1
    shown = run("jwks", "show", "--format", "json")
    assert shown.exit_code == 0
    source = json.loads(shown.stdout)["sources"][0]
    assert (source["source"], source["origin"], source["stale"]) == (idp.url("/certs"), "disk", False)
    assert [k["kid"] for k in source["keys"]] == ["k1"] and 0 < source["expires_in_seconds"] <= 120
    assert idp.count("/certs") == 1  # show never fetches


def test_fetch_discovery_from_config(run: Any, idp: IdP, tmp_path: Path) -> None:
    issuer = idp.url("/realms/acme")
    idp.routes["/realms/acme/.well-known/openid-configuration"] = Route().json(
        {"issuer": issuer, "jwks_uri": idp.url("/realms/acme/certs")}
    )
    idp.set_jwks("/realms/acme/certs", [ec_jwk("ec-1")])
    idp.set_jwks("/env-jwks", [rsa_jwk("env-1")])
    config = tmp_path / "config.yaml"
    config.write_text(
        "general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n"
        f"    issuers:\n      - issuer: {issuer}\n        audience: litellm\n"
    )
    result = run(
        "jwks", "fetch", "--config", str(config), "--format", "json", JWT_PUBLIC_KEY_URL=idp.url("/env-jwks")
    )
    assert result.exit_code == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert [(s["issuer"], [k["kid"] for k in s["keys"]]) for s in sources] == [
        (issuer, ["ec-1"]),
        (None, ["env-1"]),
    ]
    assert sources[0]["jwks_url"] == idp.url("/realms/acme/certs")


def test_fetch_failure_names_the_url_once_and_exits_1(run: Any, idp: IdP) -> None:
    idp.set_jwks("/good", [rsa_jwk("k1")])
    result = run("jwks", "fetch", idp.url("/missing"), idp.url("/good"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: JWKS {idp.url('/missing')} returned HTTP 404 Not Found [jwks.http_status]\n"
        "  hint: check the URL (for an issuer, its /.well-known/openid-configuration)\n"
    )
    assert "k1" in result.stdout  # the other source is still shown


NOT_JSON = "the URL must answer with the JWKS itself, as JSON (not a login or error page); check it with curl"
NOT_JWKS = 'expected {"keys": [...]} or a single JWK object'
FETCH_ERRORS = {  # route -> (how the IdP answers, the error naming {url} once, its code, its hint)
    "unreachable": (None, "cannot fetch JWKS {url}: [Errno 111] Connection refused", "jwks.unavailable",
                    "is the identity provider reachable from here?"),
    "bad-json": (Route(body=b"{nope"), "JWKS {url} is not valid JSON (Expecting property name enclosed in "
                 "double quotes: line 1 column 2 (char 1))", "jwks.invalid", NOT_JSON),
    "html-page": (Route(body=b"<html>sign in</html>"), "JWKS {url} is not valid JSON (Expecting value: line 1 "
                  "column 1 (char 0))", "jwks.invalid", NOT_JSON),
    "not-a-jwks": (Route(body=b'{"issuer": "x"}'), "JWKS {url}: not a JWKS (a JSON object without 'keys' or "
                   "'kty')", "jwks.invalid", NOT_JWKS),
    "a-list": (Route(body=b"[1]"), "JWKS {url}: not a JWKS (a JSON list)", "jwks.invalid", NOT_JWKS),
    "too-big": (Route(body=b'{"keys": []}' + b" " * 2048), "JWKS {url} is larger than 1024 bytes; refusing it",
                "jwks.too_large", "raise jwtgate.max_jwks_bytes if this is expected"),
    "too-big-unannounced": (Route(body=b'{"keys": []}' + b" " * 2048, no_length=True),
                            "JWKS {url} is larger than 1024 bytes; refusing it", "jwks.too_large",
                            "raise jwtgate.max_jwks_bytes if this is expected"),
    "timeout": (Route(hang=True), "JWKS {url} timed out after 0.3 s", "jwks.timeout",
                "is the identity provider reachable and answering? (jwtgate.fetch_timeout sets the limit)"),
    "server-error": (Route(status=502), "JWKS {url} returned HTTP 502 Bad Gateway", "jwks.http_status",
                     "the identity provider failed to answer; try again, or check its health and logs"),
}


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("case", list(FETCH_ERRORS))
def test_every_fetch_error_says_what_where_and_the_fix_once(run: Any, idp: IdP, tmp_path: Path, case: str,
                                                             fmt: str) -> None:
    route, message, code, hint = FETCH_ERRORS[case]
    url = idp.url("/jwks") if route is not None else "http://127.0.0.1:1/jwks"
    if route is not None:
        idp.routes["/jwks"] = route
    config = tmp_path / "limits.yaml"
    config.write_text("general_settings: {}\njwtgate: {fetch_timeout: 0.3, max_jwks_bytes: 1024}\n")
    result = run("jwks", "fetch", url, "--config", str(config), "--format", fmt)
    assert result.exit_code == 1
    expected = message.format(url=url)
    if fmt == "text":
        assert (result.stdout, result.stderr) == ("", f"error: {expected} [{code}]\n  hint: {hint}\n")
    else:
        (source,) = json.loads(result.stdout)["sources"]
        assert (source["source"], source["ok"], source["error"]) == (url, False, {"code": code, "message": expected,
                                                                                 "hint": hint})
        assert result.stderr == ""


def test_a_discovery_source_names_itself_and_the_jwks_it_points_to(run: Any, idp: IdP) -> None:
    discovery = idp.url("/.well-known/openid-configuration")
    idp.routes["/.well-known/openid-configuration"] = Route().json({"issuer": idp.base, "jwks_uri": idp.url("/gone")})
    result = run("jwks", "fetch", discovery)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {discovery}: JWKS {idp.url('/gone')} returned HTTP 404 Not Found [jwks.http_status]")


def test_fetch_json_reports_errors_per_source(run: Any, idp: IdP) -> None:
    idp.routes["/bad"] = Route(body=b"{nope")
    result = run("jwks", "fetch", idp.url("/bad"), "--format", "json")
    assert result.exit_code == 1
    source = json.loads(result.stdout)["sources"][0]
    assert source["ok"] is False and source["error"]["code"] == "jwks.invalid"


def test_show_uncached_source_exits_1_with_a_fix(run: Any) -> None:
    result = run("jwks", "show", "https://idp.example/jwks")
    assert result.exit_code == 1 and result.stdout == ""
    assert "no cached keys for https://idp.example/jwks" in result.stderr
    assert "jwtgate jwks fetch https://idp.example/jwks" in result.stderr


def test_a_source_error_prints_its_hint_as_every_command_does(run: Any) -> None:
    shown = run("jwks", "show", "https://idp.example/jwks").stderr.splitlines()
    assert shown[0].endswith("[jwks.not_cached]") and "hint" not in shown[0]
    assert shown[1] == "  hint: run 'jwtgate jwks fetch https://idp.example/jwks'"
    other = run("jwks", "fetch").stderr.splitlines()  # a usage error, printed by cli/errors.py
    assert other[1].startswith("  hint: ")


def test_show_warns_about_a_corrupt_cache_entry(run: Any, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / entry_name("https://idp.example/jwks")).write_text("garbage")
    result = run("jwks", "show", "https://idp.example/jwks")
    assert result.exit_code == 1
    assert "warning: cache entry" in result.stderr and "is corrupt" in result.stderr


def test_cache_dir_option_wins_over_env(run: Any, idp: IdP, tmp_path: Path) -> None:
    idp.set_jwks("/certs", [rsa_jwk("k1")])
    chosen = tmp_path / "chosen"
    assert run("jwks", "fetch", idp.url("/certs"), "--cache-dir", str(chosen)).exit_code == 0
    assert (chosen / entry_name(idp.url("/certs"))).is_file()
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("jwks", "fetch"), "error: no key source given", id="fetch-without-source"),
        pytest.param(
            ("jwks", "show", "x.json", "--format", "yaml"), "--format 'yaml' is not one of text, json", id="fmt"
        ),
        pytest.param(("jwks", "show", "missing.json"), "missing.json: no such key file", id="missing-file"),
        pytest.param(
            ("jwks", "fetch", "ftp://idp/jwks"), "only http(s) URLs and local files", id="ftp-scheme"
        ),
        pytest.param(
            ("jwks", "fetch", "--config", "nope.yaml"), "nope.yaml: no such file", id="missing-config"
        ),
    ],
)
def test_usage_errors_exit_2(run: Any, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr


def test_show_with_empty_cache(run: Any) -> None:
    result = run("jwks", "show")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no cached key sets in" in result.stderr


def test_show_empty_key_file_exits_2_naming_the_path_once(run: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    result = run("jwks", "show", str(empty))
    assert result.exit_code == 2
    assert result.stderr == f"error: {empty}: is empty; pass a JWKS JSON or PEM file [jwks.invalid]\n"


def test_show_garbage_key_file_exits_2(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    result = run("jwks", "show", str(bad))
    assert result.exit_code == 2
    assert result.stderr.count(str(bad)) == 1


@pytest.mark.parametrize("columns", ["40", "80"])
def test_show_never_wraps_kids_or_thumbprints_when_piped(run: Any, tmp_path: Path, columns: str) -> None:
    path = tmp_path / "long.json"
    keys = [rsa_jwk("a-rather-long-key-identifier-2026-rotation", alg="RS256", use="sig"), rsa_jwk("weak", bits=1024)]
    path.write_text(json.dumps({"keys": keys}))
    doc = json.loads(run("jwks", "show", str(path), "--format", "json").stdout)
    result = run("jwks", "show", str(path), COLUMNS=columns)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for key in doc["sources"][0]["keys"]:
        assert any(key["kid"] in line and key["thumbprint"] in line for line in lines), key["kid"]
