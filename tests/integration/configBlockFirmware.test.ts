// The firmware's own config code (firmware/config_block.cpp) compiled for this computer with g++ and a
// small Arduino shim: the executable carries the blank block exactly once, says it is not provisioned,
// and once Makerdeck's encoder has stamped the executable's bytes it reads back every value; a damaged
// block is refused. So the host's layout, CRC and magic agree with the firmware's.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeConfigBlock, locateConfigBlock } from '../../electron/core/firmware/release/configBlock';
import { sampleValues } from '../support/configBlocks';
import { repoRoot } from '../support/env';

const SHIM = `#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#define PROGMEM
#define F(text) text
struct SerialShim {
  void print(const char *text) { printf("%s", text); }
  void println(const char *text) { printf("%s\\n", text); }
};
extern SerialShim Serial;
`;
const MAIN = `#include "config_block.h"
SerialShim Serial;
int main() {
  int status = configBegin();
  const MakerdeckConfig &c = config();
  printf("status=%d|%s|%s|%s|%s|%u|%u|%s|%s|%lu\\n", status, c.deviceId, c.wifiSsid, c.wifiPassword, c.mqttHost,
         c.mqttPort, c.flags, c.mqttUsername, c.mqttPassword, (unsigned long)c.intervalS);
  return 0;
}
`;
/** What main prints for a refused block: the status, then every field empty or zero. */
const EMPTY = (status: number) => `status=${status}|${['', '', '', '', 0, 0, '', '', 0].join('|')}\n`;
let dir: string;
let binary: Buffer;

/** Runs a copy of the executable with its bytes replaced by `bytes`. */
function run(bytes: Buffer, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  chmodSync(file, 0o700);
  return execFileSync(file, { encoding: 'utf8' });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-configblock-'));
  writeFileSync(path.join(dir, 'Arduino.h'), SHIM);
  writeFileSync(path.join(dir, 'main.cpp'), MAIN);
  const firmware = path.join(repoRoot, 'firmware');
  execFileSync('g++', [
    '-std=c++11',
    '-O2',
    '-Wall',
    '-Werror',
    `-I${dir}`,
    `-I${firmware}`,
    '-o',
    path.join(dir, 'host'),
    path.join(dir, 'main.cpp'),
    path.join(firmware, 'config_block.cpp'),
  ]);
  binary = readFileSync(path.join(dir, 'host'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the firmware's config block code, built for the host", () => {
  it('carries the blank block once and says it is not provisioned', () => {
    expect(locateConfigBlock(binary)).toBeGreaterThan(0);
    expect(run(binary, 'blank')).toBe(`not provisioned: flash it with Makerdeck\n${EMPTY(1)}`);
  });

  it('reads back every value Makerdeck stamped', () => {
    const values = sampleValues({ wifiSsid: 'café', mqttTls: true, mqttPort: 8883, intervalS: 42 });
    const stamped = Buffer.from(binary);
    stamped.set(encodeConfigBlock(values), locateConfigBlock(binary));
    expect(run(stamped, 'stamped')).toBe(
      `status=0|bench-7|café|${values.wifiPassword}|broker.lan|8883|3|bench-7|${values.mqttPassword}|42\n`,
    );
  });

  it('refuses a block whose CRC does not match', () => {
    const damaged = Buffer.from(binary);
    const at = locateConfigBlock(binary);
    const block = encodeConfigBlock(sampleValues());
    block[30]! ^= 0x20; // the device id changes, the CRC does not
    damaged.set(block, at);
    expect(run(damaged, 'damaged')).toBe(`config block damaged (CRC): flash it again with Makerdeck\n${EMPTY(3)}`);
  });
});
