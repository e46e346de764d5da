import { connect, type NatsConnection, type Subscription } from 'nats';
import type { EventBus } from './index';
import { PendingCommands, TopicHandlers } from './topic-handlers';

/**
 * NATS core subjects `<prefix>.<topic>`. The connection is opened in the background;
 * publishes and subscriptions made before it is up are applied once it is. The client
 * reconnects and resubscribes on its own.
 */
export class NatsEventBus implements EventBus {
  private readonly connection: Promise<NatsConnection>;
  private readonly handlers = new TopicHandlers();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly commands = new PendingCommands();
  private up = false;

  constructor(url: string, private readonly prefix: string) {
    const servers = url.replace(/^nats:\/\//, '');
    this.connection = connect({ servers, reconnect: true, maxReconnectAttempts: -1, name: 'paygraph' });
    this.connection.then((nc) => this.watchStatus(nc), () => {});
  }

  /** Tracks disconnects and reconnects: the client keeps retrying, readiness says when it is down. */
  private async watchStatus(nc: NatsConnection): Promise<void> {
    this.up = true;
    void nc.closed().then(() => {
      this.up = false;
    });
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.up = false;
      if (status.type === 'reconnect') this.up = true;
    }
  }

  private subject(topic: string): string {
    return `${this.prefix}.${topic}`;
  }

  publish(topic: string, message: unknown): void {
    const data = this.encoder.encode(JSON.stringify(message ?? null));
    this.connection.then((nc) => nc.publish(this.subject(topic), data)).catch(() => {});
  }

  subscribe(topic: string, handler: (message: unknown) => void): () => void {
    if (this.handlers.add(topic, handler)) {
      const subscribed = this.connection.then(async (nc) => {
        if (!this.handlers.has(topic) || this.subscriptions.has(topic)) return;
        const subscription = nc.subscribe(this.subject(topic), {
          callback: (error, msg) => {
            if (error) return;
            let message: unknown;
            try {
              message = JSON.parse(this.decoder.decode(msg.data));
            } catch {
              return;
            }
            this.handlers.deliver(topic, message);
          },
        });
        this.subscriptions.set(topic, subscription);
        await nc.flush(); // the server has the subscription once flush returns
      });
      this.track(subscribed);
    }
    return () => {
      if (!this.handlers.remove(topic, handler)) return;
      this.subscriptions.get(topic)?.unsubscribe();
      this.subscriptions.delete(topic);
    };
  }

  private track(command: Promise<unknown>): void {
    this.commands.track(command);
  }

  ready(): Promise<void> {
    return this.commands.ready();
  }

  connected(): boolean {
    return this.up;
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscriptions.clear();
    const nc = await this.connection.catch(() => undefined);
    await nc?.drain().catch(() => {});
  }
}
