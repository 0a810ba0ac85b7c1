/** Node file helpers for the tokenizer and prompt sets. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../atomic-write.js";
import { join } from "node:path";
import { TokenizerError, type ClipTokenizer } from "./clip-tokenizer.js";
import { formatPromptSet } from "./generate-prompts.js";
import { parsePromptSet, PromptSetError, type PromptSet } from "./prompts.js";
import { tokenizerFromFile, tokenizerFromHuggingFace } from "./vocab.js";

/** A tokenizer from OpenAI's .txt.gz/.txt, HF tokenizer.json, or a folder with vocab.json + merges.txt. */
export async function loadTokenizer(path: string): Promise<ClipTokenizer> {
  if (!existsSync(path)) throw new TokenizerError(`${path}: no such file or folder (give bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or a folder with vocab.json and merges.txt)`);
  if (statSync(path).isDirectory()) {
    for (const name of ["bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt", "tokenizer.json"]) {
      if (existsSync(join(path, name))) return loadTokenizer(join(path, name));
    }
    const [v, m] = [join(path, "vocab.json"), join(path, "merges.txt")];
    if (existsSync(v) && existsSync(m)) return tokenizerFromHuggingFace(readFileSync(v, "utf8"), readFileSync(m, "utf8"), `${v} + ${m}`);
    throw new TokenizerError(`${path}: holds none of bpe_simple_vocab_16e6.txt.gz, tokenizer.json, or vocab.json with merges.txt`);
  }
  return tokenizerFromFile(new Uint8Array(readFileSync(path)), path);
}

/** Reads and validates a P-Prompt JSON file. */
export function loadPromptSet(path: string): PromptSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new PromptSetError(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePromptSet(text, path);
}

/** Writes a prompt set atomically (a temporary file, then a rename): never half-written. */
export function savePromptSet(path: string, set: PromptSet): void {
  writeFileAtomic(path, formatPromptSet(set));
}
