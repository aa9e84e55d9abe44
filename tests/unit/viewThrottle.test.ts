import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ViewThrottle } from '../../electron/core/lab/viewThrottle';

describe('ViewThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends at most once per window, and the last change always goes out', () => {
    let sent = 0;
    const throttle = new ViewThrottle(() => sent++, 100);
    for (let i = 0; i < 1000; i++) {
      throttle.changed();
      vi.advanceTimersByTime(1); // 1000 changes over 1 s
    }
    vi.advanceTimersByTime(100);
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(sent).toBeLessThanOrEqual(11);
    const before = sent;
    throttle.changed();
    vi.advanceTimersByTime(100);
    expect(sent).toBe(before + 1);
  });
});
