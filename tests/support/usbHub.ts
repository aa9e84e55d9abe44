// A stand-in for a USB hub, as Makerdeck sees one through MAKERDECK_SYSFS_ROOT: a copy of /sys in which
// each plugged board is a USB device (idVendor, idProduct and, when it has one, a serial number) with
// a ttyACM<n> whose dev node is a symlink to the board's pty — an emulated Uno, or any pty. Plugging
// and unplugging write and remove those entries, as the kernel does.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startUno, type EmulatedUno } from './uno';

export interface UsbBoard {
  /** What the board says over USB; `serial` undefined: a clone without a serial number. */
  vendorId?: string;
  productId?: string;
  serial?: string;
}

export interface PluggedUno {
  slot: number;
  port: string;
  uno: EmulatedUno;
}

export class UsbHub {
  readonly devDir: string;
  private readonly unos = new Map<number, EmulatedUno>();
  private readonly plugged = new Set<number>();

  /** `root` becomes MAKERDECK_SYSFS_ROOT. */
  constructor(readonly root: string) {
    mkdirSync(path.join(root, 'class', 'tty'), { recursive: true });
    this.devDir = path.join(root, 'dev');
    mkdirSync(this.devDir, { recursive: true });
  }

  /** The port path Makerdeck lists for slot n. */
  portOf(slot: number): string {
    return path.join(this.devDir, `ttyACM${slot}`);
  }

  /** Plugs a board whose serial line is the pty `device` into slot n (ttyACM<n>); returns its port. */
  plug(slot: number, device: string, board: UsbBoard = {}): string {
    const usb = this.usbDir(slot);
    mkdirSync(path.join(usb, `1-${slot}:1.0`), { recursive: true });
    writeFileSync(path.join(usb, 'idVendor'), `${board.vendorId ?? '2341'}\n`);
    writeFileSync(path.join(usb, 'idProduct'), `${board.productId ?? '0043'}\n`);
    writeFileSync(path.join(usb, 'manufacturer'), 'Arduino (www.arduino.cc)\n');
    if (board.serial !== undefined) writeFileSync(path.join(usb, 'serial'), `${board.serial}\n`);
    symlinkSync(device, this.portOf(slot));
    const tty = path.join(this.root, 'class', 'tty', `ttyACM${slot}`);
    mkdirSync(tty, { recursive: true });
    symlinkSync(path.join(usb, `1-${slot}:1.0`), path.join(tty, 'device')); // last: now it is listed
    this.plugged.add(slot);
    return this.portOf(slot);
  }

  /** Removes slot n's entries (the tty first, as the listing reads it), leaving its board running. */
  unplug(slot: number): void {
    this.plugged.delete(slot);
    rmSync(path.join(this.root, 'class', 'tty', `ttyACM${slot}`), { recursive: true, force: true });
    rmSync(this.portOf(slot), { force: true });
    rmSync(this.usbDir(slot), { recursive: true, force: true });
  }

  /** Starts an emulated Uno (simavr, real optiboot) and plugs it into slot n. */
  async plugUno(slot: number, board: UsbBoard, dir: string): Promise<PluggedUno> {
    const uno = await startUno(path.join(dir, `uno-${slot}`));
    this.unos.set(slot, uno);
    return { slot, uno, port: this.plug(slot, uno.device, board) };
  }

  /** Pulls the Uno in slot n out for good: its entries go, then the emulator stops. */
  async removeUno(slot: number): Promise<void> {
    this.unplug(slot);
    await this.unos.get(slot)?.stop();
    this.unos.delete(slot);
  }

  /** The emulated Uno started for slot n (it may since be plugged in elsewhere). */
  unoIn(slot: number): EmulatedUno {
    const uno = this.unos.get(slot);
    if (!uno) throw new Error(`no emulated Uno was started for slot ${slot}`);
    return uno;
  }

  /** Unplugs every slot and stops every Uno started. */
  async stopAll(): Promise<void> {
    for (const slot of [...this.plugged]) this.unplug(slot);
    for (const slot of [...this.unos.keys()]) await this.removeUno(slot);
  }

  private usbDir(slot: number): string {
    return path.join(this.root, 'devices', 'usb1', `1-${slot}`);
  }
}
