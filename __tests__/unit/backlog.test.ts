import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backlog } from '../../src/server/dispatch/backlog';
import { prng } from '../helpers/prng';

// The async backlog (src/server/dispatch/backlog.ts) on its own, with fake timers. The route's use
// of it (a 202 after the wait, a 429 past it) is tested in spec/configuration.test.ts.
describe('Backlog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** What a pending admit() came to so far: undefined while it waits. */
  const track = (admission: boolean | Promise<boolean>) => {
    const state: { value?: boolean } = {};
    if (typeof admission === 'boolean') state.value = admission;
    else admission.then((value) => (state.value = value));
    return state;
  };
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('admits within the cap at once; past it, waits for an execution to end', async () => {
    const backlog = new Backlog(100, 1_000);
    expect(backlog.admit(60)).toBe(true);
    backlog.hold('a', 60);
    expect(backlog.admit(40)).toBe(true);
    backlog.hold('b', 40);
    const c = track(backlog.admit(50));
    await settle();
    expect(c.value).toBeUndefined();
    expect(backlog.waiting).toBe(1);
    // 40 bytes free: not enough for 50.
    backlog.release('b');
    await settle();
    expect(c.value).toBeUndefined();
    backlog.release('a');
    await settle();
    expect(c.value).toBe(true);
    expect(backlog.waiting).toBe(0);
  });

  it('refuses a waiter whose time is up, and with no wait refuses at once', async () => {
    const backlog = new Backlog(100, 1_000);
    backlog.hold('a', 100);
    const b = track(backlog.admit(10));
    await vi.advanceTimersByTimeAsync(999);
    expect(b.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(b.value).toBe(false);
    expect(backlog.waiting).toBe(0);
    const noWait = new Backlog(100, 0);
    noWait.hold('a', 100);
    expect(noWait.admit(10)).toBe(false);
  });

  it('lets waiters in first come, first served, one for each execution that ends', async () => {
    const backlog = new Backlog(100, 10_000);
    backlog.hold('a', 50);
    backlog.hold('b', 50);
    const first = track(backlog.admit(50));
    const second = track(backlog.admit(50));
    await settle();
    // A newcomer that would fit behind them waits its turn too.
    backlog.release('a');
    const third = track(backlog.admit(1));
    await settle();
    expect([first.value, second.value, third.value]).toEqual([true, undefined, undefined]);
    backlog.hold('c', 50);
    backlog.release('b');
    await settle();
    expect([second.value, third.value]).toEqual([true, undefined]);
  });

  it('an empty backlog takes one delivery of any size, and wakes a waiter left behind', async () => {
    const backlog = new Backlog(100, 10_000);
    expect(backlog.admit(5_000)).toBe(true);
    backlog.hold('big', 5_000);
    const waiter = track(backlog.admit(10));
    const next = track(backlog.admit(10));
    backlog.release('big');
    await settle();
    expect([waiter.value, next.value]).toEqual([true, undefined]);
    // The woken delivery was refused later (a bad body): nothing holds bytes, and a newcomer
    // lets the next waiter in.
    const newcomer = track(backlog.admit(10));
    await settle();
    expect([next.value, newcomer.value]).toEqual([true, undefined]);
  });

  it('close refuses every waiter and every later wait', async () => {
    const backlog = new Backlog(100, 10_000);
    backlog.hold('a', 100);
    const waiter = track(backlog.admit(10));
    backlog.close();
    await settle();
    expect(waiter.value).toBe(false);
    expect(backlog.admit(10)).toBe(false);
  });

  it('a cap of 0 admits everything at once', () => {
    const backlog = new Backlog(0, 1_000);
    backlog.hold('a', 1e9);
    expect(backlog.admit(1e9)).toBe(true);
  });

  // Random walks: deliveries arrive, are stored or refused, executions end, time passes. After
  // every step: waiters are answered in arrival order; no one waits past its time; a waiter is
  // let in only when the bytes held leave room for it (or nothing is held); a newcomer never
  // passes a waiter. BACKLOG_WALK_SEED=<n> replays a walk.
  const seeds = process.env.BACKLOG_WALK_SEED ? [Number(process.env.BACKLOG_WALK_SEED)] : [1, 2, 3, 4, 5, 6, 7, 8];
  it.each(seeds)('keeps its invariants over a random walk (seed %i)', async (seed) => {
    const random = prng(seed);
    const max = 1_000;
    const waitMs = 500;
    const backlog = new Backlog(max, waitMs);
    type Delivery = { id: number; bytes: number; at: number; state: { value?: boolean }; stored: boolean };
    const held = new Map<number, number>();
    let heldBytes = 0;
    let clock = 0;
    let nextId = 0;
    const waiting: Delivery[] = [];
    const admittedNotStored: Delivery[] = [];
    const log: string[] = [];
    const fail = (why: string) => {
      throw new Error(`seed ${seed}: ${why}\n${log.slice(-15).join('\n')}`);
    };

    for (let step = 0; step < 400; step++) {
      const roll = random();
      if (roll < 0.4) {
        const bytes = random() < 0.1 ? 2_000 : Math.ceil(random() * 400);
        const before = heldBytes;
        const admission = backlog.admit(bytes);
        const d: Delivery = { id: ++nextId, bytes, at: clock, state: {}, stored: false };
        if (typeof admission === 'boolean') {
          d.state.value = admission;
          if (admission && waiting.length) fail(`newcomer ${d.id} passed ${waiting.length} waiter(s)`);
          if (admission && before !== 0 && before + bytes > max) fail(`newcomer ${d.id} admitted over the cap`);
          if (admission) admittedNotStored.push(d);
        } else {
          admission.then((value) => (d.state.value = value));
          waiting.push(d);
        }
        log.push(`${clock}: arrive ${d.id} (${bytes} B) -> ${typeof admission === 'boolean' ? admission : 'waits'}`);
      } else if (roll < 0.65 && admittedNotStored.length) {
        // An admitted delivery is stored (its execution holds its bytes), or refused later.
        const d = admittedNotStored.splice(Math.floor(random() * admittedNotStored.length), 1)[0];
        if (random() < 0.85) {
          backlog.hold(d.id, d.bytes);
          held.set(d.id, d.bytes);
          heldBytes += d.bytes;
          log.push(`${clock}: store ${d.id}`);
        } else log.push(`${clock}: refuse ${d.id} after admission`);
      } else if (roll < 0.9 && held.size) {
        const ids = [...held.keys()];
        const id = ids[Math.floor(random() * ids.length)];
        heldBytes -= held.get(id) ?? 0;
        held.delete(id);
        backlog.release(id);
        log.push(`${clock}: end ${id}`);
      } else {
        const ms = Math.ceil(random() * 300);
        clock += ms;
        await vi.advanceTimersByTimeAsync(ms);
        log.push(`${clock}: +${ms} ms`);
      }
      await settle();

      if (backlog.bytes !== heldBytes) fail(`backlog counts ${backlog.bytes} B, executions hold ${heldBytes} B`);
      const answered = waiting.filter((d) => d.state.value !== undefined);
      for (const d of answered) {
        const earlierStillWaiting = waiting.find((w) => w.id < d.id && w.state.value === undefined);
        if (earlierStillWaiting && d.state.value) fail(`${d.id} let in before ${earlierStillWaiting.id}`);
        if (d.state.value && heldBytes !== 0 && heldBytes + d.bytes > max) fail(`${d.id} let in over the cap`);
        if (d.state.value) admittedNotStored.push(d);
        waiting.splice(waiting.indexOf(d), 1);
      }
      for (const d of waiting) if (clock - d.at > waitMs) fail(`${d.id} still waits after ${clock - d.at} ms`);
      if (backlog.waiting !== waiting.length)
        fail(`backlog has ${backlog.waiting} waiters, expected ${waiting.length}`);
    }
  });
});
