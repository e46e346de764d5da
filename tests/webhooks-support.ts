import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { verifySignature } from '../subgraphs/payments/webhooks/signer';

/** One POST as a test receiver saw it. */
export interface ReceivedWebhook {
  eventId: string;
  type: string;
  paymentId: string | null;
  status: string | null;
  body: string;
  signature: string;
  /** Which of the receiver's secrets verified it (none = forged or stale). */
  verifiedWith: string[];
  answered: number | 'hang';
  receivedAt: number;
  answeredAt: number | null;
}

/** What the receiver answers the n-th request (0-based) with: a status, or 'hang' (never answers until closed). */
export type Answer = (request: number, event: { eventId: string; paymentId: string | null }) => number | 'hang';

/**
 * A real HTTP receiver on loopback that verifies every signature with the secrets it is
 * given, records every request, answers as the test says, and tracks overlapping requests
 * (the same event, or two events of one payment, in flight at once).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  secrets: string[] = [];
  answer: Answer = () => 200;
  /** Delay before answering (makes overlapping sends visible). */
  delayMs = 0;
  readonly overlaps: string[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  private waiters: (() => void)[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hooks`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Resolves when `condition` holds (checked on every request). */
  until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver: timed out waiting for ${what}; got ${JSON.stringify(this.received.map((r) => [r.eventId, r.type, r.answered]))}`)), timeoutMs);
      const check = () => {
        if (!condition()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (!check()) this.waiters.push(() => void check());
    });
  }

  /** Event ids acknowledged (answered 2xx), first acknowledgement order. */
  acknowledged(): string[] {
    return [...new Set(this.received.filter((r) => r.answered === 200 && r.answeredAt !== null).map((r) => r.eventId))];
  }

  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const parsed = JSON.parse(body) as { id: string; type: string; data: { status?: string; payment: { id: string } | null } };
    const signature = String(req.headers['paygraph-signature'] ?? '');
    const paymentId = parsed.data.payment?.id ?? null;
    const record: ReceivedWebhook = {
      eventId: parsed.id, type: parsed.type, paymentId, status: parsed.data.status ?? null, body, signature,
      verifiedWith: this.secrets.filter((secret) => verifySignature(signature, body, secret)),
      answered: this.answer(this.received.length, { eventId: parsed.id, paymentId }), receivedAt: Date.now(), answeredAt: null,
    };
    this.received.push(record);
    const keys = [`event ${parsed.id}`, ...(paymentId ? [`payment ${paymentId}`] : [])];
    for (const key of keys) {
      if ((this.inFlight.get(key) ?? 0) > 0) this.overlaps.push(key);
      this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    }
    const done = () => {
      for (const key of keys) this.inFlight.set(key, this.inFlight.get(key)! - 1);
    };
    this.notify();
    if (record.answered === 'hang') {
      this.hanging.add(res);
      res.on('close', done);
      return;
    }
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    done();
    res.writeHead(record.answered).end();
    record.answeredAt = Date.now();
    this.notify();
  }
}
