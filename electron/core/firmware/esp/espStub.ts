// The flasher stub: a small program the ROM loads into RAM and jumps to, which then speaks the same
// protocol faster (16 KB blocks, writes while receiving, raw MD5). Uploaded here rather than by
// esptool-js's runStub so that the wait for its hello is ours, and another stub can be given.
import { getStubJsonByChipName, type ESPLoader } from 'esptool-js';
import { MakerdeckError } from '../../../contract';
import { StubFailed } from './espErrors';

/** A flasher stub image, as esptool's stub JSON files describe one (text and data already decoded). */
export interface EspStub {
  entry: number;
  textStart: number;
  text: Uint8Array;
  dataStart?: number;
  data?: Uint8Array;
}

/** How long a stub has to say hello after the jump: a working one answers within milliseconds. */
export const STUB_HELLO_MS = 3000;
const HELLO = 'OHAI';

/** Decodes esptool's stub JSON (`entry`, `text`/`data` in base64, `text_start`, `data_start`). */
export function espStubFromJson(json: unknown): EspStub {
  const stub = json as Record<string, unknown>;
  const text = typeof stub.text === 'string' ? Buffer.from(stub.text, 'base64') : undefined;
  if (typeof stub.entry !== 'number' || typeof stub.text_start !== 'number' || !text?.length) {
    throw new Error('not an esptool flasher stub JSON: it needs entry, text and text_start');
  }
  const data = typeof stub.data === 'string' ? Buffer.from(stub.data, 'base64') : undefined;
  return {
    entry: stub.entry,
    textStart: stub.text_start,
    text: new Uint8Array(text),
    ...(typeof stub.data_start === 'number' && data?.length
      ? { dataStart: stub.data_start, data: new Uint8Array(data) }
      : {}),
  };
}

/** The stub esptool-js ships for this chip, if any. */
export async function bundledStub(chipName: string): Promise<EspStub | undefined> {
  const json = await getStubJsonByChipName(chipName);
  if (!json) return undefined;
  return {
    entry: json.entry,
    textStart: json.text_start,
    text: json.decodedText,
    ...(json.decodedData?.length ? { dataStart: json.data_start, data: json.decodedData } : {}),
  };
}

/**
 * Uploads `stub` through the ROM and waits (bounded) for its hello. Throws StubFailed when it never
 * answers or the ROM refused the upload; a cancel or unplug (a MakerdeckError) passes through as is.
 */
export async function startStub(loader: ESPLoader, stub: EspStub | undefined): Promise<void> {
  if ((loader as unknown as { syncStubDetected: boolean }).syncStubDetected) {
    loader.IS_STUB = true; // a stub from an earlier session answered the sync: still running
    return;
  }
  if (!stub) throw new StubFailed(`no flasher stub for the ${loader.chip.CHIP_NAME}`);
  try {
    await uploadSegment(loader, stub.text, stub.textStart);
    if (stub.data && stub.dataStart !== undefined) await uploadSegment(loader, stub.data, stub.dataStart);
    await loader.memFinish(stub.entry);
    const hello = await loader.transport.read(STUB_HELLO_MS);
    if (Buffer.from(hello).toString('latin1') !== HELLO) throw new Error('it sent something other than its hello');
  } catch (error) {
    if (error instanceof MakerdeckError) throw error;
    throw new StubFailed((error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim());
  }
  loader.IS_STUB = true;
}

async function uploadSegment(loader: ESPLoader, bytes: Uint8Array, address: number): Promise<void> {
  const block = loader.ESP_RAM_BLOCK;
  const blocks = Math.ceil(bytes.length / block);
  await loader.memBegin(bytes.length, blocks, block, address);
  for (let seq = 0; seq < blocks; seq++) await loader.memBlock(bytes.subarray(seq * block, (seq + 1) * block), seq);
}
