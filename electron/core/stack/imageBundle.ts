// The class image bundle: every image of the stack in one `docker save` file, for labs that
// preload machines from a USB stick instead of pulling.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type Docker from 'dockerode';
import { MakerdeckError } from '../../contract';
import type { StackProgress } from './orchestrator';

type Progress = (p: StackProgress) => void;

export async function exportImages(
  docker: Docker,
  images: string[],
  file: string,
  progress: Progress,
): Promise<number> {
  const missing: string[] = [];
  for (const image of images)
    if (
      !(await docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        ))
    )
      missing.push(image);
  if (missing.length > 0)
    throw new MakerdeckError(
      'UNAVAILABLE',
      `These images are not on this computer, so they cannot be exported: ${missing.join(', ')} — start the stack once while online first`,
    );
  // dockerode's getImages takes the names as the query of GET /images/get.
  const getImages = (
    docker as unknown as { getImages(options: { names: string[] }): Promise<NodeJS.ReadableStream> }
  ).getImages.bind(docker);
  const source = await getImages({ names: images });
  const partial = `${file}.partial`;
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      progress({ service: 'bundle', phase: 'export', bytesDone: bytes });
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, counter, createWriteStream(partial, { mode: 0o644 }));
    await rename(partial, file); // a half-written bundle never carries the final name
  } catch (error) {
    await rm(partial, { force: true });
    throw new MakerdeckError('UNAVAILABLE', `Could not write ${file}: ${(error as Error).message}`);
  }
  return bytes;
}

/** Loads a bundle; a corrupt file does not make Docker fail the request, it answers an {error} item. */
export async function importImages(docker: Docker, file: string, progress: Progress): Promise<string[]> {
  const size = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) throw new MakerdeckError('NOT_FOUND', `Cannot read the image bundle ${file}: no such file`);
  progress({ service: 'bundle', phase: 'import', bytesDone: 0, bytesTotal: size });
  const response = await docker.loadImage(createReadStream(file), { quiet: true });
  const items = await new Promise<Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }>>(
    (resolve, reject) =>
      docker.modem.followProgress(
        response,
        (error: Error | null, output: Array<{ stream?: string; error?: string }>) =>
          error ? reject(error) : resolve(output),
      ),
  );
  const failed = items.find((item) => item.error);
  if (failed)
    throw new MakerdeckError(
      'BAD_INPUT',
      `The image bundle ${file} is damaged or not a Docker image bundle (${failed.error}): copy it again from the original`,
    );
  progress({ service: 'bundle', phase: 'import', bytesDone: size, bytesTotal: size });
  return items.flatMap((item) => /Loaded image(?: ID)?: (\S+)/.exec(item.stream ?? '')?.[1] ?? []);
}
