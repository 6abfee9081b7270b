/**
 * Bounds the message bytes one worker process holds at once. The parser keeps each attachment in
 * memory while it is verified and stored, so a burst of 20 MB messages at full concurrency would
 * multiply the process's memory; small messages still run side by side. Waiters are served in
 * order, so a big message is never starved by a stream of small ones, and a message larger than
 * the whole budget still runs, alone.
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  async run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const weight = Math.min(Math.max(bytes, 1), this.capacity);
    await this.acquire(weight);
    try {
      return await fn();
    } finally {
      this.used -= weight;
      this.wake();
    }
  }

  get inUse(): number {
    return this.used;
  }

  private acquire(weight: number): Promise<void> {
    if (this.waiting.length === 0 && this.used + weight <= this.capacity) {
      this.used += weight;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ weight, start: resolve }));
  }

  private wake(): void {
    for (let next = this.waiting[0]; next && this.used + next.weight <= this.capacity; next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.weight;
      next.start();
    }
  }
}
