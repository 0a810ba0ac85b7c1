/**
 * A private reference store in the origin private file system (OPFS): detector files
 * (memory bank, text features, threshold; see ClipMPCAD.saveDetector) built from normal
 * shots that never leave the browser. Writes go through createWritable, which swaps the
 * file in only on close: a cancelled or failed write leaves the previous file.
 */

export class PrivateStoreError extends Error {
  override name = "PrivateStoreError";
}

const DIR = "clipmpcad-gpu-detectors";

async function folder(): Promise<FileSystemDirectoryHandle> {
  if (typeof navigator === "undefined" || !navigator.storage?.getDirectory) {
    throw new PrivateStoreError("this browser has no origin private file system (navigator.storage.getDirectory): keep the detector bytes yourself");
  }
  return (await navigator.storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
}

function fileName(name: string): string {
  if (!/^[\w.-]{1,100}$/.test(name)) throw new PrivateStoreError(`detector name "${name}" must be 1-100 letters, digits, '.', '-' or '_'`);
  return `${name}.safetensors`;
}

/** Stores detector bytes under a name, replacing any earlier one. */
export async function storeDetector(name: string, bytes: Uint8Array): Promise<void> {
  const handle = await (await folder()).getFileHandle(fileName(name), { create: true });
  const w = await handle.createWritable();
  try {
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

/** A stored detector as a Blob (pass it to ClipMPCAD.loadDetector as `detector`). */
export async function storedDetector(name: string): Promise<Blob> {
  try {
    return await (await (await folder()).getFileHandle(fileName(name))).getFile();
  } catch (e) {
    if ((e as Error).name === "NotFoundError") throw new PrivateStoreError(`no stored detector "${name}" (listStoredDetectors() says which exist)`);
    throw e;
  }
}

export async function listStoredDetectors(): Promise<{ name: string; bytes: number }[]> {
  const out: { name: string; bytes: number }[] = [];
  const dir = await folder();
  for await (const [file, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === "file" && file.endsWith(".safetensors")) out.push({ name: file.slice(0, -".safetensors".length), bytes: (await (handle as FileSystemFileHandle).getFile()).size });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function deleteStoredDetector(name: string): Promise<boolean> {
  try {
    await (await folder()).removeEntry(fileName(name));
    return true;
  } catch (e) {
    if ((e as Error).name === "NotFoundError") return false;
    throw e;
  }
}
