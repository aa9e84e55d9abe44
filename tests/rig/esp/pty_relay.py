#!/usr/bin/env python3
"""Wiring for the ESP bootloader stand-in: a pseudo-terminal whose far end is this process.

A program under test opens the pty's slave path with the real serialport binding; this relay
passes what it writes to the stand-in (on stdout) and what the stand-in answers back (from
stdin). A pty has no modem lines, but it does share its termios with the master side, so the
relay also reports the baud rate the program set and when it opened or closed the port.

stdout carries frames: one type byte, a 4-byte little-endian length, the payload.
  P <path>       the slave path, once, at start
  O              the program opened the port (first bytes after a close)
  C              the program closed the port
  B <u32 baud>   the program changed the baud rate
  D <bytes>      bytes the program wrote
stdin is raw bytes for the program. Killing the relay closes the master: the program sees
its port vanish, as when a USB adapter is pulled.
"""
import errno
import os
import select
import signal
import struct
import sys
import termios
import time
import tty

SPEEDS = {getattr(termios, name): int(name[1:]) for name in dir(termios) if name[:1] == "B" and name[1:].isdigit()}


def emit(kind, payload=b""):
    sys.stdout.buffer.write(kind + struct.pack("<I", len(payload)) + payload)
    sys.stdout.buffer.flush()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    master, slave = os.openpty()
    tty.setraw(slave)
    emit(b"P", os.ttyname(slave).encode())
    os.close(slave)  # only the program under test holds the slave, so its close shows as EIO here
    opened = False
    baud = None
    stdin = sys.stdin.buffer.raw.fileno()
    while True:
        ready, _, _ = select.select([master, stdin], [], [], 0.005)
        speed = SPEEDS.get(termios.tcgetattr(master)[5], 0)
        if speed != baud:
            baud = speed
            emit(b"B", struct.pack("<I", speed))
        if stdin in ready:
            data = os.read(stdin, 65536)
            if not data:
                return
            try:
                os.write(master, data)
            except OSError:
                pass  # nobody has the port open: bytes on a dead line are lost
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as error:
                if error.errno != errno.EIO:
                    raise
                if opened:
                    opened = False
                    emit(b"C")
                time.sleep(0.002)
                continue
            if not opened:
                opened = True
                emit(b"O")
            emit(b"D", data)


if __name__ == "__main__":
    main()
