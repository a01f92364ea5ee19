// A real, OpenID-certified authorization server (panva's oidc-provider, pinned in package.json) on loopback, for
// .ci/oauth.sh: the issuer lava-crm-mcp's `LAVA_MCP_AUTH=oauth` trusts in that check.
//
//   node provider.mjs [PORT]        PORT from argv, else $OAUTH_PROVIDER_PORT, else 0 (a free port)
//
// Issuer http://127.0.0.1:PORT. Enabled: dynamic client registration (open, RFC 7591), the client credentials grant,
// the authorization code grant (PKCE required of public clients), resource indicators (RFC 8707). A token requested
// with `resource=<a loopback http(s) URL>` is a JWT access token (RFC 9068, typ at+jwt) with `aud` = that URL and the
// requested scopes among the three lava-crm ones, signed RS256 with a key generated at start and published at the
// jwks_uri. Prints one line `ready <issuer>` on stdout once listening; stops on SIGTERM or SIGINT.
//
// The end user's side of the authorization code flow is plain HTTP, for a script to drive (no HTML, no password:
// this provider is for tests only). The authorization endpoint redirects to /interaction/UID, where
//   GET                      -> JSON {uid, prompt: "login" | "consent", details, client_id, scope, resource}
//   POST .../login           form login=<account id> (letters, digits, . _ -): signs that account in
//   POST .../consent         grants what the prompt lists as missing (the scopes for the resource)
//   POST .../abort           the user declines: the client gets error=access_denied
// each answered 303 back to the authorization endpoint, which redirects to the next prompt or to the client's
// redirect_uri with the code.
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
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES], // offline_access: the refresh_token grant, as hosts register
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  features: {
    devInteractions: { enabled: false }, // the end user's side is the JSON and form endpoints below
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
const ACCOUNT = /^[A-Za-z0-9._-]{1,64}$/;

async function form(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

// The consent: everything the prompt lists as missing, on the grant the interaction already has (or a new one).
async function consent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

async function interaction(req, res, action) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'GET' && action === undefined) {
    const { client_id: clientId, scope, resource } = params;
    return json(res, 200, { uid, prompt: prompt.name, details: prompt.details, client_id: clientId, scope, resource });
  }
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'the user declined' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (action === 'login' && prompt.name === 'login') {
    const login = (await form(req)).get('login') ?? '';
    if (!ACCOUNT.test(login)) return json(res, 400, { error: 'login must be 1-64 of A-Z a-z 0-9 . _ -' });
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (action === 'consent' && prompt.name === 'consent') {
    return provider.interactionFinished(req, res, await consent(details), { mergeWithLastSubmission: true });
  }
  return json(res, 400, { error: `this interaction is at the ${prompt.name} prompt, not ${action}` });
}

const callback = provider.callback();
handler = async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent|abort))?$/.exec(path);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[2]);
  } catch (error) {
    console.error(`provider: interaction: ${error}`);
    if (!res.headersSent) json(res, 400, { error: String(error.message ?? error) });
  }
};

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
