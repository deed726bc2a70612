"""Signature primitives: curve orders, the raw-to-DER conversion, algorithm/key fit."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from jwtgate.tokens.algorithms import _ORDERS, ALGORITHMS, DEFAULT_ALGORITHMS, make_verifier, raw_to_der
from tests.kit.keys import CURVES, private_key


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "ES256K"])
def test_curve_orders_are_right(alg: str) -> None:
    """ECDSA is malleable exactly modulo the group order: (r, n - s) verifies iff n is the order."""
    key = private_key(alg)
    r, s = decode_dss_signature(key.sign(b"msg", ec.ECDSA(hashes.SHA256())))
    n = _ORDERS[CURVES[alg].name]
    key.public_key().verify(encode_dss_signature(r, n - s), b"msg", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("size", [32, 48, 66])
@given(data=st.data())
def test_raw_to_der_matches_cryptography(size: int, data: st.DataObject) -> None:
    r = data.draw(st.integers(1, 2 ** (8 * size) - 1))
    s = data.draw(st.integers(1, 2 ** (8 * size) - 1))
    assert raw_to_der(r.to_bytes(size, "big"), s.to_bytes(size, "big")) == encode_dss_signature(r, s)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_prepared_ecdsa_verifier_round_trip(alg: str) -> None:
    key = private_key(alg)
    spec = ALGORITHMS[alg]
    size = (key.curve.key_size + 7) // 8
    r, s = decode_dss_signature(key.sign(b"msg", ec.ECDSA(spec_hash(alg))))
    verifier = make_verifier(spec, "EC", key.public_key())
    assert not isinstance(verifier, str)
    assert verifier(r.to_bytes(size, "big") + s.to_bytes(size, "big"), b"msg") is True
    assert verifier(r.to_bytes(size, "big") + s.to_bytes(size, "big"), b"msh") is False


def spec_hash(alg: str) -> hashes.HashAlgorithm:
    return {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512()}[alg]


def test_default_algorithms_are_asymmetric_only() -> None:
    assert not any(alg.startswith("HS") or alg.lower() == "none" for alg in DEFAULT_ALGORITHMS)
    assert set(DEFAULT_ALGORITHMS) <= set(ALGORITHMS)
