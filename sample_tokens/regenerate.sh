#!/usr/bin/env bash
# Regenerate sample_tokens/ with jwtgate's own commands (keys generate, token mint).
#
# The private keys live in a temporary directory and are deleted on exit: they are never committed,
# so the committed tokens are fixed and only jwks.json (public keys) can verify them.
# Run from anywhere:  sample_tokens/regenerate.sh      (JWTGATE overrides the command, e.g. JWTGATE=jwtgate)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
jg=(${JWTGATE:-python3 -m jwtgate})
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

ISS="https://sso.example.com/realms/acme"
EXP=4070908800            # 2099-01-01T00:00:00Z: far-future expiry so the samples keep working
NOW=2026-01-01T00:00:00Z  # iat of every sample token
AZ_TENANT=00000000-0000-0000-0000-000000000000

"${jg[@]}" keys generate --alg RS256 --kid sample-rs256 --out "$tmp/rs256" >/dev/null
"${jg[@]}" keys generate --alg ES256 --kid sample-es256 --out "$tmp/es256" >/dev/null
# An attacker's key that reuses the real kid: tokens it signs must fail the signature check.
"${jg[@]}" keys generate --alg RS256 --kid sample-rs256 --out "$tmp/attacker" >/dev/null

mint() {  # mint KEYDIR OUTFILE [token mint options...]
  local key="$1" out="$2"
  shift 2
  "${jg[@]}" token mint --key "$tmp/$key/private.pem" --now "$NOW" --issuer "$ISS" "$@" > "sample_tokens/$out"
}
roles() { printf '{"resource_access": {"litellm": {"roles": %s}}}' "$1"; }

mint rs256 alice-user.jwt --kid sample-rs256 --audience litellm --claim exp=$EXP --claims "$(roles '["litellm-user"]')" \
  --claim sub=alice --claim email=alice@acme.example
mint rs256 bob-admin.jwt --kid sample-rs256 --audience litellm --claim exp=$EXP --claims "$(roles '["litellm-admin"]')" \
  --claim sub=bob --claim email=bob@acme.example
mint rs256 carol-norole.jwt --kid sample-rs256 --audience litellm --claim exp=$EXP --claims "$(roles '["viewer"]')" \
  --claim sub=carol --claim email=carol@acme.example
mint rs256 expired.jwt --kid sample-rs256 --audience litellm --expires-in 1h --claims "$(roles '["litellm-user"]')" \
  --claim sub=alice --claim email=alice@acme.example
mint rs256 wrong-audience.jwt --kid sample-rs256 --audience other-app --claim exp=$EXP \
  --claims "$(roles '["litellm-user"]')" --claim sub=alice --claim email=alice@acme.example
mint attacker forged.jwt --kid sample-rs256 --audience litellm --claim exp=$EXP --claims "$(roles '["litellm-admin"]')" \
  --claim sub=mallory --claim email=mallory@acme.example
mint es256 dave-user-es256.jwt --kid sample-es256 --audience litellm --claim exp=$EXP \
  --claims "$(roles '["litellm-user"]')" --claim sub=dave --claim email=dave@acme.example
# For sample_configs/azure-ad.yaml: app roles in the top-level "roles" claim, user id in "oid".
mint rs256 azure-user.jwt --kid sample-rs256 --issuer "https://login.microsoftonline.com/$AZ_TENANT/v2.0" \
  --audience api://litellm-gateway --claim exp=$EXP --claim 'roles=["LLM.User"]' \
  --claim oid=11111111-2222-3333-4444-555555555555 --claim sub=erin
# For `jwtgate lint --token` (only its claims are read): a token issued to another Keycloak client, whose roles
# sit under resource_access.litellm-gateway; signed by a throwaway key that no JWKS holds.
"${jg[@]}" keys generate --alg RS256 --kid other-client --out "$tmp/other" >/dev/null
mint other other-client.jwt --kid other-client --audience litellm-gateway --claim exp=$EXP \
  --claims '{"resource_access": {"litellm-gateway": {"roles": ["litellm-user"]}, "account": {"roles": ["view-profile"]}}}' \
  --claim sub=alice --claim email=alice@acme.example

# One public JWKS with both real keys (never the attacker's or the other client's).
python3 - "$tmp/rs256/jwks.json" "$tmp/es256/jwks.json" > sample_tokens/jwks.json <<'PY'
import json, sys
keys = [k for path in sys.argv[1:] for k in json.load(open(path))["keys"]]
print(json.dumps({"keys": keys}, indent=2))
PY
echo "regenerated sample_tokens/ (private keys discarded)"
