/**
 * A first-in first-out lane with a fixed number of runners. Sync webhook runs go through it
 * so that on SQLite, which has a single writer, concurrent webhooks wait their turn instead
 * of failing with SQLITE_BUSY; on PostgreSQL and MariaDB several run side by side.
 */
export class Lane {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly width: number) {}

  get pending(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.width) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
