#!/usr/bin/env node
// A wallet for the OpenID4VCI tests: the OpenWallet Foundation's client
// (@openid4vc/openid4vci, OpenID4VCI 1.0) collects a credential from an offer link,
// its keys held by jose. One JSON scenario on standard input, one JSON result on
// standard output:
//
//   {"offer": "openid-credential-offer://...", "txCode": "123456",
//    "key": "ed25519" | "p256" | "p384", "binding": "did:key" | "did:jwk" | "jwk",
//    "tokenTwice": true, "nonce": "<a nonce to use instead of a fresh one>",
//    "authorizationDetails": true (name the offered configuration in the token request),
//    "byIdentifier": true (ask for the credential by the credential_identifier the token
//                          response named, OpenID4VCI 1.0 §8.2, not by its configuration),
//    "notify": true,
//    "fault": "other-audience" | "wrong-key" | "alg-not-offered" | "stale-iat" | "no-nonce"}
//
// Result: {"ok": true, "credential": {...}, "holder": "did:...", "nonce": "...",
//          "notificationId": "...", "metadata": {...}, "token": {...}, "replay": {...}}
// or {"ok": false, "stage": "offer|metadata|token|nonce|proof|credential|notification",
//     "status": 400, "error": {"error": "...", "error_description": "..."}, "message": "..."}.
// The faults make the wallet misbehave on purpose, through the client's own callbacks
// (the JWT signer) or by telling it the issuer said something it did not.
import {createHash, randomBytes} from 'node:crypto';

import {clientAuthenticationAnonymous, Oauth2ClientErrorResponseError} from '@openid4vc/oauth2';
import {
  Openid4vciClient, Openid4vciRetrieveCredentialsError, Openid4vciSendNotificationError,
  setGlobalConfig
} from '@openid4vc/openid4vci';
import {CompactSign, exportJWK, generateKeyPair} from 'jose';
import {base58btc} from 'multiformats/bases/base58';

// The node under test serves plain HTTP on 127.0.0.1; the client wants https:// unless told.
setGlobalConfig({allowInsecureUrls: true});

const ALGS = {ed25519: ['EdDSA', 'Ed25519'], p256: ['ES256', 'P-256'], p384: ['ES384', 'P-384']};

function b64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

async function makeKey(kind) {
  const [alg, crv] = ALGS[kind];
  const {privateKey, publicKey} = await generateKeyPair(alg, {crv, extractable: true});
  const jwk = await exportJWK(publicKey);
  const publicJwk = jwk.kty === 'OKP' ?
    {crv: jwk.crv, kty: jwk.kty, x: jwk.x} : {crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y};
  return {alg, privateKey, publicJwk};
}

function didKey(key) {
  const x = Buffer.from(key.publicJwk.x, 'base64url');
  let bytes;
  if(key.publicJwk.kty === 'OKP') {
    bytes = Buffer.concat([Buffer.from([0xed, 0x01]), x]);   // ed25519-pub
  } else {
    const y = Buffer.from(key.publicJwk.y, 'base64url');
    const prefix = (y[y.length - 1] & 1) ? 0x03 : 0x02;        // compressed point
    bytes = Buffer.concat([Buffer.from([0x80, 0x24, prefix]), x]);  // p256-pub
  }
  const did = 'did:key:' + base58btc.encode(bytes);
  return {did, kid: `${did}#${did.slice('did:key:'.length)}`};
}

