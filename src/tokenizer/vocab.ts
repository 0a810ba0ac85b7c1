/**
 * Reading CLIP vocabularies: OpenAI's `bpe_simple_vocab_16e6.txt(.gz)`, and Hugging Face's
 * `vocab.json` + `merges.txt` or `tokenizer.json`. Every problem is reported with the file
 * name and, where it applies, the line. Browser-safe (gzip through DecompressionStream).
 */
import { bytesToUnicode, ClipTokenizer, END_OF_TEXT, START_OF_TEXT, TokenizerError } from "./clip-tokenizer.js";

/** OpenAI's tokenizer uses the first 49152 - 256 - 2 merges of its file. */
export const CLIP_MERGES = 49152 - 256 - 2;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export async function gunzip(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new TokenizerError(`${source}: not a valid gzip file (${(e as Error).message}); pass the .txt.gz as downloaded, or the unpacked .txt`);
  }
}

function parseMergeLines(lines: string[], firstLine: number, source: string): [string, string][] {
  return lines.map((line, i) => {
    const parts = line.split(" ");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new TokenizerError(`${source}: line ${firstLine + i} is not a merge of two symbols ("${line.slice(0, 40)}")`);
    }
    return [parts[0], parts[1]];
  });
}

/** OpenAI's BPE file: a version line, then merges, one pair a line. Gzipped or not. */
export async function tokenizerFromBpe(data: Uint8Array | string, source = "bpe vocabulary"): Promise<ClipTokenizer> {
  let text: string;
  if (typeof data === "string") text = data;
  else text = new TextDecoder("utf-8", { fatal: true }).decode(isGzip(data) ? await gunzip(data, source) : data);
  const lines = text.split("\n");
  if (!/#version/.test(lines[0] ?? "")) {
    throw new TokenizerError(`${source}: the first line should be the "#version: 0.2" header of bpe_simple_vocab_16e6.txt, found "${(lines[0] ?? "").slice(0, 60)}"`);
  }
  const mergeLines = lines.slice(1, 1 + CLIP_MERGES);
  if (mergeLines.length < CLIP_MERGES || mergeLines[mergeLines.length - 1] === "") {
    throw new TokenizerError(`${source}: has ${lines.filter(Boolean).length - 1} merges, CLIP needs ${CLIP_MERGES}; the file is truncated or not CLIP's`);
  }
  const merges = parseMergeLines(mergeLines, 2, source);
  // Ids in simple_tokenizer.py order: bytes (table order), bytes + </w>, merges, specials.
  const table = bytesToUnicode();
  const byteOrder = [...table].sort((a, b) => order(a) - order(b));
  const vocab = [...byteOrder, ...byteOrder.map((c) => c + "</w>"), ...merges.map(([a, b]) => a + b), START_OF_TEXT, END_OF_TEXT];
  return new ClipTokenizer(new Map(vocab.map((t, i) => [t, i])), merges, source);
}

// bytes_to_unicode() lists printable bytes first (they map to themselves, code point < 256),
// then the others (mapped to 256 + n, in byte order): sorting by code point gives that order.
function order(c: string): number {
  return c.codePointAt(0)!;
}

/** Hugging Face `vocab.json` (token -> id) and `merges.txt`. */
export function tokenizerFromHuggingFace(vocabJson: string | Record<string, number>, mergesTxt: string, source = "vocab.json + merges.txt"): ClipTokenizer {
  let vocab: unknown = vocabJson;
  if (typeof vocabJson === "string") {
    try {
      vocab = JSON.parse(vocabJson);
    } catch (e) {
      throw new TokenizerError(`${source}: vocab.json is not valid JSON (${(e as Error).message})`);
    }
  }
  const encoder = checkVocab(vocab, source);
  const lines = mergesTxt.split("\n");
  const start = lines[0]?.startsWith("#version") ? 1 : 0;
  const body = lines.slice(start).filter((l) => l.length > 0);
  return new ClipTokenizer(encoder, parseMergeLines(body, start + 1, source), source);
}

/** Hugging Face `tokenizer.json` (a BPE model with vocab and merges). */
export function tokenizerFromTokenizerJson(json: string | object, source = "tokenizer.json"): ClipTokenizer {
  let obj: unknown = json;
  if (typeof json === "string") {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new TokenizerError(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  const model = (obj as { model?: { type?: string; vocab?: unknown; merges?: unknown } }).model;
  if (!model || (model.type !== undefined && model.type !== "BPE")) {
    throw new TokenizerError(`${source}: expected a "model" of type "BPE" with "vocab" and "merges"`);
  }
  const encoder = checkVocab(model.vocab, source);
  if (!Array.isArray(model.merges)) throw new TokenizerError(`${source}: model.merges must be an array`);
  const merges = model.merges.map((m: unknown, i: number): [string, string] => {
    const pair = typeof m === "string" ? m.split(" ") : m;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((p) => typeof p !== "string" || !p)) {
      throw new TokenizerError(`${source}: model.merges[${i}] is not a pair of symbols`);
    }
    return [pair[0], pair[1]];
  });
  return new ClipTokenizer(encoder, merges, source);
}

function checkVocab(vocab: unknown, source: string): Map<string, number> {
  if (!vocab || typeof vocab !== "object" || Array.isArray(vocab)) {
    throw new TokenizerError(`${source}: the vocabulary must be a JSON object of token -> id`);
  }
  const map = new Map<string, number>();
  for (const [tok, id] of Object.entries(vocab as Record<string, unknown>)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new TokenizerError(`${source}: the id of token "${tok}" is ${JSON.stringify(id)}, not a non-negative integer`);
    map.set(tok, id as number);
  }
  return map;
}

/** A tokenizer from one file's bytes, by its name: tokenizer.json (*.json) or OpenAI's BPE file. */
export async function tokenizerFromFile(bytes: Uint8Array, name: string): Promise<ClipTokenizer> {
  if (/\.json$/i.test(name)) return tokenizerFromTokenizerJson(new TextDecoder().decode(bytes), name);
  return tokenizerFromBpe(bytes, name);
}
