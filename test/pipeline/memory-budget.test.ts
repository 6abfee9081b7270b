import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../src/pipeline/memory-budget.js';

/** A job that records how many ran at once and finishes when told. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('MemoryBudget', () => {
  it('runs small jobs side by side but never holds more than the budget', async () => {
    const budget = new MemoryBudget(100);
    let peak = 0;
    const gates = [gate(), gate(), gate(), gate()];
    const runs = gates.map((g) =>
      budget.run(40, async () => {
        peak = Math.max(peak, budget.inUse);
        await g.opened;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(budget.inUse).toBe(80);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect(peak).toBe(80);
    expect(budget.inUse).toBe(0);
  });

  it('runs a job bigger than the whole budget alone, and serves waiters in order', async () => {
    const budget = new MemoryBudget(100);
    const order: string[] = [];
    const first = gate();
    const small = budget.run(10, async () => {
      order.push('small-1');
      await first.opened;
    });
    const huge = budget.run(500, async () => void order.push('huge'));
    const later = budget.run(10, async () => void order.push('small-2'));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['small-1']);
    first.open();
    await Promise.all([small, huge, later]);
    expect(order).toEqual(['small-1', 'huge', 'small-2']);
  });

  it('gives the budget back when a job fails', async () => {
    const budget = new MemoryBudget(100);
    await expect(budget.run(100, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(budget.inUse).toBe(0);
    await expect(budget.run(100, async () => 'ran')).resolves.toBe('ran');
  });
});
