import { expect, it } from 'vitest';
import { flashEsp } from '../../electron/core/firmware/esp/espFlasher';
import { EspRomStandIn } from '../rig/esp/espRomStandIn';
import { mockStandIn } from '../rig/esp/mockWire';
import { fakeEsp32App } from '../rig/esp/testImages';

for (let i = 0; i < 4; i++) {
  it(`stall ${i}`, async () => {
    const standIn = new EspRomStandIn({ chip: 'esp32', faults: { stall: { writeBlocks: 2 } } });
    const wire = mockStandIn(standIn);
    const part = { address: 0x10000, data: fakeEsp32App(200_000) };
    const lines: string[] = [];
    const t0 = Date.now();
    const log = (l: string) => lines.push(`${Date.now() - t0} ${l}`);
    const err = await flashEsp({ port: wire.path, chip: 'esp32', parts: [part], openPort: wire.openPort, listPorts: wire.listPorts, log }).catch((e) => e);
    const t1 = Date.now();
    const n = standIn.commands.length;
    await flashEsp({ port: wire.path, chip: 'esp32', parts: [part], openPort: wire.openPort, listPorts: wire.listPorts, log });
    const t2 = Date.now();
    console.log(i, t1 - t0, t2 - t1, err.message, standIn.commands.slice(n, n + 20).join(' '));
    if (t2 - t1 > 3000 || t1 - t0 > 11000) console.log(lines.join('\n'));
  }, 60_000);
}
