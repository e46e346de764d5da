import { KeyedMutex } from './keyed-mutex';
import { isDuplicateKeyError } from './mongo';

/**
 * Appends to a log whose records carry a gap-free `sequence` under a unique index (the
 * payment event log, the audit chain). Without transactions the unique index is the lock:
 * a writer that loses the race for a sequence re-reads the tail and tries again.
 *
 * Inside one process, appends queue on a mutex and the tail is remembered, so the common
 * case is one insert with no read and no collision; only writers in other processes can
 * collide, and then the remembered tail is dropped and read again.
 */
export class SequencedLog<Tail extends { sequence: number }> {
  private readonly mutex = new KeyedMutex();
  private tail: Tail | null | undefined;

  constructor(
    /** Reads the record with the highest sequence (null for an empty log). */
    private readonly readTail: () => Promise<Tail | null>,
    private readonly maxAttempts = 200,
  ) {}

  /**
   * `attempt` gets the current tail and inserts the next record, returning what to remember as
   * the new tail and the result. It may return `{ existing }` when the record is already there
   * (an idempotent re-append), which leaves the tail alone.
   */
  append<R>(attempt: (tail: Tail | null) => Promise<{ inserted: Tail; result: R } | { existing: R }>): Promise<R> {
    return this.mutex.run('log', async () => {
      for (let tries = 0; ; tries++) {
        if (this.tail === undefined) this.tail = await this.readTail();
        try {
          const outcome = await attempt(this.tail);
          if ('existing' in outcome) return outcome.existing;
          this.tail = outcome.inserted;
          return outcome.result;
        } catch (error) {
          if (!isDuplicateKeyError(error) || tries >= this.maxAttempts) throw error;
          // Another process appended: forget the tail, back off a little, read it again.
          this.tail = undefined;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, tries + 1)));
        }
      }
    });
  }
}
