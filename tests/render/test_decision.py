"""Trace rendering: marks, locations, notes and the verdict in text; the JSON document's fields."""

from __future__ import annotations

import io
import json

import pytest

from jwtgate.check import TokenCheck, refusal
from jwtgate.errors import TokenError
from jwtgate.model import Decision, Location, Reason, Request, Step, VerificationKey, VerifiedToken
from jwtgate.render.decision import check_to_json, decision_to_json, render_trace_text, render_verdict_text, trace_lines
from jwtgate.render.styled import Styled

WHERE = Location("c.yaml", 12, 7)
KEY = VerificationKey("k1", "RSA", "RS256", "sig", None, "jwks.json", "tp", "RSA 2048")
STEPS = (
    Step("token parsed", "ok", "RS256, kid k1"),
    Step("signature", "fail", "does not verify"),
    Step("role", "info", "no mapping", WHERE),
    Step("model", "skip", "no model"),
    Step("models", "warn", "unrestricted"),
)


def text_of(fn: object, *args: object) -> str:
    buf = io.StringIO()
    console = Styled(buf, color=False)
    fn(*args, console)  # type: ignore[operator]
    return buf.getvalue()


def test_marks_alignment_locations_and_notes() -> None:
    out = text_of(render_trace_text, STEPS, ["LiteLLM would differ"])
    assert out.splitlines() == [
        "✓ token parsed  RS256, kid k1",
        "✗ signature     does not verify",
        "• role          no mapping  (c.yaml:12:7)",
        "– model         no model",
        "! models        unrestricted",
        "note: LiteLLM would differ",
    ]


def test_markup_in_values_is_printed_literally() -> None:
    out = text_of(render_trace_text, [Step("role", "info", "claim = '[bold]x[/bold]'")], [])
    assert "'[bold]x[/bold]'" in out


@pytest.mark.parametrize(
    ("allowed", "reason", "line"),
    [(True, None, "ALLOWED"), (False, Reason("policy.no_role", "no role"), "DENIED [policy.no_role] no role"),
     (False, TokenError("expired", code="token.expired"), "DENIED [token.expired] expired")],
    ids=["allowed", "denied-reason", "denied-token-error"],
)
def test_verdict(allowed: bool, reason: Reason | TokenError | None, line: str) -> None:
    assert text_of(render_verdict_text, allowed, reason).strip() == line


def _decision(allowed: bool, models: tuple[str, ...] | None) -> Decision:
    reason = None if allowed else Reason("policy.model_not_allowed", "nope", WHERE)
    return Decision(allowed, reason, "internal_user", models, None, "alice", {"user_email": "a@x"},
                    (Step("decision", "ok" if allowed else "fail", "d"),), ("a note",))


def test_json_of_a_check() -> None:
    decision = _decision(False, ("gpt-4o-mini",))
    verified = VerifiedToken({"alg": "RS256"}, {"sub": "a"}, KEY, "abc")
    doc = check_to_json(TokenCheck(decision, Request("gpt-4o"), verified, None, {"alg": "RS256"}, "abc"), 42.0)
    assert doc["allowed"] is False and doc["verified"] is True
    assert doc["reason"] == {"code": "policy.model_not_allowed", "message": "nope",
                             "location": {"file": "c.yaml", "line": 12, "column": 7}}
    assert (doc["role"], doc["models"], doc["routes"], doc["claims"]) == ("internal_user", ["gpt-4o-mini"], None,
                                                                          {"sub": "a"})
    assert doc["request"] == {"model": "gpt-4o", "route": "/v1/chat/completions"}
    assert doc["steps"] == [{"name": "decision", "status": "fail", "detail": "d", "location": None, "data": {}}]
    assert (doc["notes"], doc["fingerprint"], doc["header"], doc["now"]) == (["a note"], "abc", {"alg": "RS256"}, 42)
    json.dumps(doc)


def test_json_unrestricted_models_is_null() -> None:
    doc = decision_to_json(_decision(True, None))
    assert doc["allowed"] is True and doc["models"] is None and doc["reason"] is None


def test_json_refused_token_is_a_denial_with_the_token_code() -> None:
    err = TokenError("expired 42 s ago", code="token.expired")
    doc = check_to_json(TokenCheck(refusal(err, STEPS), Request(), error=err))
    assert doc["allowed"] is False and doc["verified"] is False and doc["claims"] is None and doc["role"] is None
    assert doc["reason"] == {"code": "token.expired", "message": "expired 42 s ago", "location": None}
    assert [s["status"] for s in doc["steps"]] == ["ok", "fail", "info", "skip", "warn"]


def test_plain_trace_lines_match_the_styled_ones() -> None:
    styled = text_of(render_trace_text, STEPS, ["a note"]).splitlines()
    assert trace_lines(STEPS, ["a note"], "  ") == ["  " + line for line in styled]
