// The port watch polls while a lease is held and emits only changes: plug, unplug, nothing else.
import { describe, expect, it } from 'vitest';
import type { SerialPortView } from '../../electron/contract';
import { PortWatch } from '../../electron/core/serial/portWatch';
import { until } from '../support/wait';

const uno: SerialPortView = { path: '/dev/ttyACM0', vendorId: '2341', productId: '0043' };
const ch340: SerialPortView = { path: '/dev/ttyUSB0', vendorId: '1a86', productId: '7523' };

function rig(leaseMs = 60_000) {
  let now: SerialPortView[] = [];
  let listings = 0;
  const changes: SerialPortView[][] = [];
  const watch = new PortWatch({
    list: async () => (listings++, now),
    changed: (ports) => changes.push(ports),
    pollMs: 10,
    leaseMs,
  });
  return { watch, changes, plug: (ports: SerialPortView[]) => (now = ports), listings: () => listings };
}

describe('PortWatch', () => {
  it('answers with the ports now, then emits each plug and unplug once', async () => {
    const { watch, changes, plug, listings } = rig();
    try {
      expect(await watch.watch()).toEqual({ ports: [], leaseMs: 60_000 });
      plug([uno]);
      await until('the Uno plugged', () => changes.length === 1);
      plug([uno, ch340]);
      await until('the CH340 plugged', () => changes.length === 2);
      plug([ch340]);
      await until('the Uno unplugged', () => changes.length === 3);
      const seen = listings();
      await until('five more polls', () => listings() >= seen + 5);
      expect(changes).toEqual([[uno], [uno, ch340], [ch340]]); // nothing for polls that found no change
    } finally {
      watch.stop();
    }
  });

  it('stops polling once the lease runs out without a renewal', async () => {
    const { watch, listings } = rig(100);
    await watch.watch();
    await until('polling to stop', async () => {
      const before = listings();
      await new Promise((resolve) => setTimeout(resolve, 60));
      return listings() === before;
    });
    expect((watch as unknown as { timer?: unknown }).timer).toBeUndefined();
  });
});
