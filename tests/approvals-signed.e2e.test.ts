import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { signDevToken } from '../runtime/dev-token';
import { openCustomerAccount, startTestStack, type TestStack } from './support/stack';

/**
 * Signed multi-party approvals over the real stack: approvers' Ed25519 keys registered by an
 * operator, a large payment needing 2 of 3 signatures over its canonical instruction, every
 * kind of bad approval refused, two good ones releasing and settling it (one through
 * `npm run approve`), and an auditor re-verifying who approved exactly what.
 */
const run = promisify(execFile);
let stack: TestStack;
let keyDir: string;

interface Approver {
  name: string;
  token: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId?: string;
}

async function approver(name: string): Promise<Approver> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { name, token: await signDevToken({ sub: name, scope: 'payments:read payments:approve' }), privateKey, publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

beforeAll(async () => {
  // From 10,000 USD: two signed approvals.
  stack = await startTestStack({ PAYGRAPH_SIGNED_APPROVAL_BANDS: '10000.00:2' });
  keyDir = mkdtempSync(join(tmpdir(), 'paygraph-keys-'));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

async function errorOf(query: string, variables: Record<string, unknown>, token?: string) {
  const result = await stack.graphql(query, variables, token);
  expect(result.errors?.length).toBeGreaterThan(0);
  return result.errors![0].extensions as { code: string; [key: string]: unknown };
}

const account = (name: string, deposit: string) => openCustomerAccount(stack, name, deposit, 'ENHANCED');

/** A payment from a fresh account (so no velocity rule sends it to review), created by the test operator. */
async function largePayment(key: string, amount: string): Promise<{ id: string; status: string; source: string; destination: string }> {
  const source = await account(`Payer ${key}`, '50000.00');
  const destination = await account(`Payee ${key}`, '0.00');
  const { createPayment } = await data('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', {
    i: { idempotencyKey: key, sourceAccountId: source, destinationAccountId: destination, amount: { amount, currency: 'USD' }, reference: `invoice ${key}` },
  });
  return { ...createPayment, source, destination };
}

const REQUEST = `query($id: ID!) { payment(id: $id) { status requiredApprovals
  approvalRequest { digest instruction version policy { required of signaturesRequired band bandFrom { amount } } } } }`;
const APPROVE = `mutation($id: ID!, $signature: String, $keyId: ID) {
  approvePayment(id: $id, signature: $signature, keyId: $keyId) { status approvals { approver keyId digest signature approvedAt } } }`;
const REGISTER = `mutation($i: RegisterApproverKeyInput!) { registerApproverKey(input: $i) { id approver fingerprint status publicKey } }`;
const VERIFY = `query($id: ID!) { verifyPaymentApprovals(id: $id) {
  paymentId digest instruction required validApprovals satisfied
  approvals { approver keyId digest signed matchesInstruction signatureValid keyStatus keyRevokedAt revokedBeforeRelease valid } } }`;

const signDigest = (digest: string, key: KeyObject) => sign(null, Buffer.from(digest, 'hex'), key).toString('base64');

async function approvalRequestOf(id: string) {
  const { payment } = await data(REQUEST, { id });
  return payment.approvalRequest as { digest: string; instruction: string; version: string; policy: Record<string, unknown> };
}

test('two of three registered approvers sign the instruction; bad approvals are refused; an auditor re-verifies', async () => {
  const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(approver));
  const creatorKey = generateKeyPairSync('ed25519');
  const creator: Approver = { name: 'test-operator', token: stack.operatorToken, privateKey: creatorKey.privateKey, publicKeyPem: creatorKey.publicKey.export({ format: 'pem', type: 'spki' }).toString() };

  // An approver cannot register keys; an operator can, in any of the three documented forms.
  expect(['FORBIDDEN', 'UNAUTHORIZED_FIELD_OR_TYPE']).toContain((await errorOf(REGISTER, { i: { approver: 'alice', publicKey: alice.publicKeyPem } }, alice.token)).code);
  // Bob's as base64 of the raw 32 bytes, carol's as base64 SPKI DER, the rest as PEM.
  const bobRaw = Buffer.from(bob.privateKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  const carolDer = carol.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
  for (const [who, publicKey] of [[alice, alice.publicKeyPem], [bob, bobRaw], [carol, carolDer], [dave, dave.publicKeyPem], [creator, creator.publicKeyPem]] as const) {
    const { registerApproverKey } = await data(REGISTER, { i: { approver: who.name, publicKey } });
    expect(registerApproverKey).toMatchObject({ approver: who.name, status: 'ACTIVE', id: expect.stringMatching(/^akey_[0-9a-f]{24}$/) });
    who.keyId = registerApproverKey.id;
  }
  // The same key again is the same registration; someone else's key cannot be claimed; junk is refused.
  expect((await data(REGISTER, { i: { approver: 'alice', publicKey: alice.publicKeyPem } })).registerApproverKey.id).toBe(alice.keyId);
  expect((await errorOf(REGISTER, { i: { approver: 'mallory', publicKey: alice.publicKeyPem } })).code).toBe('BAD_USER_INPUT');
  expect((await errorOf(REGISTER, { i: { approver: 'mallory', publicKey: 'not a key' } })).code).toBe('BAD_USER_INPUT');

  // Carol leaves: her key is revoked (twice: the same answer).
  const REVOKE = 'mutation($k: ID!) { revokeApproverKey(keyId: $k) { id status revokedAt revokedBy } }';
  const revoked = (await data(REVOKE, { k: carol.keyId })).revokeApproverKey;
  expect(revoked).toMatchObject({ id: carol.keyId, status: 'REVOKED', revokedBy: 'test-operator' });
  expect((await data(REVOKE, { k: carol.keyId })).revokeApproverKey.revokedAt).toBe(revoked.revokedAt);
  const { approverKeys } = await data('{ approverKeys { id approver status } }', {}, alice.token);
  expect(approverKeys).toEqual(expect.arrayContaining([{ id: carol.keyId, approver: 'carol', status: 'REVOKED' }, { id: bob.keyId, approver: 'bob', status: 'ACTIVE' }]));

  const payment = await largePayment('signed-1', '12345.67');
  expect(payment.status).toBe('REQUIRES_APPROVAL');
  const request = await approvalRequestOf(payment.id);
  expect(request.version).toBe('paygraph.instruction.v1');
  expect(request.digest).toBe(createHash('sha256').update(request.instruction, 'utf8').digest('hex'));
  expect(JSON.parse(request.instruction)).toMatchObject({
    paymentId: payment.id, amount: { minor: '1234567', currency: 'USD' }, source: payment.source, destination: payment.destination, reference: 'invoice signed-1', fx: null,
  });
  // 2 of alice, bob and dave: carol's key is revoked and the creator never counts.
  expect(request.policy).toEqual({ required: 2, of: 3, signaturesRequired: true, band: 'USD 10000.00 and above: 2 signatures', bandFrom: { amount: '10000.00' } });

  const refusal = (who: Approver, signature: string | null, keyId = who.keyId) => errorOf(APPROVE, { id: payment.id, signature, keyId: signature === null ? null : keyId }, who.token);
  expect((await refusal(alice, null)).code).toBe('SIGNATURE_REQUIRED');
  expect((await refusal(alice, randomBytes(64).toString('base64'))).code).toBe('SIGNATURE_INVALID');
  expect(await refusal(carol, signDigest(request.digest, carol.privateKey))).toMatchObject({ code: 'FORBIDDEN', reason: 'KEY_REVOKED' });
  expect((await refusal(creator, signDigest(request.digest, creator.privateKey))).code).toBe('FORBIDDEN');
  // Alice may not sign with bob's key, nor use a signature by her key with his id.
  expect((await refusal(alice, signDigest(request.digest, bob.privateKey), bob.keyId)).code).toBe('FORBIDDEN');
  // A signature over another instruction (the same payment for one cent more) does not verify.
  const altered = JSON.stringify({ ...JSON.parse(request.instruction), amount: { currency: 'USD', minor: '1234568' } });
  expect((await refusal(alice, signDigest(createHash('sha256').update(altered).digest('hex'), alice.privateKey))).code).toBe('SIGNATURE_INVALID');
  expect((await data(REQUEST, { id: payment.id })).payment.status).toBe('REQUIRES_APPROVAL');

  // Alice signs: one approval, recorded with her key and the digest; the same again changes nothing.
  const aliceSignature = signDigest(request.digest, alice.privateKey);
  const first = (await data(APPROVE, { id: payment.id, signature: aliceSignature, keyId: alice.keyId }, alice.token)).approvePayment;
  expect(first.status).toBe('REQUIRES_APPROVAL');
  expect(first.approvals).toEqual([{ approver: 'alice', keyId: alice.keyId, digest: request.digest, signature: aliceSignature, approvedAt: expect.any(String) }]);
  const again = (await data(APPROVE, { id: payment.id, signature: aliceSignature, keyId: alice.keyId }, alice.token)).approvePayment;
  expect(again.approvals).toEqual(first.approvals);

  // Bob approves with the CLI, which reads the instruction, recomputes the digest and signs.
  const bobKeyFile = join(keyDir, 'bob.pem');
  writeFileSync(bobKeyFile, bob.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  const cli = await run(join(process.cwd(), 'node_modules/.bin/tsx'), ['scripts/approve.ts', payment.id, '--key', bobKeyFile, '--key-id', bob.keyId!, '--url', stack.gatewayUrl], {
    env: { ...process.env, PAYGRAPH_TOKEN: bob.token },
  });
  expect(cli.stdout).toContain(`digest: ${request.digest}`);
  expect(cli.stdout).toMatch(/approved: 2 approval\(s\); status (PROCESSING|SETTLED)/);

  const settled = (await data(`query($id: ID!) { payment(id: $id) { status approvals { approver keyId } source { balance { amount } } destination { balance { amount } } } }`, { id: payment.id })).payment;
  expect(settled).toEqual({
    status: 'SETTLED',
    approvals: [{ approver: 'alice', keyId: alice.keyId }, { approver: 'bob', keyId: bob.keyId }],
    source: { balance: { amount: '37654.33' } },
    destination: { balance: { amount: '12345.67' } },
  });
  // Released: a late repeat of alice's approval is still the same approval.
  expect((await data(APPROVE, { id: payment.id, signature: aliceSignature, keyId: alice.keyId }, alice.token)).approvePayment.status).toBe('SETTLED');

  // The auditor: both signatures verify over exactly this instruction; alice's key, revoked since, is reported as such.
  await data(REVOKE, { k: alice.keyId });
  const audit = (await data(VERIFY, { id: payment.id })).verifyPaymentApprovals;
  expect(audit).toEqual({
    paymentId: payment.id, digest: request.digest, instruction: request.instruction, required: 2, validApprovals: 2, satisfied: true,
    approvals: [
      { approver: 'alice', keyId: alice.keyId, digest: request.digest, signed: true, matchesInstruction: true, signatureValid: true, keyStatus: 'REVOKED', keyRevokedAt: expect.any(String), revokedBeforeRelease: false, valid: true },
      { approver: 'bob', keyId: bob.keyId, digest: request.digest, signed: true, matchesInstruction: true, signatureValid: true, keyStatus: 'ACTIVE', keyRevokedAt: null, revokedBeforeRelease: false, valid: true },
    ],
  });

  // A signature is bound to its payment: bob's over the first payment does not approve a second, identical one.
  const second = await largePayment('signed-2', '12345.67');
  const secondRequest = await approvalRequestOf(second.id);
  expect(secondRequest.digest).not.toBe(request.digest);
  expect((await errorOf(APPROVE, { id: second.id, signature: signDigest(request.digest, bob.privateKey), keyId: bob.keyId }, bob.token)).code).toBe('SIGNATURE_INVALID');

  // Two approvers at once: the compare-and-set keeps both, and the payment settles once.
  const [fromBob, fromDave] = await Promise.all([
    stack.graphql(APPROVE, { id: second.id, signature: signDigest(secondRequest.digest, bob.privateKey), keyId: bob.keyId }, bob.token),
    stack.graphql(APPROVE, { id: second.id, signature: signDigest(secondRequest.digest, dave.privateKey), keyId: dave.keyId }, dave.token),
  ]);
  expect([fromBob.errors, fromDave.errors]).toEqual([undefined, undefined]);
  const secondAudit = (await data(VERIFY, { id: second.id })).verifyPaymentApprovals;
  expect(secondAudit.satisfied).toBe(true);
  expect(secondAudit.approvals.map((a: { approver: string }) => a.approver).sort()).toEqual(['bob', 'dave']);
  const { payment: secondSettled } = await data(`query($id: ID!) { payment(id: $id) { status events { status } } }`, { id: second.id });
  expect(secondSettled.status).toBe('SETTLED');
  expect(secondSettled.events.filter((e: { status: string }) => e.status === 'SETTLED')).toHaveLength(1);

  // The instruction changes after bob signed (written straight to the store, as a re-quote or a
  // tampering would): his signature no longer counts, at approval time, at release and in the audit.
  const third = await largePayment('signed-3', '15000.00');
  const thirdRequest = await approvalRequestOf(third.id);
  await data(APPROVE, { id: third.id, signature: signDigest(thirdRequest.digest, bob.privateKey), keyId: bob.keyId }, bob.token);
  const mongo = await MongoClient.connect(stack.mongoUri);
  try {
    await mongo.db(`${stack.dbPrefix}payments`).collection<{ _id: string }>('payments').updateOne({ _id: third.id }, { $set: { reference: 'changed after signing' }, $inc: { version: 1 } });
  } finally {
    await mongo.close();
  }
  const changed = await approvalRequestOf(third.id);
  expect(changed.digest).not.toBe(thirdRequest.digest);
  const afterDave = (await data(APPROVE, { id: third.id, signature: signDigest(changed.digest, dave.privateKey), keyId: dave.keyId }, dave.token)).approvePayment;
  expect(afterDave.status).toBe('REQUIRES_APPROVAL');
  const stale = (await data(VERIFY, { id: third.id })).verifyPaymentApprovals;
  expect(stale).toMatchObject({ validApprovals: 1, satisfied: false });
  expect(stale.approvals.find((a: { approver: string }) => a.approver === 'bob')).toMatchObject({ matchesInstruction: false, signatureValid: false, valid: false });
  // Bob reads the new instruction and signs again: now two signatures over it release the payment.
  const resigned = (await data(APPROVE, { id: third.id, signature: signDigest(changed.digest, bob.privateKey), keyId: bob.keyId }, bob.token)).approvePayment;
  expect(resigned.status).toBe('SETTLED');

  // A key revoked while its signature waits for a second one (a lost laptop) helps release nothing.
  const fourth = await largePayment('signed-4', '14000.00');
  const fourthRequest = await approvalRequestOf(fourth.id);
  await data(APPROVE, { id: fourth.id, signature: signDigest(fourthRequest.digest, bob.privateKey), keyId: bob.keyId }, bob.token);
  await data(REVOKE, { k: bob.keyId });
  const afterRevocation = (await data(APPROVE, { id: fourth.id, signature: signDigest(fourthRequest.digest, dave.privateKey), keyId: dave.keyId }, dave.token)).approvePayment;
  expect(afterRevocation.status).toBe('REQUIRES_APPROVAL');
  const fourthAudit = (await data(VERIFY, { id: fourth.id })).verifyPaymentApprovals;
  expect(fourthAudit).toMatchObject({ validApprovals: 1, satisfied: false });
  expect(fourthAudit.approvals).toEqual([
    expect.objectContaining({ approver: 'bob', signatureValid: true, keyStatus: 'REVOKED', revokedBeforeRelease: true, valid: false }),
    expect.objectContaining({ approver: 'dave', signatureValid: true, keyStatus: 'ACTIVE', revokedBeforeRelease: false, valid: true }),
  ]);
}, 180_000);

test('a customer sees no approver keys and cannot verify another customer\'s payment', async () => {
  const payment = await largePayment('signed-tenant', '11000.00');
  const stranger = await signDevToken({ sub: 'stranger', scope: 'payments:read payments:approve', customerId: 'cus_somebody_else' });
  const verify = await stack.graphql(VERIFY, { id: payment.id }, stranger);
  expect(verify.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect((await errorOf('{ approverKeys { id } }', {}, stranger)).code).toBe('FORBIDDEN');
}, 60_000);
