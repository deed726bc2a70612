"""Re-exports of tests/kit for branches written against the old helper module (use tests.kit directly)."""

from tests.kit.clock import START as START, FakeClock as FakeClock  # noqa: I001
from tests.kit.idp import IdP as IdP, Route as Route
from tests.kit.keys import ec_jwk as ec_jwk, ed_jwk as ed_jwk, rsa_jwk as rsa_jwk
