'use strict';
// Verify the signatures of a webhooks delivery. Node.js 16+, node:crypto only.
//
// A webhook with a secret gets two signatures on every delivery; checking either one
// is enough. Always verify the raw request body bytes, before parsing the JSON.
//
//   X-Authorization-HMAC-256   lowercase hex HMAC-SHA256 of the body, keyed by the
//                              secret's UTF-8 bytes
//   webhook-id, webhook-timestamp, webhook-signature
//                              Standard Webhooks: "v1,<base64 HMAC-SHA256>" over
//                              "{webhook-id}.{webhook-timestamp}.{body}"; during a secret
//                              rotation several space-separated signatures are sent
//
// In a request handler (e.g. Express with `express.raw({ type: 'application/json' })`,
// so `req.body` is a Buffer of the raw bytes):
//
//   const h = req.headers;
//   const ok = verifyStandard(secret, h['webhook-id'], h['webhook-timestamp'], req.body,
//                             h['webhook-signature'])
//     && timestampIsFresh(h['webhook-timestamp']);
//   // or: const ok = verifyHmac(secret, req.body, h['x-authorization-hmac-256']);
//   if (!ok) return res.sendStatus(401);
//
// Self-checks: `node verify.js` checks the fixed vectors in ../vectors.json;
// `node verify.js --check FILE` checks one delivery given as JSON
// {"secret", "id", "timestamp", "body", "hmac", "signature"}.

const crypto = require('node:crypto');

const TOLERANCE_SECONDS = 5 * 60;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function standardKey(secret) {
  // The base64-decoded part after whsec_, otherwise the secret's UTF-8 bytes.
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : null;
  if (encoded !== null && encoded.length % 4 === 0 && BASE64.test(encoded)) {
    return Buffer.from(encoded, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

function sameBytes(expected, received) {
  return received.length === expected.length && crypto.timingSafeEqual(expected, received);
}

/** True when `header` (X-Authorization-HMAC-256) is the HMAC-SHA256 of `body`. */
function verifyHmac(secret, body, header) {
  const hex = String(header || '').trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return false;
  const expected = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
  return sameBytes(expected, Buffer.from(hex, 'hex'));
}

/** True when any "v1," signature in `header` (webhook-signature) matches. */
function verifyStandard(secret, msgId, timestamp, body, header) {
  const expected = crypto
    .createHmac('sha256', standardKey(secret))
    .update(`${msgId}.${timestamp}.`)
    .update(body)
    .digest();
  return String(header || '')
    .split(' ')
    .some((candidate) => {
      const comma = candidate.indexOf(',');
      if (comma < 0 || candidate.slice(0, comma) !== 'v1') return false;
      const encoded = candidate.slice(comma + 1);
      if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return false;
      return sameBytes(expected, Buffer.from(encoded, 'base64'));
    });
}

/** True when webhook-timestamp is within `tolerance` seconds of now (refuses replays). */
function timestampIsFresh(timestamp, nowSeconds = Date.now() / 1000, tolerance = TOLERANCE_SECONDS) {
  if (!/^-?\d+$/.test(String(timestamp).trim())) return false;
  return Math.abs(nowSeconds - Number(timestamp)) <= tolerance;
}

module.exports = { verifyHmac, verifyStandard, timestampIsFresh, TOLERANCE_SECONDS };

// --- self-checks (not needed in a receiver) ---------------------------------------

function expect(label, got, want) {
  const ok = got === want;
  const verdict = got ? 'valid' : 'invalid';
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${verdict}${ok ? '' : ` (expected ${want ? 'valid' : 'invalid'})`}`);
  return ok;
}

function checkVectors(path) {
  const vectors = JSON.parse(require('node:fs').readFileSync(path, 'utf8'));
  const results = [
    ...vectors.hmac.map((c) => expect(`hmac: ${c.name}`, verifyHmac(c.secret, c.body, c.header), c.valid)),
    ...vectors.standard.map((c) =>
      expect(`standard: ${c.name}`, verifyStandard(c.secret, c.id, c.timestamp, c.body, c.header), c.valid)),
  ];
  return results.every(Boolean);
}

function checkDelivery(path) {
  const d = JSON.parse(require('node:fs').readFileSync(path, 'utf8'));
  const timestamp = String(d.timestamp);
  const tampered = `${d.body} `;
  return [
    expect('X-Authorization-HMAC-256', verifyHmac(d.secret, d.body, d.hmac), true),
    expect('webhook-signature', verifyStandard(d.secret, d.id, timestamp, d.body, d.signature), true),
    expect('webhook-timestamp within tolerance', timestampIsFresh(timestamp), true),
    expect('X-Authorization-HMAC-256 on a tampered body', verifyHmac(d.secret, tampered, d.hmac), false),
    expect('webhook-signature on a tampered body',
      verifyStandard(d.secret, d.id, timestamp, tampered, d.signature), false),
  ].every(Boolean);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  let passed;
  if (args.length === 2 && args[0] === '--check') {
    passed = checkDelivery(args[1]);
  } else if (args.length === 0) {
    passed = checkVectors(require('node:path').join(__dirname, '..', 'vectors.json'));
  } else {
    console.error('usage: node verify.js [--check DELIVERY.json]');
    process.exit(2);
  }
  process.exit(passed ? 0 : 1);
}
