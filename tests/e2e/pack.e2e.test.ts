// The Pack page in Chromium (browser mode, real core), from one machine to another: host A has the
// makerdeckavr:avr core (installed by the real arduino-cli from a board index on loopback), a cached
// build and a profile. Its page shows what can go into a pack (the cached build as a tick-box),
// refuses mismatched passphrases and a missing path in one line each, checks each part's size, then
// writes the pack with progress (a create cancelled mid-write leaves no file). Host B, with its own
// empty data folder, reads the pack's manifest, asks for the passphrase, imports it with its phases,
// and a second import finds every step already done; B then lists the core and the profile.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BoardCoreView,
  CachedBuildView,
  CompileSummary,
  PackProgress,
  ProfileView,
  ServerFrame,
} from '../../electron/contract';
import { ensureBoardPackage } from '../../scripts/rig/boardIndex.js';
import { defaultRigCache } from '../../scripts/rig/common.js';
import { startBoardIndexServer, type BoardIndexServer } from '../support/boardIndexServer';
import { launchChromium, screenshotPath } from '../support/browser';
import { runCli } from '../support/cli';
import { requiredEnv } from '../support/env';
import { freshArduinoConfig } from '../support/freshArduinoConfig';
import { scratchEnv } from '../support/scratchEnv';
import { callServe, startServe, type Served } from '../support/serve';

const PASSPHRASE = 'field site 7 passphrase';
const CORE = 'makerdeckavr:avr';
const TARGET = `${process.platform}-${process.arch}`;

let scratch: string;
let indexServer: BoardIndexServer;
let hostA: Served;
let hostB: Served;
let browser: Browser;
let page: Page;
let packFile: string;
let envA: NodeJS.ProcessEnv;
/** The build host A compiled, which the page lists for ticking. */
let buildHash: string;
/** pack.progress events the page received, by operation. */
const progress: PackProgress[] = [];

const panel = (name: 'Create a pack' | 'Import a pack') => page.getByRole('region', { name });
const alertIn = (name: 'Create a pack' | 'Import a pack') => panel(name).getByRole('alert');
const statusIn = (name: 'Create a pack' | 'Import a pack') => panel(name).getByRole('status');
const rowIds = (table: string) =>
  page
    .getByRole('table', { name: table })
    .locator('tbody tr[data-part]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-part')));
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A page on `served` that records the pack.progress events it is sent. */
async function openPage(served: Served): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  opened.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as ServerFrame;
      if (frame.type === 'event' && frame.name === 'pack.progress') progress.push(frame.payload as PackProgress);
    }),
  );
  await opened.goto(served.url);
  await opened.getByRole('link', { name: /Packs/ }).click();
  return opened;
}

