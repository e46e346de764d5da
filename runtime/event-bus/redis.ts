import Redis from 'ioredis';
import type { EventBus } from './index';
import { PendingCommands, TopicHandlers } from './topic-handlers';

/**
 * Redis pub/sub: one connection publishes, one subscribes (a subscribed Redis connection
 * can do nothing else). Channels are `<prefix>:<topic>`. ioredis reconnects and
 * resubscribes on its own; messages published while disconnected are lost, which the
 * durable log and the subscribers' safety re-reads make harmless.
 */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new TopicHandlers();
  private readonly commands = new PendingCommands();
  private closing = false;

  constructor(url: string, private readonly prefix: string) {
    const options = { lazyConnect: false, maxRetriesPerRequest: 3, enableOfflineQueue: true };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, options);
    for (const connection of [this.publisher, this.subscriber]) connection.on('error', () => {}); // reconnects; errors surface on commands
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (!channel.startsWith(`${this.prefix}:`)) return;
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        return;
      }
      this.handlers.deliver(channel.slice(this.prefix.length + 1), message);
    });
  }

  private channel(topic: string): string {
    return `${this.prefix}:${topic}`;
  }

  publish(topic: string, message: unknown): void {
    this.publisher.publish(this.channel(topic), JSON.stringify(message ?? null)).catch(() => {});
  }

  subscribe(topic: string, handler: (message: unknown) => void): () => void {
    if (this.handlers.add(topic, handler)) this.track(this.subscriber.subscribe(this.channel(topic)));
    return () => {
      if (this.handlers.remove(topic, handler)) this.track(this.subscriber.unsubscribe(this.channel(topic)));
    };
  }

  private track(command: Promise<unknown>): void {
    this.commands.track(command);
  }

  ready(): Promise<void> {
    return this.commands.ready();
  }

  connected(): boolean {
    return !this.closing && this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    this.handlers.clear();
    await Promise.all([this.publisher.quit().catch(() => {}), this.subscriber.quit().catch(() => {})]);
  }
}