function didJwk(key) {
  const did = 'did:jwk:' + b64url(JSON.stringify(key.publicJwk));
  return {did, kid: `${did}#0`};
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const scenario = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const fault = scenario.fault ?? null;
  const key = await makeKey(fault === 'alg-not-offered' ? 'p384' : (scenario.key ?? 'ed25519'));
  const other = await makeKey(scenario.key ?? 'ed25519');
  const binding = scenario.binding ?? 'did:key';
  let signer;
  let holder;
  if(binding === 'jwk') {
    signer = {method: 'jwk', publicJwk: key.publicJwk, alg: key.alg};
  } else {
    const {did, kid} = binding === 'did:jwk' ? didJwk(key) : didKey(key);
    signer = {method: 'did', didUrl: kid, alg: key.alg};
    holder = did;
  }

  const callbacks = {
    fetch,
    hash: (data, alg) => createHash(alg.replace('-', '')).update(data).digest(),
    generateRandom: n => randomBytes(n),
    // Anonymous access to the token endpoint (pre-authorized code flow, no client id).
    clientAuthentication: clientAuthenticationAnonymous(),
    async signJwt(jwtSigner, {header, payload}) {
      // 'wrong-key': the header names our key, the signature is another's.
      const signing = fault === 'wrong-key' ? other : key;
      const jwt = await new CompactSign(Buffer.from(JSON.stringify(payload)))
        .setProtectedHeader(header).sign(signing.privateKey);
      return {jwt, signerJwk: key.publicJwk};
    }
  };
  const client = new Openid4vciClient({callbacks});
  const out = {ok: false, holder};
  let stage = 'offer';
  try {
    const offer = await client.resolveCredentialOffer(scenario.offer);
    stage = 'metadata';
    const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
    const configurationId = offer.credential_configuration_ids[0];
    out.metadata = {
      version: metadata.originalDraftVersion,
      credentialIssuer: metadata.credentialIssuer.credential_issuer,
      configurations: Object.keys(metadata.knownCredentialConfigurations),
      configuration: metadata.credentialIssuer.credential_configurations_supported[configurationId],
      authorizationServer: metadata.authorizationServers[0]
    };
    stage = 'token';
    // OpenID4VCI §6.1.1: the wallet may name the credential it wants in the token request.
    const additionalRequestPayload = scenario.authorizationDetails ?
      {authorization_details: [{type: 'openid_credential', credential_configuration_id: configurationId}]} : undefined;
    const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
      credentialOffer: offer, issuerMetadata: metadata, txCode: scenario.txCode ?? undefined, additionalRequestPayload
    });
    out.token = {
      token_type: accessTokenResponse.token_type, expires_in: accessTokenResponse.expires_in,
      authorization_details: accessTokenResponse.authorization_details
    };
    if(scenario.tokenTwice) {
      try {
        await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
          credentialOffer: offer, issuerMetadata: metadata, txCode: scenario.txCode ?? undefined
        });
        out.replay = {ok: true};
      } catch(e) {
        out.replay = describe(e);
      }
    }
    stage = 'nonce';
    let nonce = scenario.nonce;
    if(nonce === undefined || nonce === null) {
      nonce = (await client.requestNonce({issuerMetadata: metadata})).c_nonce;
    }
    out.nonce = nonce;
    stage = 'proof';
    let proofMetadata = metadata;
    if(fault === 'other-audience') {
      proofMetadata = {...metadata, credentialIssuer: {...metadata.credentialIssuer, credential_issuer: 'https://issuer.example.org'}};
    }
    if(fault === 'alg-not-offered') {
      // The wallet believes ES384 was offered (the client checks the metadata first).
      const configuration = structuredClone(metadata.credentialIssuer.credential_configurations_supported[configurationId]);
      configuration.proof_types_supported.jwt.proof_signing_alg_values_supported.push('ES384');
      proofMetadata = {...metadata, credentialIssuer: {...metadata.credentialIssuer,
        credential_configurations_supported: {[configurationId]: configuration}}};
    }
    const {jwt} = await client.createCredentialRequestJwtProof({
      issuerMetadata: proofMetadata,
      credentialConfigurationId: configurationId,
      signer,
      nonce: fault === 'no-nonce' ? undefined : nonce,
      issuedAt: fault === 'stale-iat' ? new Date(Date.now() - 3600 * 1000) : undefined
    });
    stage = 'credential';
    const {credentialResponse} = scenario.byIdentifier ?
      await retrieveByIdentifier(metadata, accessTokenResponse, jwt) :
      await client.retrieveCredentials({
        issuerMetadata: metadata,
        accessToken: accessTokenResponse.access_token,
        credentialConfigurationId: configurationId,
        proofs: {jwt: [jwt]}
      });
    out.credential = credentialResponse.credentials[0].credential;
    out.notificationId = credentialResponse.notification_id;
    if(scenario.notify) {
      stage = 'notification';
      await client.sendNotification({
        issuerMetadata: metadata,
        accessToken: accessTokenResponse.access_token,
        notification: {notificationId: credentialResponse.notification_id, event: 'credential_accepted'}
      });
      out.notified = true;
    }
    out.ok = true;
  } catch(e) {
    Object.assign(out, {stage}, describe(e));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

class CredentialRequestRefused extends Error {
  constructor(status, body) {
    super(`the credential endpoint answered ${status}`);
    Object.assign(this, {status, body});
  }
}

// OpenID4VCI 1.0 §8.2: a wallet whose token response named credential_identifiers asks by one
// of them, and "MUST NOT" send credential_configuration_id. The client's retrieveCredentials
// (0.4.6) always sends credential_configuration_id, and exports nothing lower, so this one
// request is made here, as the client makes it otherwise (JSON body, Bearer token), with the
// proof the client made.
async function retrieveByIdentifier(metadata, tokenResponse, jwt) {
  const identifier = tokenResponse.authorization_details?.[0]?.credential_identifiers?.[0];
  if(!identifier) {
    throw new Error('the token response named no credential_identifiers');
  }
  const response = await fetch(metadata.credentialIssuer.credential_endpoint, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', Authorization: `Bearer ${tokenResponse.access_token}`},
    body: JSON.stringify({credential_identifier: identifier, proofs: {jwt: [jwt]}})
  });
  const body = await response.json();
  if(!response.ok) {
    throw new CredentialRequestRefused(response.status, body);
  }
  return {credentialResponse: body};
}

function describe(e) {
  if(e instanceof CredentialRequestRefused) {
    return {ok: false, status: e.status, error: e.body, message: e.message};
  }
  if(e instanceof Oauth2ClientErrorResponseError) {
    return {ok: false, status: e.response.status, error: e.errorResponse, message: e.message};
  }
  if(e instanceof Openid4vciRetrieveCredentialsError) {
    return {
      ok: false, status: e.response.response.status,
      error: e.response.credentialErrorResponseResult?.data ?? null, message: e.message
    };
  }
  if(e instanceof Openid4vciSendNotificationError) {
    return {ok: false, status: e.response?.response?.status ?? null, error: null, message: e.message};
  }
  return {ok: false, status: null, error: null, message: String(e?.stack ?? e)};
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ok: false, stage: 'wallet', message: String(e?.stack ?? e)}) + '\n');
  process.exitCode = 2;
});
