import { describe, expect, it } from 'vitest';
import { FlashSlots } from '../../electron/core/lab/flashSlots';

describe('FlashSlots', () => {
  it('grants at most `size` at once, first come first served, and a waiter can give up', async () => {
    const slots = new FlashSlots(2);
    const signal = new AbortController().signal;
    const order: string[] = [];
    const a = await slots.take(signal);
    const b = await slots.take(signal);
    const c = slots.take(signal).then((release) => (order.push('c'), release));
    const leaving = new AbortController();
    const d = slots.take(leaving.signal);
    const e = slots.take(signal).then((release) => (order.push('e'), release));
    leaving.abort(new Error('unplugged'));
    await expect(d).rejects.toThrow('unplugged');
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot frees nothing more
    (await c)();
    b();
    await e;
    expect(order).toEqual(['c', 'e']);
  });

  it('a larger size lets waiters in at once', async () => {
    const slots = new FlashSlots(1);
    const signal = new AbortController().signal;
    await slots.take(signal);
    const waiting = slots.take(signal);
    slots.resize(2);
    await expect(waiting).resolves.toBeTypeOf('function');
  });
});
