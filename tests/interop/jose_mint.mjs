// Mints tokens with npm `jose`, independent of Sigil and PyJWT: for each algorithm a fresh key
// pair, its public JWK, and one token per issuer. Reads the request as JSON on stdin:
//   {"algorithms": ["ES256", ...], "issuers": ["https://..."], "now": 1700000000, "subject": "..."}
// and writes [{"alg", "kid", "jwk", "tokens": {"<issuer>": "<jws>"}}] on stdout.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const minted = [];
for (const alg of request.algorithms) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `jose-${alg}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const tokens = {};
  for (const issuer of request.issuers) {
    tokens[issuer] = await new SignJWT({ roles: ['reader'], lib: 'jose' })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(request.subject)
      .setIssuedAt(request.now)
      .setNotBefore(request.now)
      .setExpirationTime(request.now + 600)
      .setJti(`jose-${alg}-${Math.random().toString(36).slice(2)}`)
      .sign(privateKey);
  }
  minted.push({ alg, kid, jwk, tokens });
}
process.stdout.write(JSON.stringify(minted));
