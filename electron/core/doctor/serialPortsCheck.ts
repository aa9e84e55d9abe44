import type { DoctorItem } from '../../contract';
import { accessFix } from '../serial/access';
import { listSerialPorts, type SerialPortInfo } from '../serial/ports';
import type { Check, CheckOutcome } from './check';
import { serialAccessFixes, type SerialFixes } from './serialAccessFixes';

export const serialPortsCheck: Check = {
  id: 'serial-ports',
  title: 'Serial ports',
  budgetMs: 3000,
  async run(context) {
    const ports = await listSerialPorts(context.listPorts);
    if (ports.length === 0) {
      return {
        status: 'warn',
        summary: 'No serial ports found',
        fix: 'Plug in the board with a data USB cable (many are charge-only); CH340 and CP210x boards on macOS or Windows may need the vendor driver',
        ...withFixes(serialAccessFixes(process.platform)),
      };
    }
    const items = ports.map(describePort);
    const blocked = ports.find((port) => port.access && !port.access.canOpen);
    const boards = ports.filter((port) => port.board).length;
    const summary = `${ports.length} port${ports.length === 1 ? '' : 's'} found, ${boards} recognised as a USB board or adapter`;
    if (blocked) {
      return {
        status: 'warn',
        summary: `${summary}; you may not open ${blocked.path}`,
        fix: accessFix(blocked.path, blocked.access!),
        items,
        ...withFixes(serialAccessFixes(process.platform, blocked.access)),
      };
    }
    return { status: 'ok', summary, items };
  },
};

/** Only the non-empty parts, so the report carries no empty lists. */
function withFixes({ actions, notes }: SerialFixes): Pick<CheckOutcome, 'actions' | 'notes'> {
  return { ...(actions.length > 0 && { actions }), ...(notes.length > 0 && { notes }) };
}

function describePort(port: SerialPortInfo): DoctorItem {
  const ids = port.vendorId
    ? `USB ${port.vendorId}:${port.productId ?? '????'}`
    : 'no USB ID (built-in or virtual port)';
  const what = port.board?.label ?? port.manufacturer ?? 'unknown device';
  const denied = port.access && !port.access.canOpen;
  const access = denied ? ` — no permission${port.access?.group ? ` (group ${port.access.group})` : ''}` : '';
  return { label: port.path, detail: `${what}, ${ids}${access}`, status: denied ? 'warn' : 'ok' };
}
