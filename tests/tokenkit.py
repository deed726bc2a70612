"""Re-exports of tests/kit for branches written against the old helper module (use tests.kit directly)."""

from tests.kit.keys import CURVES as CURVES, KTY as KTY, key_name_for as key_name_for  # noqa: I001
from tests.kit.keys import private_key as private_key, vkey as vkey
from tests.kit.tokens import AUD as AUD, DROP as DROP, ISS as ISS, NOW as NOW, RULES as RULES
from tests.kit.tokens import b64 as b64, claims as claims, mint as mint, sign_raw as sign_raw
