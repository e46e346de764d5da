/** Handlers per topic, shared by the implementations: one server subscription per topic. */
export class TopicHandlers {
  private readonly byTopic = new Map<string, Set<(message: unknown) => void>>();

  /** Adds a handler; returns true when it is the topic's first (subscribe on the server). */
  add(topic: string, handler: (message: unknown) => void): boolean {
    let handlers = this.byTopic.get(topic);
    const first = !handlers;
    if (!handlers) this.byTopic.set(topic, (handlers = new Set()));
    handlers.add(handler);
    return first;
  }

  /** Removes a handler; returns true when the topic has no handler left (unsubscribe on the server). */
  remove(topic: string, handler: (message: unknown) => void): boolean {
    const handlers = this.byTopic.get(topic);
    if (!handlers?.delete(handler)) return false;
    if (handlers.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  deliver(topic: string, message: unknown): void {
    for (const handler of [...(this.byTopic.get(topic) ?? [])]) {
      try {
        handler(message);
      } catch {
        // one failing subscriber must not keep the message from the others
      }
    }
  }

  clear(): void {
    this.byTopic.clear();
  }
}

/** Server commands (subscribe, unsubscribe) still under way; `ready()` waits for all of them. */
export class PendingCommands {
  private pending: Promise<unknown>[] = [];

  track(command: Promise<unknown>): void {
    const settled = command.catch(() => {});
    this.pending.push(settled);
    void settled.then(() => {
      this.pending = this.pending.filter((p) => p !== settled);
    });
  }

  async ready(): Promise<void> {
    await Promise.all(this.pending);
  }
}
