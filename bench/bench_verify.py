"""Token verification throughput: jwtgate vs PyJWT's ``jwt.decode`` vs the raw ``cryptography`` check.

All contenders run in the same process, interleaved, with the same key objects; each figure is the
median of ``--rounds`` rounds. Also measures a hit in the verified-token cache. Run:

    /work/venv/bin/python bench/bench_verify.py [--rounds 5] [--seconds 0.3] [--format json]

Targets (issue 7): >= 1.5x PyJWT for RS256 and ES256, >= 0.5x the raw signature check, cache hit
>= 50x PyJWT. Prints a table and one summary line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwtgate.model import TokenRules, VerificationKey
from jwtgate.tokens.compact import b64url_decode, parse_token
from jwtgate.tokens.verify import VerifiedCache, verify_token

ISS = "https://idp.example.com/realms/acme"
AUD = "llm-gateway"


def _claims(now: float) -> dict[str, Any]:
    return {
        "iss": ISS, "aud": [AUD, "account"], "sub": "6f1c1b1e-8d7a-4c3e-9a51-2f0b8c1d2e3f",
        "exp": int(now) + 3600, "iat": int(now), "nbf": int(now), "azp": "gateway", "scope": "openid email",
        "realm_access": {"roles": ["llm-user", "offline_access"]}, "email": "ada@example.com",
    }  # fmt: skip


def _raw_check(alg: str, pub: Any, token: str) -> Callable[[], None]:
    head, payload, sig_b64 = token.split(".")
    data, sig = f"{head}.{payload}".encode(), b64url_decode(sig_b64)
    if alg == "RS256":
        pad, sha = padding.PKCS1v15(), hashes.SHA256()
        return lambda: pub.verify(sig, data, pad, sha)
    if alg == "ES256":
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        algo = ec.ECDSA(hashes.SHA256())
        return lambda: pub.verify(der, data, algo)
    return lambda: pub.verify(sig, data)


def _case(alg: str, private: Any, kty: str, now: float) -> dict[str, Callable[[], object]]:
    pub = private.public_key()
    token = jwt.encode(_claims(now), private, algorithm=alg, headers={"kid": "k-2"})
    keys = [
        VerificationKey(f"k-{i}", kty, alg, "sig", pub if i == 2 else private.public_key(), "bench", "", "")
        for i in range(1, 4)
    ]
    rules = TokenRules(issuer=ISS, audiences=(AUD,))
    cache = VerifiedCache()
    cache.put(token, verify_token(parse_token(token), keys, rules, now=now), now)
    options = {"require": ["exp"]}
    return {
        "jwtgate": lambda: verify_token(parse_token(token), keys, rules, now=time.time()),
        "pyjwt": lambda: jwt.decode(token, pub, algorithms=[alg], audience=AUD, issuer=ISS, options=options),
        "raw": _raw_check(alg, pub, token),
        "cache": lambda: cache.get(token, time.time()),
    }


def _timed(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def _calibrate(fn: Callable[[], object], seconds: float) -> int:
    return max(20, int(50 / _timed(fn, 50) * seconds))


def _round(fns: dict[str, Callable[[], object]], counts: dict[str, int], slices: int) -> dict[str, float]:
    """One round: every contender runs in ``slices`` interleaved batches, so a burst of noise from
    another process hits all of them alike; returns calls per second."""
    spent = dict.fromkeys(fns, 0.0)
    for _ in range(slices):
        for name, fn in fns.items():
            spent[name] += _timed(fn, counts[name])
    return {name: counts[name] * slices / spent[name] for name in fns}


def measure(rounds: int, seconds: float, slices: int = 20) -> dict[str, dict[str, float]]:
    """Median over rounds of each rate and of each ratio (ratios taken within a round)."""
    now = time.time()
    cases = {
        "RS256": _case("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA", now),
        "ES256": _case("ES256", ec.generate_private_key(ec.SECP256R1()), "EC", now),
        "EdDSA": _case("EdDSA", ed25519.Ed25519PrivateKey.generate(), "OKP", now),
    }
    out: dict[str, dict[str, float]] = {}
    for alg, fns in cases.items():
        counts = {name: _calibrate(fn, seconds / slices) for name, fn in fns.items()}
        per_round = [_round(fns, counts, slices) for _ in range(rounds)]
        rates = {name: statistics.median(r[name] for r in per_round) for name in fns}
        ratios = {
            f"{a}/{b}": statistics.median(r[a] / r[b] for r in per_round)
            for a, b in (("jwtgate", "pyjwt"), ("jwtgate", "raw"), ("cache", "pyjwt"))
        }
        out[alg] = rates | ratios
    return out


def report(results: dict[str, dict[str, float]]) -> tuple[str, str, bool]:
    lines = [
        f"{'alg':6} {'jwtgate/s':>10} {'PyJWT/s':>10} {'raw/s':>10} {'vs PyJWT':>9} {'vs raw':>7} "
        f"{'cache hit/s':>12} {'cache vs PyJWT':>15}"
    ]
    ok, parts = True, []
    for alg, r in results.items():
        vs_jwt, vs_raw, cache = r["jwtgate/pyjwt"], r["jwtgate/raw"], r["cache/pyjwt"]
        lines.append(
            f"{alg:6} {r['jwtgate']:>10,.0f} {r['pyjwt']:>10,.0f} {r['raw']:>10,.0f} {vs_jwt:>8.2f}x "
            f"{vs_raw:>6.2f}x {r['cache']:>12,.0f} {cache:>14.0f}x"
        )
        ok &= vs_raw >= 0.5 and cache >= 50 and (alg == "EdDSA" or vs_jwt >= 1.5)
        parts.append(f"{alg} {vs_jwt:.2f}x PyJWT {vs_raw:.2f}x raw, cache {cache:.0f}x")
    summary = f"bench_verify: {'; '.join(parts)} -> targets {'met' if ok else 'NOT met'}"
    return "\n".join(lines), summary, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per contender per round")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    results = measure(args.rounds, args.seconds)
    table, summary, ok = report(results)
    if args.format == "json":
        print(json.dumps({"results": results, "targets_met": ok, "summary": summary}, indent=2))
    else:
        print(f"median of {args.rounds} rounds (ratios taken within each round), one thread, same keys")
        print(f"{table}\n{summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
