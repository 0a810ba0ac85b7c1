/**
 * The CLIP byte-level BPE tokenizer, id for id with OpenAI's `simple_tokenizer.py`:
 * clean (HTML-unescape twice, collapse whitespace, strip, lower-case), split with CLIP's
 * pattern, map UTF-8 bytes to printable characters, merge by rank with `</w>` word ends.
 * Browser-safe: no Node built-ins (file loading for Node is in load-vocab-node.ts).
 */
import { decodeHTML } from "entities";

export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";
export const CONTEXT_LENGTH = 77;

/** Thrown for unreadable or malformed vocabulary files, and for text that does not fit. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

// CLIP's pre-tokeniser: the two special tokens, English contractions, letter runs, single
// digits, and runs of anything else that is not whitespace.
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to 256+n. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  const ranges: [number, number][] = [
    [0x21, 0x7e],
    [0xa1, 0xac],
    [0xae, 0xff],
  ];
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  }
  return table;
}

export interface EncodeBatchOptions {
  /** Context length; 77 for CLIP. */
  contextLength?: number;
  /** Cut too-long input to the context, <|endoftext|> last (otherwise it is an error). */
  truncate?: boolean;
}

export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  private readonly byteEncoder = bytesToUnicode();
  private readonly byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
  private readonly ranks: Map<string, number>;
  private readonly decoder: string[];
  private readonly cache = new Map<string, string[]>();

  /**
   * @param encoder token string -> id
   * @param merges merge pairs in rank order, e.g. ["i", "n"]
   */
  constructor(
    private readonly encoder: Map<string, number>,
    merges: [string, string][],
    readonly source = "vocabulary",
  ) {
    const sot = encoder.get(START_OF_TEXT);
    const eot = encoder.get(END_OF_TEXT);
    if (sot === undefined || eot === undefined) {
      throw new TokenizerError(`${source}: the vocabulary has no ${START_OF_TEXT} / ${END_OF_TEXT} entries; is it a CLIP vocabulary?`);
    }
    this.sot = sot;
    this.eot = eot;
    this.ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
    this.decoder = [];
    for (const [tok, id] of encoder) this.decoder[id] = tok;
    // The special tokens are never split (simple_tokenizer.py seeds its cache with them).
    this.cache.set(START_OF_TEXT, [START_OF_TEXT]);
    this.cache.set(END_OF_TEXT, [END_OF_TEXT]);
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  /** Cleans text as CLIP does before splitting it. */
  static clean(text: string): string {
    // ftfy.fix_text in the original also NFC-normalises; the rest of ftfy's repairs (mojibake)
    // do not change well-formed text.
    let t = text.normalize("NFC");
    t = decodeHTML(decodeHTML(t)).trim();
    return t.replace(/\s+/gu, " ").trim().toLowerCase();
  }

  /** Token ids of one text, without <|startoftext|> and <|endoftext|>. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const clean = ClipTokenizer.clean(text);
    for (const m of clean.matchAll(PATTERN)) {
      const bytes = new TextEncoder().encode(m[0]);
      let word = "";
      for (const b of bytes) word += this.byteEncoder[b];
      for (const piece of this.bpe(word)) {
        const id = this.encoder.get(piece);
        if (id === undefined) throw new TokenizerError(`${this.source}: BPE produced "${piece}", which is not in the vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /** The vocabulary string of one id (byte-encoded, with </w>), "" when out of range. */
  decodeToken(id: number): string {
    return this.decoder[id] ?? "";
  }

  /** Text of token ids (special tokens included as text; </w> becomes a space). */
  decode(ids: readonly number[]): string {
    const text = ids.map((id) => this.decoder[id] ?? "").join("");
    const bytes: number[] = [];
    for (const ch of text.replaceAll("</w>", " ")) {
      const b = this.byteDecoder.get(ch);
      if (b !== undefined) bytes.push(b);
      else bytes.push(...new TextEncoder().encode(ch));
    }
    return new TextDecoder("utf-8", { fatal: false }).decode(new Uint8Array(bytes)).replace(/ $/, "");
  }

  /**
   * [n, contextLength] ids, row-major: <|startoftext|>, the text's ids, <|endoftext|>, zeros.
   * Too-long text is an error unless `truncate`, which keeps the first contextLength ids and
   * puts <|endoftext|> last.
   */
  encodeBatch(texts: readonly string[], opts: EncodeBatchOptions = {}): Int32Array {
    const C = opts.contextLength ?? CONTEXT_LENGTH;
    const out = new Int32Array(texts.length * C);
    texts.forEach((text, i) => {
      let ids = [this.sot, ...this.encode(text), this.eot];
      if (ids.length > C) {
        if (!opts.truncate) {
          throw new TokenizerError(
            `text ${i} is ${ids.length} tokens, longer than the context of ${C}: "${text.slice(0, 60)}${text.length > 60 ? "..." : ""}" ` +
              "(shorten it, or pass truncate: true to cut it)",
          );
        }
        ids = ids.slice(0, C);
        ids[C - 1] = this.eot;
      }
      out.set(ids, i * C);
    });
    return out;
  }

  /** Splits one byte-encoded word into BPE pieces, merging the lowest-ranked pair first. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = chars.slice(0, -1);
    word.push(chars[chars.length - 1] + "</w>");
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [first, second] = [word[best], word[best + 1]];
      // Merge every occurrence of the pair, left to right.
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]);
          i += 1;
        }
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Entries in the BPE cache (for tests and memory checks). */
  get cacheSize(): number {
    return this.cache.size;
  }
}
