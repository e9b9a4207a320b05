import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backlog, type Reservation } from '../../src/server/dispatch/backlog';
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

  type Admission = Reservation | null | Promise<Reservation | null>;
  /** What an admit() came to so far: `pending` while it waits, then its reservation or null. */
  const track = (admission: Admission) => {
    const state: { value: Reservation | null | 'pending' } = { value: 'pending' };
    if (admission instanceof Promise) admission.then((value) => (state.value = value));
    else state.value = admission;
    return state;
  };
  const settle = () => vi.advanceTimersByTimeAsync(0);
  const let_in = (state: { value: Reservation | null | 'pending' }) =>
    state.value === 'pending' ? 'pending' : state.value ? 'in' : 'refused';
  /** Admitted at once, stored as execution `id`. */
  const store = (backlog: Backlog, id: string, bytes: number) => {
    const reservation = backlog.admit(bytes);
    if (!reservation || reservation instanceof Promise) throw new Error(`${id} was not admitted at once`);
    backlog.hold(id, bytes);
    reservation.release();
  };

  it('admits within the cap at once; past it, waits for room', async () => {
    const backlog = new Backlog(100, 1_000);
    store(backlog, 'a', 60);
    store(backlog, 'b', 40);
    const c = track(backlog.admit(50));
    await settle();
    expect([let_in(c), backlog.waiting]).toEqual(['pending', 1]);
    // 40 bytes free: not enough for 50.
    backlog.release('b');
    await settle();
    expect(let_in(c)).toBe('pending');
    backlog.release('a');
    await settle();
    expect([let_in(c), backlog.waiting, backlog.bytes]).toEqual(['in', 0, 50]);
  });

  it('keeps room for an admitted delivery until it is stored or refused; once refused, the next comes in', async () => {
    const backlog = new Backlog(100, 1_000);
    const first = backlog.admit(80) as Reservation;
    // Not stored yet, but its room is kept.
    const second = track(backlog.admit(80));
    await settle();
    expect([let_in(second), backlog.bytes]).toEqual(['pending', 80]);
    // Refused (a bad signature, say): its room goes to the waiter at once.
    first.release();
    first.release();
    await settle();
    expect([let_in(second), backlog.bytes]).toEqual(['in', 80]);
  });

  it('refuses a waiter whose time is up, and with no wait refuses at once', async () => {
    const backlog = new Backlog(100, 1_000);
    store(backlog, 'a', 100);
    const b = track(backlog.admit(10));
    await vi.advanceTimersByTimeAsync(999);
    expect(let_in(b)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect([let_in(b), backlog.waiting]).toEqual(['refused', 0]);
    const noWait = new Backlog(100, 0);
    store(noWait, 'a', 100);
    expect(noWait.admit(10)).toBeNull();
  });

  it('lets waiters in first come, first served, as many as fit', async () => {
    const backlog = new Backlog(100, 10_000);
    store(backlog, 'a', 50);
    store(backlog, 'b', 50);
    const first = track(backlog.admit(60));
    const second = track(backlog.admit(30));
    await settle();
    // A newcomer that would fit behind them waits its turn too.
    backlog.release('a');
    const third = track(backlog.admit(1));
    await settle();
    expect([let_in(first), let_in(second), let_in(third)]).toEqual(['pending', 'pending', 'pending']);
    backlog.release('b');
    await settle();
    expect([let_in(first), let_in(second), let_in(third)]).toEqual(['in', 'in', 'in']);
    expect(backlog.bytes).toBe(91);
  });

  it('an empty backlog takes one delivery of any size', async () => {
    const backlog = new Backlog(100, 10_000);
    const big = backlog.admit(5_000) as Reservation;
    const small = track(backlog.admit(10));
    await settle();
    expect(let_in(small)).toBe('pending');
    big.release();
    await settle();
    expect(let_in(small)).toBe('in');
  });

  it('close refuses every waiter and every later wait', async () => {
    const backlog = new Backlog(100, 10_000);
    store(backlog, 'a', 100);
    const waiter = track(backlog.admit(10));
    backlog.close();
    await settle();
    expect(let_in(waiter)).toBe('refused');
    expect(backlog.admit(10)).toBeNull();
  });

  it('a cap of 0 admits everything at once', () => {
    const backlog = new Backlog(0, 1_000);
    backlog.hold('a', 1e9);
    expect(backlog.admit(1e9)).not.toBeNull();
    expect(backlog.bytes).toBe(0);
  });

  // Random walks: deliveries arrive, are stored or refused, executions end, time passes. After
  // every step: the bytes counted are those of the stored executions and admitted deliveries;
  // they exceed the cap only when a single delivery does; waiters are let in in arrival order;
  // the first waiter does not wait while it fits; no one waits past its time. BACKLOG_WALK_SEED=<n>
  // replays a walk.
  const seeds = process.env.BACKLOG_WALK_SEED ? [Number(process.env.BACKLOG_WALK_SEED)] : [1, 2, 3, 4, 5, 6, 7, 8];
  it.each(seeds)('keeps its invariants over a random walk (seed %i)', async (seed) => {
    const random = prng(seed);
    const max = 1_000;
    const waitMs = 500;
    const backlog = new Backlog(max, waitMs);
    type Delivery = { id: number; bytes: number; at: number; state: { value: Reservation | null | 'pending' } };
    const held = new Map<number, number>();
    const admitted: Delivery[] = [];
    const waiting: Delivery[] = [];
    let clock = 0;
    let nextId = 0;
    const log: string[] = [];
    const fail = (why: string) => {
      throw new Error(`seed ${seed}: ${why}\n${log.slice(-15).join('\n')}`);
    };

    for (let step = 0; step < 400; step++) {
      const roll = random();
      if (roll < 0.4) {
        const bytes = random() < 0.1 ? 2_000 : Math.ceil(random() * 400);
        const waitersBefore = waiting.length;
        const d: Delivery = { id: ++nextId, bytes, at: clock, state: track(backlog.admit(bytes)) };
        if (let_in(d.state) === 'in' && waitersBefore) fail(`newcomer ${d.id} passed ${waitersBefore} waiter(s)`);
        if (let_in(d.state) === 'in') admitted.push(d);
        if (let_in(d.state) === 'pending') waiting.push(d);
        log.push(`${clock}: arrive ${d.id} (${bytes} B) -> ${let_in(d.state)}`);
      } else if (roll < 0.65 && admitted.length) {
        // An admitted delivery is stored (its execution holds its bytes), or refused later.
        const d = admitted.splice(Math.floor(random() * admitted.length), 1)[0];
        if (random() < 0.85) {
          backlog.hold(d.id, d.bytes);
          held.set(d.id, d.bytes);
          log.push(`${clock}: store ${d.id}`);
        } else log.push(`${clock}: refuse ${d.id} after admission`);
        (d.state.value as Reservation).release();
      } else if (roll < 0.9 && held.size) {
        const ids = [...held.keys()];
        const id = ids[Math.floor(random() * ids.length)];
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

      for (const d of [...waiting]) {
        if (let_in(d.state) === 'pending') continue;
        const earlier = waiting.find((w) => w.id < d.id && let_in(w.state) === 'pending');
        if (earlier && let_in(d.state) === 'in') fail(`${d.id} let in before ${earlier.id}`);
        if (let_in(d.state) === 'in') admitted.push(d);
        waiting.splice(waiting.indexOf(d), 1);
      }
      const inside = [...held.values(), ...admitted.map((d) => d.bytes)];
      const bytes = inside.reduce((a, b) => a + b, 0);
      if (backlog.bytes !== bytes) fail(`backlog counts ${backlog.bytes} B, deliveries inside hold ${bytes} B`);
      if (inside.length > 1 && bytes > max) fail(`${inside.length} deliveries inside hold ${bytes} B`);
      if (waiting.length && (bytes === 0 || bytes + waiting[0].bytes <= max)) {
        fail(`${waiting[0].id} waits though it fits (${bytes} B inside)`);
      }
      for (const d of waiting) if (clock - d.at > waitMs) fail(`${d.id} still waits after ${clock - d.at} ms`);
      if (backlog.waiting !== waiting.length)
        fail(`backlog has ${backlog.waiting} waiters, expected ${waiting.length}`);
    }
  });
});