beforeAll(async () => {
  requiredEnv('MAKERDECK_ARDUINO_CLI', 'the arduino-cli test rig');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'makerdeck-e2e-pack-'));
  indexServer = await startBoardIndexServer(await ensureBoardPackage({ cacheDir: defaultRigCache(), log: () => {} }));
  envA = {
    ...scratchEnv(path.join(scratch, 'a')),
    MAKERDECK_ARDUINO_CLI_CONFIG: freshArduinoConfig(path.join(scratch, 'a', 'arduino')),
  };
  const profile = ['profile', 'set', 'Field Uno', '--board', `${CORE}:uno`, '--ssid', 'field'];
  const made = await runCli([...profile, '--mqtt-host', '192.0.2.20', '--device-id', 'field-uno'], envA);
  expect(made.code, made.stderr).toBe(0);
  hostA = await startServe(envA);
  await callServe(hostA, 'boards.addIndex', { url: indexServer.url('good') });
  await callServe(hostA, 'boards.install', { core: CORE });
  const compiled = await callServe<CompileSummary>(hostA, 'firmware.compile', { board: `${CORE}:uno` });
  expect(compiled.success).toBe(true);
  buildHash = compiled.buildHash!;
  // Host B: another laptop with nothing set up (its arduino-cli configuration is the one the import writes).
  const home = path.join(scratch, 'b', 'home');
  mkdirSync(home, { recursive: true });
  hostB = await startServe({
    ...scratchEnv(path.join(scratch, 'b')),
    HOME: home,
    MAKERDECK_ARDUINO_CLI_CONFIG: undefined,
  });
  browser = await launchChromium();
  page = await openPage(hostA);
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await hostA?.stop();
  await hostB?.stop();
  await indexServer?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the Pack page (real core in browser mode)', () => {
  it('renders both flows with the installed core, the profile and this machine’s arduino-cli chosen', async () => {
    await page.getByRole('heading', { name: 'Lab packs' }).waitFor();
    await panel('Create a pack')
      .getByRole('group', { name: 'Board cores' })
      .getByRole('checkbox', { name: new RegExp(`${CORE}@1\\.8\\.7`) })
      .waitFor();
    await panel('Create a pack')
      .getByRole('group', { name: 'Profiles' })
      .getByRole('checkbox', { name: /Field Uno/ })
      .waitFor();
    const here = panel('Create a pack').getByRole('checkbox', { name: `${TARGET} (this machine)` });
    await expect.poll(() => here.isChecked()).toBe(true);
    expect(await panel('Create a pack').getByRole('checkbox', { checked: true }).count()).toBe(1);
    expect(await panel('Create a pack').getByRole('button', { name: 'Create pack' }).isDisabled()).toBe(true);
    await panel('Import a pack').getByRole('button', { name: 'Read pack' }).waitFor();
    // The passphrase is asked only once a profile is chosen.
    expect(await page.getByLabel('The same passphrase again').count()).toBe(0);
  }, 30_000);

  it('makerdeck compile --list names the same cached build, with the versions it was built with', async () => {
    const listed = await runCli(['compile', '--list'], envA);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${buildHash}  ${CORE}:uno  \\d+ bytes \\.hex  core 1\\.8\\.7, arduino-cli \\S+  built \\S+Z\n$`),
    );
    const json = await runCli(['compile', '--list', '--json'], envA);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ buildHash, fqbn: `${CORE}:uno`, coreVersion: '1.8.7', format: 'hex' }),
    ]);
  }, 30_000);

  it('refuses passphrases that differ and an import without a path, each in one line', async () => {
    const create = panel('Create a pack');
    await create.getByRole('checkbox', { name: /Field Uno/ }).check();
    await create.getByLabel(/^Passphrase/).fill(PASSPHRASE);
    await create.getByLabel('The same passphrase again').fill(`${PASSPHRASE}!`);
    await create.getByRole('button', { name: 'Check sizes' }).click();
    await expect
      .poll(() => alertIn('Create a pack').textContent())
      .toBe('The two passphrases differ: nothing was written; type the same one twice');
    expect(await page.getByTestId('pack-plan').count()).toBe(0);
    await panel('Import a pack').getByRole('button', { name: 'Read pack' }).click();
    await expect
      .poll(() => alertIn('Import a pack').textContent())
      .toBe('Name the pack file: a path on the machine running Makerdeck, e.g. /media/usb/room3.mdpack');
    expect(await panel('Import a pack').getByRole('button', { name: 'Import pack' }).count()).toBe(0);
    // The line was about the missing path: typing one clears it.
    await panel('Import a pack')
      .getByLabel(/^Pack file/)
      .fill('/media/usb/room3.mdpack');
    await expect.poll(() => alertIn('Import a pack').count()).toBe(0);
    await panel('Import a pack')
      .getByLabel(/^Pack file/)
      .fill('');
  }, 30_000);

  it('checks each part’s size before writing, with a bar per part', async () => {
    const create = panel('Create a pack');
    await create.getByLabel('The same passphrase again').fill(PASSPHRASE);
    await create
      .getByRole('group', { name: 'Board cores' })
      .getByRole('checkbox', { name: new RegExp(CORE) })
      .check();
    // The cached build is listed with its board, hash and size: ticked, it is the one the plan carries.
    const builds = create.getByRole('group', { name: 'Firmware builds' });
    expect(await builds.getByRole('checkbox', { name: /^Every cached build/ }).isChecked()).toBe(false);
    const build = builds.getByRole('checkbox', {
      name: new RegExp(`^${CORE}:uno ${buildHash} · \\d+(\\.\\d)? (B|KiB) \\.hex`),
    });
    await build.check();
    await create.getByRole('button', { name: 'Check sizes' }).click();
    await expect
      .poll(() => statusIn('Create a pack').textContent(), { timeout: 60_000 })
      .toMatch(/^The pack would be /);
    const ids = await rowIds('Planned parts');
    expect(ids).toEqual(expect.arrayContaining([`arduino-cli/${TARGET}`, `core/${CORE}`, 'profiles']));
    expect(ids.filter((id) => id?.startsWith('build/'))).toEqual([`build/${buildHash}`]);
    const bars = page.getByRole('table', { name: 'Planned parts' }).locator('tbody meter');
    const values = await bars.evaluateAll((meters) => meters.map((m) => (m as HTMLMeterElement).value));
    expect(values).toHaveLength(ids.length);
    for (const value of values) expect(value).toBeGreaterThan(0);
    expect(await page.getByTestId('pack-plan').getAttribute('data-current')).toBe('true');
    expect(await create.getByRole('button', { name: 'Create pack' }).isDisabled()).toBe(false);
  }, 90_000);

  it('asks for a path, then writes the pack with its progress; a cancelled write leaves no file', async () => {
    const create = panel('Create a pack');
    await create.getByRole('button', { name: 'Create pack' }).click();
    await expect.poll(() => alertIn('Create a pack').textContent()).toMatch(/^Name the pack file: /);
    packFile = path.join(scratch, 'field-site.mdpack');
    await create.getByLabel(/^Pack file/).fill(packFile);
    await create.getByLabel('Name (optional)').fill('Field site 7');
    // Cancelled once the first bytes are written: refused in one line, nothing left behind.
    const before = progress.length;
    await create.getByRole('button', { name: 'Create pack' }).click();
    await expect
      .poll(() => progress.slice(before).some((p) => p.phase === 'write'), { timeout: 60_000, interval: 20 })
      .toBe(true);
    await create.getByRole('button', { name: 'Cancel' }).click();
    await alertIn('Create a pack').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('list', { name: 'Create phases' }).locator('li[data-state="failed"]').count()).toBe(1);
    expect(existsSync(packFile)).toBe(false);
    expect(existsSync(`${packFile}.partial`)).toBe(false);
    // Then written to the end: the phases end done, the summary names the file with its size and SHA-256.
    const started = progress.length;
    await create.getByRole('button', { name: 'Create pack' }).click();
    await expect.poll(() => statusIn('Create a pack').textContent(), { timeout: 240_000 }).toMatch(/^Wrote /);
    const states = await page
      .getByRole('list', { name: 'Create phases' })
      .locator('li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-state')));
    expect(states).toEqual(['done', 'done']);
    expect(progress.slice(started).filter((p) => p.phase === 'write' && p.bytesTotal).length).toBeGreaterThan(0);
    const summary = page.getByTestId('pack-create-summary');
    expect(await summary.textContent()).toContain(packFile);
    expect(await summary.locator('.pack-sha').textContent()).toBe(sha256(packFile));
    expect(await rowIds('Written parts')).toEqual(await rowIds('Planned parts'));
    expect(statSync(packFile).size).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('pack'), fullPage: true });
  }, 400_000);

  it('on another machine: reads the manifest, asks for the passphrase, imports with its phases', async () => {
    const planned = await rowIds('Planned parts');
    page = await openPage(hostB);
    const importing = panel('Import a pack');
    await importing.getByLabel(/^Pack file/).fill(packFile);
    await importing.getByRole('button', { name: 'Read pack' }).click();
    await expect
      .poll(() => statusIn('Import a pack').textContent(), { timeout: 30_000 })
      .toMatch(/^Field site 7 holds /);
    expect(await rowIds('Pack parts')).toEqual(planned);
    await importing.getByRole('button', { name: 'Import pack' }).click();
    await expect
      .poll(() => alertIn('Import a pack').textContent())
      .toMatch(/^The pack carries profiles: type the passphrase/);
    // A wrong passphrase: the checksums pass, then one line says why, and nothing is installed.
    await importing.getByLabel(/^Passphrase/).fill(`${PASSPHRASE}?`);
    await importing.getByRole('button', { name: 'Import pack' }).click();
    await expect
      .poll(() => alertIn('Import a pack').textContent(), { timeout: 120_000 })
      .toMatch(/Nothing was changed$/);
    expect(await alertIn('Import a pack').textContent()).not.toContain('\n');
    const failedPhases = page.getByRole('list', { name: 'Import phases' }).locator('li');
    expect(await failedPhases.evaluateAll((items) => items.map((li) => li.getAttribute('data-state')))).toEqual([
      'done',
      'pending',
      'pending',
      'pending',
    ]);
    expect(existsSync(path.join(scratch, 'b', 'data', 'arduino-cli'))).toBe(false);
    await importing.getByLabel(/^Passphrase/).fill(PASSPHRASE);
    await importing.getByRole('button', { name: 'Import pack' }).click();
    await expect.poll(() => statusIn('Import a pack').textContent(), { timeout: 300_000 }).toMatch(/^Imported in /);
    const phases = page.getByRole('list', { name: 'Import phases' }).locator('li');
    expect(await phases.evaluateAll((items) => items.map((li) => li.getAttribute('data-state')))).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
    const steps = page.getByRole('table', { name: 'Import steps' }).locator('tbody tr');
    expect(await steps.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-result')))).not.toContain('already');
    await page.screenshot({ path: screenshotPath('pack-import'), fullPage: true });
    const cores = await callServe<BoardCoreView[]>(hostB, 'boards.list', {});
    expect(cores.find((c) => c.id === CORE)?.installed).toBe('1.8.7');
    const profiles = await callServe<ProfileView[]>(hostB, 'profiles.list', {});
    expect(profiles.map((p) => p.name)).toContain('Field Uno');
    // The build came with its versions: B lists it as A did.
    const [fromA] = await callServe<CachedBuildView[]>(hostA, 'firmware.builds', {});
    expect(await callServe<CachedBuildView[]>(hostB, 'firmware.builds', {})).toEqual([fromA]);
  }, 400_000);

  it('a second import of the same pack finds every step already done', async () => {
    const importing = panel('Import a pack');
    await importing.getByLabel(/^Passphrase/).fill(PASSPHRASE);
    await importing.getByRole('button', { name: 'Import pack' }).click();
    await expect.poll(() => statusIn('Import a pack').textContent(), { timeout: 300_000 }).toMatch(/already done/);
    const steps = page.getByRole('table', { name: 'Import steps' }).locator('tbody tr');
    const results = await steps.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-result')));
    expect(results.length).toBeGreaterThan(0);
    expect(new Set(results)).toEqual(new Set(['already']));
  }, 300_000);
});
