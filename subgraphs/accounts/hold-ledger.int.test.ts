import { isolateDatabases } from '../../tests/support/database';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../runtime/mongo';
import { ErrorCode, isPaygraphError } from '../../runtime/errors';
import { HoldLedger } from './hold-ledger';
import { newId } from './ids';
import { availableOf, positionOf } from './ledger';
import { LedgerService } from './ledger-service';
import { AccountsRepository } from './repository';

isolateDatabases();
process.env.MONGODB_ID_READS = 'in';

/**
 * Holds against the real embedded store, raced with ordinary transfers by two "processes"
 * (two HoldLedgers and two LedgerServices on one database): the account's sequence stays
 * gap-free, its available balance never below zero, and every operation answers the same twice.
 */
let mongo: MongoHandle;
let repository: AccountsRepository;
let funding: string;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  repository = new AccountsRepository(mongo.database('accounts'));
  await repository.ensureIndexes();
  funding = await new LedgerService(repository).systemAccountId('FUNDING', 'USD');
});
afterAll(async () => {
  await mongo?.close();
});

async function fundedAccount(minor: bigint): Promise<string> {
  const id = newId('acc');
  await repository.insertAccount({ _id: id, customerId: newId('cus'), currency: 'USD', status: 'ACTIVE', systemPurpose: null, createdAt: new Date() });
  if (minor > 0n) {
    await new LedgerService(repository).postTransfer({ transferId: `fund-${id}`, paymentId: null, debitAccountId: funding, creditAccountId: id, amountMinor: minor, currency: 'USD' });
  }
  return id;
}

test('holds and debits racing from two processes never take an account below zero available', async () => {
  const payer = await fundedAccount(10_000n);
  const payee = await fundedAccount(0n);
  const processes = [0, 1].map(() => ({ holds: new HoldLedger(repository), ledger: new LedgerService(repository) }));
  // 40 holds and 40 debits of 400 each: 32,000 asked of 10,000.
  const outcomes = await Promise.all(
    Array.from({ length: 80 }, async (_, i) => {
      const { holds, ledger } = processes[i % 2];
      try {
        if (i % 4 < 2) await holds.placeHold({ paymentId: `pay_h${i}`, accountId: payer, amountMinor: 400n, currency: 'USD' });
        else await ledger.postTransfer({ transferId: `pay_d${i}`, paymentId: `pay_d${i}`, debitAccountId: payer, creditAccountId: payee, amountMinor: 400n, currency: 'USD' });
        return 'ok';
      } catch (error) {
        if (isPaygraphError(error) && error.code === ErrorCode.INSUFFICIENT_FUNDS) return 'refused';
        throw error;
      }
    }),
  );
  expect(outcomes.filter((o) => o === 'ok')).toHaveLength(25); // exactly what 10,000 covers

  const records = await repository.records.find({ accountId: payer }).sort({ sequence: 1 }).toArray();
  expect(records.map((r) => Number(r.sequence))).toEqual(records.map((_, i) => i + 1));
  for (const record of records) expect(availableOf(positionOf({ ...record, sequence: Number(record.sequence) })) >= 0n).toBe(true);
  expect(availableOf(await repository.latestPosition(payer))).toBe(0n);
}, 120_000);

test('capture, release and placing again answer the same; a closed hold cannot be closed another way', async () => {
  const payer = await fundedAccount(1_000n);
  const payee = await fundedAccount(0n);
  const [a, b] = [new HoldLedger(repository), new HoldLedger(repository)];
  const hold = { paymentId: 'pay_capture1', accountId: payer, amountMinor: 600n, currency: 'USD' };
  const placed = await Promise.all([a.placeHold(hold), b.placeHold(hold)]);
  expect(placed.map((o) => o.state)).toEqual(['HELD', 'HELD']);
  await expect(a.placeHold({ ...hold, amountMinor: 601n })).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_KEY_REUSED });
  expect(await repository.latestPosition(payer)).toEqual({ sequence: 2, balanceAfterMinor: 1_000n, availableAfterMinor: 400n });

  const capture = { paymentId: 'pay_capture1', creditAccountId: payee, amountMinor: 250n };
  const captured = await Promise.all([a.captureHold(capture), b.captureHold(capture)]);
  expect(captured.map((o) => [o.state, o.capturedMinor])).toEqual([['CAPTURED', 250n], ['CAPTURED', 250n]]);
  expect(await repository.latestPosition(payer)).toEqual({ sequence: 3, balanceAfterMinor: 750n });
  expect(await repository.latestPosition(payee)).toEqual({ sequence: 1, balanceAfterMinor: 250n });
  await expect(a.releaseHold('pay_capture1')).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE_TRANSITION });
  await expect(a.captureHold({ ...capture, amountMinor: 100n })).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE_TRANSITION });

  const voided = { paymentId: 'pay_void1', accountId: payer, amountMinor: 750n, currency: 'USD' };
  await a.placeHold(voided);
  expect((await Promise.all([a.releaseHold('pay_void1'), b.releaseHold('pay_void1')])).map((o) => o.state)).toEqual(['RELEASED', 'RELEASED']);
  await expect(b.captureHold({ paymentId: 'pay_void1', creditAccountId: payee, amountMinor: 1n })).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE_TRANSITION });
  await expect(b.releaseHold('pay_none')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  expect(positionOf((await repository.latestPosition(payer))!)).toEqual({ sequence: 5, balanceAfterMinor: 750n });
}, 120_000);

test('a capture whose credit leg was lost is finished with the credit only', async () => {
  const payer = await fundedAccount(500n);
  const payee = await fundedAccount(0n);
  const holds = new HoldLedger(repository);
  await holds.placeHold({ paymentId: 'pay_half1', accountId: payer, amountMinor: 300n, currency: 'USD' });
  await holds.captureHold({ paymentId: 'pay_half1', creditAccountId: payee, amountMinor: 300n });
  // As if the ordered insert had stopped after the debit (a crash on a store without one transaction per insert).
  await repository.records.deleteOne({ _id: 'led_pay_half1:capture/credit' });
  const again = await holds.captureHold({ paymentId: 'pay_half1', creditAccountId: payee, amountMinor: 300n });
  expect([again.state, again.capturedMinor]).toEqual(['CAPTURED', 300n]);
  expect(await repository.latestPosition(payer)).toEqual({ sequence: 3, balanceAfterMinor: 200n });
  expect(await repository.latestPosition(payee)).toEqual({ sequence: 1, balanceAfterMinor: 300n });
}, 120_000);
