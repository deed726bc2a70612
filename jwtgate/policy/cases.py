"""``jwtgate test``: table-driven policy tests. Load YAML case files, run each case through decide().

A test file::

    config: ../keycloak.yaml        # optional, relative to the test file (``--config`` overrides)
    jwks: ../../sample_tokens/jwks.json   # optional key source for token cases
    cases:
      - name: users may use the small model
        claims: {resource_access: {litellm: {roles: [litellm-user]}}}   # or  token: path/to/file.jwt
        model: gpt-4o-mini           # and/or route (default /v1/chat/completions)
        expect: allow                # or deny
        reason: policy.model_not_allowed   # optional, the expected reason code
        role: internal_user          # optional, the expected gateway role
        now: 1700000000              # optional, the clock for token cases (epoch seconds)

Bad files raise UsageError with ``file:line``; running never raises for a failing case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwtgate.config.schema import TEST_FILE_KEYS, TOP_LEVEL_KNOWN
from jwtgate.config.yaml_text import did_you_mean, parse_yaml, plain, read_text
from jwtgate.errors import JwtgateError, UsageError
from jwtgate.model import Decision, Location, Policy, Request
from jwtgate.policy.routes import DEFAULT_ROUTE

CASE_KEYS = ("name", "claims", "token", "model", "route", "expect", "reason", "role", "now")


@dataclass(frozen=True, slots=True)
class TestCase:
    """One case of a test file."""

    __test__ = False  # not a pytest class

    name: str
    location: Location
    request: Request
    expect_allow: bool
    claims: Mapping[str, Any] | None = None
    token_file: str | None = None
    reason: str | None = None
    role: str | None = None
    now: float | None = None


@dataclass(frozen=True, slots=True)
class TestFile:
    """A parsed test file: its cases and the config / key files it names (resolved paths)."""

    __test__ = False

    path: str
    config: str | None
    keys: str | None
    cases: tuple[TestCase, ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case, the decision it got and what did not match (empty when it passed)."""

    case: TestCase
    config: str
    decision: Decision
    mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


# A token case: (policy, token text, key file, request, now) -> Decision (a refused token is a denial).
TokenDecider = Callable[[Policy, str, str | None, Request, float | None], Decision]


def _loc(file: str, node: Any, key: Any = None) -> Location:
    try:
        line, col = node.lc.key(key) if key is not None else (node.lc.line, node.lc.col)
        return Location(file, line + 1, col + 1)
    except Exception:
        return Location(file, 1, 1)


def _bad(loc: Location, message: str, hint: str | None = None) -> UsageError:
    return UsageError(message, code="test.invalid_file", location=loc, hint=hint)


