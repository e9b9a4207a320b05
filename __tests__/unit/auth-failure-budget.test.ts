import { describe, expect, it } from 'vitest';
import { AuthFailureBudget } from '../../src/server/http/auth-failure-budget';

// The per-source budget for failed authentication (src/server/http/auth-failure-budget.ts), with
// the clock given by the test. The route's use of it is tested in traffic.test.ts.
describe('AuthFailureBudget', () => {
  const T = 1_700_000_000_000;
  const now = { holdMs: 0, close: false };
  const held = { holdMs: 500, close: false };

  it('answers failures within the budget at once and holds the rest, per source and second', () => {
    const budget = new AuthFailureBudget({ perSecond: 2, delayMs: 500, maxHeld: 100 });
    expect(budget.penalty('SIGNATURE_INVALID', '10.0.0.1', T)).toEqual(now);
    expect(budget.penalty('UNAUTHORIZED', '10.0.0.1', T + 10)).toEqual(now);
    expect(budget.penalty('TIMESTAMP_OUT_OF_TOLERANCE', '10.0.0.1', T + 20)).toEqual(held);
    // Another source has a budget of its own.
    expect(budget.penalty('SIGNATURE_INVALID', '10.0.0.2', T + 30)).toEqual(now);
    // The next second starts over.
    expect(budget.penalty('SIGNATURE_INVALID', '10.0.0.1', T + 1000)).toEqual(now);
  });

  it('never holds other answers: not found, forbidden, bad bodies, rate limits', () => {
    const budget = new AuthFailureBudget({ perSecond: 1, delayMs: 500, maxHeld: 100 });
    for (const code of ['NOT_FOUND', 'IP_FORBIDDEN', 'INVALID_BODY', 'RATE_LIMITED'] as const) {
      for (let i = 0; i < 5; i++) expect(budget.penalty(code, '10.0.0.1', T)).toEqual(now);
    }
  });

  it('is off with a budget or a delay of 0', () => {
    for (const options of [
      { perSecond: 0, delayMs: 500 },
      { perSecond: 1, delayMs: 0 },
    ]) {
      const budget = new AuthFailureBudget({ ...options, maxHeld: 100 });
      for (let i = 0; i < 5; i++) expect(budget.penalty('SIGNATURE_INVALID', '10.0.0.1', T)).toEqual(now);
    }
  });

  it('past maxHeld answers at once and closes the connection instead of holding more', async () => {
    const budget = new AuthFailureBudget({ perSecond: 1, delayMs: 50, maxHeld: 2 });
    budget.penalty('SIGNATURE_INVALID', 'a', T);
    const first = budget.penalty('SIGNATURE_INVALID', 'a', T);
    const second = budget.penalty('SIGNATURE_INVALID', 'a', T);
    expect([first, second]).toEqual([
      { holdMs: 50, close: false },
      { holdMs: 50, close: false },
    ]);
    const holding = [budget.hold(first), budget.hold(second)];
    expect(budget.penalty('SIGNATURE_INVALID', 'a', T)).toEqual({ holdMs: 0, close: true });
    await Promise.all(holding);
    expect(budget.penalty('SIGNATURE_INVALID', 'a', T)).toEqual({ holdMs: 50, close: false });
  });

  it('past maxSources, new sources share one count (memory stays bounded under spoofed floods)', () => {
    const budget = new AuthFailureBudget({ perSecond: 1, delayMs: 500, maxHeld: 100, maxSources: 2 });
    expect(budget.penalty('SIGNATURE_INVALID', 'a', T)).toEqual(now);
    expect(budget.penalty('SIGNATURE_INVALID', 'b', T)).toEqual(now);
    expect(budget.penalty('SIGNATURE_INVALID', 'c', T)).toEqual(now);
    expect(budget.penalty('SIGNATURE_INVALID', 'd', T)).toEqual({ holdMs: 500, close: false });
  });
});
