// A real OpenID Connect provider (npm oidc-provider, OpenID Certified) on 127.0.0.1 for jwtgate's tests.
//
//   node provider.mjs PORT KEYS.json      (PORT 0 picks a free port)
//
// KEYS.json is {"keys": [private JWKs with kid]}: the signing keys, published at /jwks. Rotation = the
// test stops this process (by PID) and starts it again on the same port with another key file.
// Prints one line "listening http://127.0.0.1:PORT" on stdout once it accepts requests.
//
// Clients (client_credentials, client_secret_basic, secret "s3cret"):
//   flat-client    roles: ["gateway-user"]                                  (flat claim)
//   nested-client  resource_access: {"llm-gateway": {roles: ["gateway-user"]}}  (Keycloak style)
//   bare-client    no roles at all
// Resource indicators (RFC 8707) choose the JWT access token's signature and audience:
//   urn:jwtgate:rs256 (default) | urn:jwtgate:ps256 | urn:jwtgate:es256 -> aud "llm-gateway"
//   urn:jwtgate:other -> aud "other-api"
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [portArg, keysPath] = process.argv.slice(2);
if (portArg === undefined || keysPath === undefined) {
  process.stderr.write('usage: node provider.mjs PORT KEYS.json\n');
  process.exit(2);
}
const jwks = JSON.parse(readFileSync(keysPath, 'utf8'));

const CLAIMS = {
  'flat-client': { roles: ['gateway-user'] },
  'nested-client': { resource_access: { 'llm-gateway': { roles: ['gateway-user'] } } },
  'bare-client': {},
};
const RESOURCES = {
  'urn:jwtgate:rs256': { alg: 'RS256', audience: 'llm-gateway' },
  'urn:jwtgate:ps256': { alg: 'PS256', audience: 'llm-gateway' },
  'urn:jwtgate:es256': { alg: 'ES256', audience: 'llm-gateway' },
  'urn:jwtgate:other': { alg: 'RS256', audience: 'other-api' },
};

const server = createServer();
server.listen(Number(portArg), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    jwks,
    clients: Object.keys(CLAIMS).map((id) => ({
      client_id: id,
      client_secret: 's3cret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => 'urn:jwtgate:rs256',
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const rs = RESOURCES[indicator];
          if (rs === undefined) throw new Provider.errors.InvalidTarget();
          return {
            scope: 'models',
            audience: rs.audience,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: rs.alg } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => CLAIMS[token.clientId] ?? {},
    routes: { jwks: '/jwks' },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
