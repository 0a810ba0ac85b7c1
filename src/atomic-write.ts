/**
 * Writes a file atomically (Node): a temporary file beside it, then a rename, so a reader or
 * an interrupted run never sees half a file. The temporary name carries the process id, so
 * two processes writing the same path do not share it.
 */
import { renameSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
