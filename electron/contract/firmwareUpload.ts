// Sending a firmware file to the host through the contract, in chunks: the same three requests over
// Electron IPC, the WebSocket and in-process (the CLI), so no request ever approaches a frame limit.
// Plain TypeScript with Web APIs only (btoa, crypto.subtle), so the renderer and Node both run it.
import type { ArgsOf, RequestName, ResultOf } from './api';
import { FIRMWARE_CHUNK_BYTES, MAX_FIRMWARE_BYTES, type FirmwareUploadView } from './firmware';
import { MakerdeckError } from './errors';

/** Any typed caller of the contract: the renderer's client, the CLI's callApi. */
export type ContractCall = <N extends RequestName>(name: N, args: ArgsOf<N>) => Promise<ResultOf<N>>;

/**
 * Uploads `bytes` as `fileName` and resolves with the finished upload, whose id firmware.flash takes
 * as `source: { uploadId }`. `onProgress` hears the bytes the host has after each chunk.
 */
export async function uploadFirmware(
  call: ContractCall,
  fileName: string,
  bytes: Uint8Array,
  onProgress?: (received: number, total: number) => void,
): Promise<FirmwareUploadView> {
  if (bytes.length > MAX_FIRMWARE_BYTES) {
    const message = `${fileName} is larger than 16 MiB: that is no firmware image Makerdeck can flash`;
    throw new MakerdeckError('BAD_INPUT', message);
  }
  const sha256 = await digest(bytes);
  const { uploadId, chunkBytes } = await call('firmware.uploadBegin', { fileName, bytes: bytes.length });
  const step = Math.min(chunkBytes, FIRMWARE_CHUNK_BYTES);
  for (let offset = 0; offset < bytes.length; offset += step) {
    const dataBase64 = toBase64(bytes.subarray(offset, offset + step));
    const { received } = await call('firmware.uploadChunk', { uploadId, offset, dataBase64 });
    onProgress?.(received, bytes.length);
  }
  return call('firmware.uploadFinish', { uploadId, sha256 });
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** SHA-256 in hex where Web Crypto exists (secure contexts, Node); the host then checks the whole file. */
async function digest(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const hash = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
