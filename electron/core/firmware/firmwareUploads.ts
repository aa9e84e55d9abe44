// Firmware files arriving in chunks (firmware.uploadBegin/Chunk/Finish), held in memory until
// firmware.flash takes them. Bounded: a few uploads at once, 16 MiB each, and an upload left alone
// for a while is dropped, so an abandoned or hostile client cannot pile up memory.
import { createHash, randomBytes } from 'node:crypto';
import {
  FIRMWARE_CHUNK_BYTES,
  MakerdeckError,
  type FirmwareUploadStarted,
  type FirmwareUploadView,
} from '../../contract';

export interface UploadLimits {
  /** Uploads held at once (finished or not). */
  maxUploads: number;
  /** An upload untouched this long is freed. */
  idleMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxUploads: 4, idleMs: 2 * 60_000 };

interface Upload {
  id: string;
  fileName: string;
  bytes: number;
  chunks: Buffer[];
  received: number;
  sha256?: string;
  timer: NodeJS.Timeout;
}

/** A finished upload, taken out of the store by the flash that uses it. */
export interface UploadedFile {
  fileName: string;
  data: Buffer;
}

export class FirmwareUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS) {}

  /** How many uploads are held (finished or not); for tests and the log. */
  get size(): number {
    return this.uploads.size;
  }

  begin(fileName: string, bytes: number): FirmwareUploadStarted {
    if (this.uploads.size >= this.limits.maxUploads) {
      const { maxUploads, idleMs } = this.limits;
      const wait = `finish them, or wait ${idleMs / 1000} s for abandoned ones to expire`;
      throw new MakerdeckError('UNAVAILABLE', `${maxUploads} firmware uploads are open already: ${wait}`);
    }
    const id = randomBytes(18).toString('base64url');
    this.uploads.set(id, { id, fileName, bytes, chunks: [], received: 0, timer: this.expiry(id) });
    return { uploadId: id, chunkBytes: FIRMWARE_CHUNK_BYTES, idleMs: this.limits.idleMs };
  }

  chunk(uploadId: string, offset: number, dataBase64: string): FirmwareUploadView {
    const upload = this.touch(uploadId);
    if (upload.sha256 !== undefined) {
      throw new MakerdeckError('BAD_INPUT', `Upload ${uploadId} is already finished: flash it, or start a new one`);
    }
    if (offset !== upload.received) {
      const message = `The chunk starts at byte ${offset}, but ${upload.received} bytes came: send the chunks in order`;
      throw new MakerdeckError('BAD_INPUT', message);
    }
    const data = Buffer.from(dataBase64, 'base64');
    if (upload.received + data.length > upload.bytes) {
      const message = `The chunk goes past the ${upload.bytes} bytes announced for ${upload.fileName}: start again`;
      throw new MakerdeckError('BAD_INPUT', message);
    }
    upload.chunks.push(data);
    upload.received += data.length;
    return view(upload);
  }

  finish(uploadId: string, sha256?: string): FirmwareUploadView {
    const upload = this.touch(uploadId);
    if (upload.received !== upload.bytes) {
      const message = `Upload ${uploadId} has ${upload.received} of ${upload.bytes} bytes: send the rest, then finish`;
      throw new MakerdeckError('BAD_INPUT', message);
    }
    const data = Buffer.concat(upload.chunks);
    const actual = createHash('sha256').update(data).digest('hex');
    if (sha256 !== undefined && sha256 !== actual) {
      this.drop(uploadId);
      const message = `${upload.fileName} arrived damaged (its SHA-256 differs): upload it again`;
      throw new MakerdeckError('BAD_INPUT', message);
    }
    upload.chunks = [data];
    upload.sha256 = actual;
    return view(upload);
  }

  /** Removes a finished upload and hands its bytes to the caller: one flash per upload. */
  take(uploadId: string): UploadedFile {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw gone(uploadId, this.limits.idleMs);
    if (upload.sha256 === undefined) {
      const message = `Upload ${uploadId} is not finished: send every chunk, then firmware.uploadFinish`;
      throw new MakerdeckError('BAD_INPUT', message);
    }
    this.drop(uploadId);
    return { fileName: upload.fileName, data: upload.chunks[0]! };
  }

  /** Frees everything (host shutdown). */
  clear(): void {
    for (const id of [...this.uploads.keys()]) this.drop(id);
  }

  private touch(uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw gone(uploadId, this.limits.idleMs);
    clearTimeout(upload.timer);
    upload.timer = this.expiry(uploadId);
    return upload;
  }

  private expiry(uploadId: string): NodeJS.Timeout {
    // unref: a pending upload never keeps a CLI process alive.
    return setTimeout(() => this.uploads.delete(uploadId), this.limits.idleMs).unref();
  }

  private drop(uploadId: string): void {
    const upload = this.uploads.get(uploadId);
    if (upload) clearTimeout(upload.timer);
    this.uploads.delete(uploadId);
  }
}

function view(upload: Upload): FirmwareUploadView {
  const { id: uploadId, fileName, bytes, received, sha256 } = upload;
  return { uploadId, fileName, bytes, received, sha256 };
}

function gone(uploadId: string, idleMs: number): MakerdeckError {
  const why = `it was flashed already, or expired after ${idleMs / 1000} s untouched`;
  return new MakerdeckError('NOT_FOUND', `No firmware upload ${uploadId}: ${why}; upload the file again`);
}
