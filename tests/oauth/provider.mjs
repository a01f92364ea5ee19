// A real, OpenID-certified authorization server (panva's oidc-provider, pinned in package.json) on loopback, for
// .ci/oauth.sh: the issuer lava-crm-mcp's `LAVA_MCP_AUTH=oauth` trusts in that check.
//
//   node provider.mjs [PORT]        PORT from argv, else $OAUTH_PROVIDER_PORT, else 0 (a free port)
//
// Issuer http://127.0.0.1:PORT. Enabled: dynamic client registration (open, RFC 7591), the client credentials grant,
// resource indicators (RFC 8707). A token requested with `resource=<a loopback http(s) URL>` is a JWT access token
// (RFC 9068, typ at+jwt) with `aud` = that URL and the requested scopes among the three lava-crm ones, signed RS256
// with a key generated at start and published at the jwks_uri. Prints one line `ready <issuer>` on stdout once
// listening; stops on SIGTERM or SIGINT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { errors, Provider } from 'oidc-provider';

const RESOURCE_SCOPES = ['lava-crm:read', 'lava-crm:write', 'lava-crm:delete'];
const TOKEN_TTL = 300; // seconds
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const port = Number(process.argv[2] ?? process.env.OAUTH_PROVIDER_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`provider: bad port ${process.argv[2] ?? process.env.OAUTH_PROVIDER_PORT}`);
  process.exit(2);
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: `rs256-${Date.now()}` };
}

// Which resource servers this provider issues tokens for: any http(s) URL on loopback (the MCP server under test,
// and the "other resource" whose tokens it must refuse). Anything else is invalid_target.
function loopbackResource(indicator) {
  const url = URL.parse(indicator);
  return url !== null && ['http:', 'https:'].includes(url.protocol) && LOOPBACK.has(url.hostname) && !url.hash;
}

// The HTTP server listens first, so that port 0 works: the issuer is known only once the port is.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', ...RESOURCE_SCOPES],
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  features: {
    devInteractions: { enabled: false }, // no end-user flows here
    registration: { enabled: true }, // open DCR: no initial access token
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf, // no resource= → no resource server → an opaque token
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx, indicator) => {
        if (!loopbackResource(indicator)) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: RESOURCE_SCOPES.join(' '),
          audience: indicator,
          accessTokenTTL: TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    ClientCredentials: TOKEN_TTL,
    AccessToken: TOKEN_TTL,
  },
});
handler = provider.callback();

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`provider: ${signal}, stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

console.log(`ready ${issuer}`);
