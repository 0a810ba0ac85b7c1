/**
 * The workplace's shared data (CLIP vocabulary and reference token ids) sits beside the
 * repository as ../shared, in CI too; CLIPMPCAD_SHARED overrides where it is.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const SHARED = resolve(process.env.CLIPMPCAD_SHARED ?? "../shared");

export function sharedFile(rel: string): string {
  const p = resolve(SHARED, rel);
  if (!existsSync(p)) throw new Error(`${p} is missing: the tests need the workplace's shared/ beside the repository (or CLIPMPCAD_SHARED pointing at it)`);
  return p;
}

export const VOCAB_GZ = "data/clip/bpe_simple_vocab_16e6.txt.gz";
export const TOKENIZER_CASES = "data/clip/tokenizer-cases.json";
