"""What jwtgate reads from a request: the token, the path, the model (refusing anything ambiguous)."""

from __future__ import annotations

import pytest

from jwtgate.server.inbound import (
    BadRequest,
    bearer_token,
    check_path,
    parse_body,
    path_model,
    rewrite_model,
    rewrite_path_model,
    takes_body_model,
)

BOUNDARY = "XyZ"
MULTIPART_CT = f"multipart/form-data; boundary={BOUNDARY}".encode()


def multipart(**fields: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


@pytest.mark.parametrize(("headers", "expected"), [
    ([(b"authorization", b"Bearer abc.def.ghi")], "abc.def.ghi"),
    ([(b"authorization", b"bearer   abc ")], "abc"),
    ([(b"authorization", b"Basic dXNlcjpwYXNz")], None),
    ([(b"authorization", b"Bearer")], None),
    ([(b"x-api-key", b"tok")], "tok"),
    ([(b"authorization", b"Bearer a"), (b"x-api-key", b"b")], "a"),
    ([], None),
], ids=["bearer", "case-and-spaces", "basic-refused", "empty-bearer", "x-api-key", "authorization-wins", "none"])
def test_bearer_token(headers: list[tuple[bytes, bytes]], expected: str | None) -> None:
    assert bearer_token(headers) == expected


@pytest.mark.parametrize("path", ["/v1//chat/completions", "/v1/../admin", "/v1/./chat/completions", "/a\\b"],
                         ids=["double-slash", "dotdot", "dot", "backslash"])
def test_check_path_refuses_paths_that_normalise_differently(path: str) -> None:
    with pytest.raises(BadRequest) as err:
        check_path(path)
    assert err.value.code == "request.bad_path"


@pytest.mark.parametrize(("path", "model"), [
    ("/openai/deployments/gpt-4o/chat/completions", "gpt-4o"),
    ("/engines/davinci/completions", "davinci"),
    ("/v1beta/models/gemini-pro:generateContent", "gemini-pro"),
    ("/v1/chat/completions", None),
], ids=["azure", "engines", "gemini", "none"])
def test_path_model(path: str, model: str | None) -> None:
    assert path_model(path) == model


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("POST", "/v1/chat/completions", True), ("POST", "/chat/completions", True), ("POST", "/v1/messages", True),
    ("POST", "/openai/v1/responses", True), ("POST", "/v1/audio/transcriptions", True),
    ("GET", "/v1/chat/completions", False), ("POST", "/v1/files", False), ("GET", "/v1/responses/abc", False),
], ids=["chat", "chat-no-v1", "messages", "openai-v1", "audio", "get", "files", "response-get"])
def test_takes_body_model(method: str, path: str, expected: bool) -> None:
    assert takes_body_model(method, path) is expected


@pytest.mark.parametrize(("data", "ctype", "model"), [
    (b'{"model": "gpt-4o", "messages": []}', b"application/json", "gpt-4o"),
    (b'  {"messages": []}', None, None),
    (b"", b"application/json", None),
    (b"model=whisper-1&x=1", b"application/x-www-form-urlencoded", "whisper-1"),
    (multipart(model="whisper-1", file="..."), MULTIPART_CT, "whisper-1"),
    (multipart(file="..."), MULTIPART_CT, None),
    (b'{"model": "a", "metadata": {"model": "b"}}', b"application/json", "a"),
], ids=["json", "json-without-model", "empty", "form", "multipart", "multipart-without-model", "nested-model-ok"])
def test_parse_body_finds_the_model(data: bytes, ctype: bytes | None, model: str | None) -> None:
    assert parse_body(data, ctype).model == model


@pytest.mark.parametrize(("data", "ctype", "code"), [
    (b'{"model": "allowed", "model": "forbidden"}', b"application/json", "request.invalid_json"),
    (b'{"model": "allowed", "mod\\u0065l": "forbidden"}', b"application/json", "request.invalid_json"),
    (b'{"model": ["a", "b"]}', b"application/json", "request.invalid_model"),
    (b'{"model": "a"', b"application/json", "request.invalid_json"),
    (b"[1, 2]", b"application/json", "request.invalid_json"),
    (b"model=a&model=b", b"application/x-www-form-urlencoded", "request.invalid_model"),
    (multipart(model="a") + multipart(model="b"), MULTIPART_CT, "request.invalid_model"),
    (b"--x\r\n", b"multipart/form-data", "request.invalid_form"),
], ids=["duplicate-key", "escaped-duplicate-key", "list-model", "truncated", "array", "form-twice",
        "multipart-twice", "no-boundary"])
def test_parse_body_refuses_ambiguous_models(data: bytes, ctype: bytes, code: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_body(data, ctype)
    assert (err.value.status, err.value.code) == (400, code)


@pytest.mark.parametrize(("data", "ctype"), [
    (b'{"model": "llama", "stream": true}', b"application/json"),
    (b"model=llama&language=en", b"application/x-www-form-urlencoded"),
    (multipart(model="llama", language="en"), MULTIPART_CT),
], ids=["json", "form", "multipart"])
def test_rewrite_model_replaces_only_the_model(data: bytes, ctype: bytes) -> None:
    body = parse_body(data, ctype)
    rewritten = parse_body(rewrite_model(body, "meta/llama-3", ctype), ctype)
    assert rewritten.model == "meta/llama-3"
    assert rewritten.kind == body.kind


def test_rewrite_path_model() -> None:
    assert rewrite_path_model("/openai/deployments/llama/chat/completions", "llama", "meta-llama") == \
        "/openai/deployments/meta-llama/chat/completions"
