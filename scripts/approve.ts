import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { graphqlRequest } from './gateway-client';

/**
 * `npm run approve -- <paymentId> --key <private key file> --key-id <akey_…> [--token <jwt>] [--url <gateway>]`
 * signs a payment's approval request with an Ed25519 private key (PEM PKCS#8, as
 * `openssl genpkey -algorithm ed25519` writes it, or a JWK JSON file) and approves it through
 * the gateway. The instruction is printed and its digest recomputed here before signing:
 * the signer signs what they read, not a digest they are handed.
 */
const USAGE = 'usage: npm run approve -- <paymentId> --key <private key file> --key-id <akey_…> [--token <jwt> | PAYGRAPH_TOKEN] [--url <gateway>]';

const REQUEST = `query($id: ID!) { payment(id: $id) { id status amount { amount currency } approvalRequest { digest instruction version policy { required of band } } } }`;
const APPROVE = `mutation($id: ID!, $signature: String!, $keyId: ID!) {
  approvePayment(id: $id, signature: $signature, keyId: $keyId) { id status approvals { approver keyId approvedAt } }
}`;

function readPrivateKey(file: string): KeyObject {
  const text = readFileSync(file, 'utf8').trim();
  const key = text.startsWith('{') ? createPrivateKey({ key: JSON.parse(text), format: 'jwk' }) : createPrivateKey(text);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} holds a ${key.asymmetricKeyType} key; an Ed25519 key is needed`);
  return key;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      'key-id': { type: 'string' },
      token: { type: 'string' },
      url: { type: 'string', default: process.env.PAYGRAPH_GATEWAY_URL ?? 'http://localhost:4000/graphql' },
    },
  });
  const paymentId = positionals[0];
  const token = values.token ?? process.env.PAYGRAPH_TOKEN;
  if (!paymentId || !values.key || !values['key-id']) throw new Error(USAGE);
  if (!token) throw new Error(`a token is needed (--token or PAYGRAPH_TOKEN; npm run token -- --sub <you> --scope "payments:read payments:approve")\n${USAGE}`);
  const privateKey = readPrivateKey(values.key);

  const read = await graphqlRequest(values.url!, REQUEST, { id: paymentId }, token);
  if (read.errors?.length) throw new Error(`reading the payment failed: ${JSON.stringify(read.errors)}`);
  const payment = read.data?.payment;
  if (!payment) throw new Error(`payment ${paymentId} not found`);
  const request = payment.approvalRequest;
  if (!request) throw new Error(`payment ${paymentId} (${payment.status}) needs no approval`);
  const digest = createHash('sha256').update(request.instruction, 'utf8').digest('hex');
  if (digest !== request.digest) throw new Error(`the digest the gateway gave (${request.digest}) is not the SHA-256 of the instruction (${digest}): not signing`);
  console.log(`payment ${payment.id}: ${payment.amount.amount} ${payment.amount.currency}, ${payment.status}; policy ${request.policy.required} of ${request.policy.of} (${request.policy.band})`);
  console.log(`instruction (${request.version}): ${request.instruction}`);
  console.log(`digest: ${digest}`);

  const signature = sign(null, Buffer.from(digest, 'hex'), privateKey).toString('base64');
  const approved = await graphqlRequest(values.url!, APPROVE, { id: paymentId, signature, keyId: values['key-id'] }, token);
  if (approved.errors?.length) {
    const error = approved.errors[0];
    throw new Error(`approval refused (${error.extensions?.code ?? approved.status}): ${error.message}`);
  }
  const result = approved.data!.approvePayment;
  console.log(`approved: ${result.approvals.length} approval(s); status ${result.status}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
