/** Node byte sources and an atomic writer for safetensors files. */
import { open } from "node:fs/promises";
import { writeFileAtomic } from "../atomic-write.js";
import { SafetensorsError, SafetensorsFile, encodeSafetensors, type ByteSource, type WritableTensor } from "./safetensors.js";

/** Reads a file piecewise through a file handle (nothing is read until asked for). */
export async function fileSource(path: string): Promise<ByteSource> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { size } = await handle.stat();
  return {
    name: path,
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${offset + done}`);
        done += bytesRead;
      }
      return buf;
    },
    close: () => handle.close(),
  };
}

export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const src = await fileSource(path);
  try {
    return await SafetensorsFile.open(src);
  } catch (e) {
    await src.close?.();
    throw e;
  }
}

/** Writes a temporary file and renames it: a reader never sees half a file. */
export async function saveSafetensors(path: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
