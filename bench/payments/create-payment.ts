import { graphqlRequest } from '../support';

/** The mutation every payment of the benchmark sends, and how its answer becomes an outcome code. */
export const CREATE_PAYMENT = 'mutation CreatePayment($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';

export interface Outcome {
  /** The payment's status (SETTLED, FAILED, …), or the first error's `extensions.code`. */
  code: string;
  /** The first error's message, when there is one. */
  message?: string;
}

/**
 * Payments between a set of funded accounts: payment `i` pays from account `i mod n` (so up
 * to n concurrent payments have distinct sources) into another, or every one into `hot`.
 */
export class PaymentPlan {
  private next = 0;

  constructor(
    private readonly accounts: readonly string[],
    private readonly keyPrefix: string,
    private readonly hot?: string,
  ) {}

  /** The next payment's input: a fresh idempotency key, a small varying amount. */
  nextInput(): Record<string, unknown> {
    const i = this.next++;
    const n = this.accounts.length;
    const source = this.accounts[i % n];
    const destination = this.hot ?? this.accounts[(i + 1 + (i % 7)) % n];
    return {
      idempotencyKey: `${this.keyPrefix}-${i}`,
      sourceAccountId: source,
      destinationAccountId: destination === source ? this.accounts[(i + 1) % n] : destination,
      amount: { amount: `${1 + (i % 50)}.${String(i % 100).padStart(2, '0')}`, currency: 'USD' },
    };
  }
}

/** Sends one createPayment through the gateway; a transport failure is the outcome NETWORK_ERROR. */
export async function sendPayment(gatewayUrl: string, token: string, input: Record<string, unknown>): Promise<Outcome> {
  try {
    const result = await graphqlRequest<{ createPayment: { status: string } | null }>(gatewayUrl, CREATE_PAYMENT, { i: input }, token);
    const error = result.errors?.[0];
    if (error) return { code: error.extensions?.code ?? `HTTP_${result.status}`, message: error.message };
    return { code: result.data?.createPayment?.status ?? 'NO_DATA' };
  } catch (error) {
    return { code: 'NETWORK_ERROR', message: (error as Error).message };
  }
}
