import type { EventBus } from './index';
import { TopicHandlers } from './topic-handlers';

/** One process only: publish reaches this process's subscribers, on the next tick. */
export class InProcessEventBus implements EventBus {
  private readonly handlers = new TopicHandlers();

  publish(topic: string, message: unknown): void {
    // Serialised like the networked buses, so no subscriber can share or mutate the publisher's object.
    const copy = JSON.parse(JSON.stringify(message ?? null)) as unknown;
    queueMicrotask(() => this.handlers.deliver(topic, copy));
  }

  subscribe(topic: string, handler: (message: unknown) => void): () => void {
    this.handlers.add(topic, handler);
    return () => void this.handlers.remove(topic, handler);
  }

  async ready(): Promise<void> {}

  connected(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