def _check_keys(file: str, node: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in node:
        if key not in known:
            guess = did_you_mean(str(key), known)
            raise _bad(_loc(file, node, key), f"unknown key '{key}' in {where}",
                       f"did you mean '{guess}'?" if guess else f"known keys: {', '.join(known)}")


def _relative(base: str, value: Any, loc: Location, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(loc, f"'{what}' must be a file path")
    return str(Path(base).parent / value) if not Path(value).is_absolute() else value


def load_test_file(path: str) -> TestFile:
    """Parse and validate one test file."""
    text, name = read_text(path, "policy test file")
    root, problems = parse_yaml(text, name)
    if problems:
        raise _bad(problems[0].location, f"not valid YAML: {problems[0].message}")
    if not isinstance(root, dict):
        raise _bad(Location(name, 1, 1), "a test file must be a mapping with a 'cases' list")
    config_keys = [k for k in root if k in TOP_LEVEL_KNOWN and k not in TEST_FILE_KEYS]
    if config_keys and "cases" not in root:  # the mirror of lint's JG005
        raise _bad(_loc(name, root, config_keys[0]), f"this looks like a gateway config (top-level "
                   f"'{config_keys[0]}'), not a policy test file",
                   f"run 'jwtgate lint {name}'; a test file names its config under 'config:' or with --config")
    _check_keys(name, root, TEST_FILE_KEYS, "the test file")
    cases = root.get("cases")
    if not isinstance(cases, list) or not cases:
        raise _bad(_loc(name, root, "cases") if "cases" in root else Location(name, 1, 1),
                   "the test file needs a non-empty 'cases' list")
    config = _relative(name, root["config"], _loc(name, root, "config"), "config") if "config" in root else None
    keys = _relative(name, root["jwks"], _loc(name, root, "jwks"), "jwks") if "jwks" in root else None
    return TestFile(name, config, keys, tuple(_case(name, cases, i) for i in range(len(cases))))


def _case(file: str, cases: Any, index: int) -> TestCase:
    node = cases[index]
    try:
        line, col = cases.lc.item(index)
        loc = Location(file, line + 1, col + 1)
    except Exception:
        loc = Location(file, 1, 1)
    if not isinstance(node, dict):
        raise _bad(loc, f"case {index + 1} must be a mapping with name, claims/token, model/route and expect")
    _check_keys(file, node, CASE_KEYS, f"case {index + 1}")
    name = node.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad(loc, f"case {index + 1} needs a 'name'")
    expect = node.get("expect")
    if expect not in ("allow", "deny"):
        raise _bad(_loc(file, node, "expect") if "expect" in node else loc,
                   f"case '{name}': 'expect' must be allow or deny, not {expect!r}")
    return TestCase(name, loc, _request(file, node, name, loc), expect == "allow", *_subject(file, node, name, loc),
                    reason=_reason(file, node, name), role=_opt_str(file, node, "role", name),
                    now=_now(file, node, name))


def _subject(file: str, node: Mapping[str, Any], name: str, loc: Location) -> tuple[dict[str, Any] | None, str | None]:
    if ("claims" in node) == ("token" in node):
        raise _bad(loc, f"case '{name}' needs exactly one of 'claims' and 'token'")
    if "token" in node:
        return None, _relative(file, node["token"], _loc(file, node, "token"), "token")
    claims = node["claims"]
    if not isinstance(claims, dict):
        raise _bad(_loc(file, node, "claims"), f"case '{name}': 'claims' must be a mapping")
    return plain(claims), None


def _request(file: str, node: Mapping[str, Any], name: str, loc: Location) -> Request:
    model = _opt_str(file, node, "model", name)
    route = _opt_str(file, node, "route", name)
    if model is None and route is None:
        raise _bad(loc, f"case '{name}' needs a 'model' and/or a 'route'")
    return Request(model, route or DEFAULT_ROUTE)


def _opt_str(file: str, node: Mapping[str, Any], key: str, name: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(_loc(file, node, key), f"case '{name}': '{key}' must be a string")
    return value


def _reason(file: str, node: Mapping[str, Any], name: str) -> str | None:
    """The expected reason code, which must be one jwtgate emits (jwtgate.reasons)."""
    from jwtgate.reasons import REASONS

    code = _opt_str(file, node, "reason", name)
    if code is None or code in REASONS:
        return code
    guess = did_you_mean(code, tuple(REASONS))
    raise _bad(_loc(file, node, "reason"), f"case '{name}': unknown reason code '{code}'",
               f"did you mean '{guess}'?" if guess else "see 'Reason codes' in the README")


def _now(file: str, node: Mapping[str, Any], name: str) -> float | None:
    value = node.get("now")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(_loc(file, node, "now"), f"case '{name}': 'now' must be epoch seconds")
    return float(value)



# --- running -----------------------------------------------------------------------------------------


def run_case(policy: Policy, case: TestCase, keys: str | None, token_decider: TokenDecider | None) -> CaseResult:
    """Decide one case and compare with what it expects."""
    from jwtgate.policy.decision import decide
    from jwtgate.policy.forwarding import with_forwarding

    if case.claims is not None:
        decision = with_forwarding(policy, decide(policy, case.claims, case.request), case.request.route)
    else:
        if token_decider is None:
            raise _bad(case.location, f"case '{case.name}': token cases need token verification (jwtgate.auth)")
        decision = _decide_token(policy, case, keys, token_decider)
    return CaseResult(case, policy.file, decision, tuple(_mismatches(case, decision)))


def _decide_token(policy: Policy, case: TestCase, keys: str | None, token_decider: TokenDecider) -> Decision:
    """The token decider; an unusable input (exit 2, e.g. a missing ``jwks:`` file) names the case."""
    try:
        return token_decider(policy, _read_token(case), keys, case.request, case.now)
    except JwtgateError as err:
        if err.exit_code != 2 or err.location is not None:
            raise
        raise type(err)(f"case '{case.name}': {err.message}", code=err.code, location=case.location,
                        hint=err.hint) from None


def _read_token(case: TestCase) -> str:
    assert case.token_file is not None
    try:
        return Path(case.token_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise _bad(case.location, f"case '{case.name}': cannot read token file {case.token_file} "
                   f"({exc.strerror or exc})") from None


def _mismatches(case: TestCase, d: Decision) -> list[str]:
    out = []
    if d.allowed != case.expect_allow:
        out.append("decision")
    if case.reason is not None and (d.reason.code if d.reason else None) != case.reason:
        out.append("reason")
    if case.role is not None and d.role != case.role:
        out.append("role")
    return out
