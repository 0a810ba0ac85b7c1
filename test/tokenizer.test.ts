import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedFile, TOKENIZER_CASES, VOCAB_GZ } from "./helpers/shared.js";
import { ClipTokenizer, loadTokenizer, TokenizerError, tokenizerFromBpe, tokenizerFromHuggingFace, tokenizerFromTokenizerJson } from "../src/index.js";
import { rng } from "./helpers/random.js";

// The reference vocabulary and ids (from OpenAI's tokenizer) live in the workplace's shared/.
const VOCAB = sharedFile(VOCAB_GZ);
const CASES: { text: string; ids: number[]; context77: number[] }[] = JSON.parse(readFileSync(sharedFile(TOKENIZER_CASES), "utf8"));

describe("CLIP tokenizer", async () => {
  const tok = await loadTokenizer(VOCAB);

  it("has CLIP's 49408 ids with <|startoftext|> 49406 and <|endoftext|> 49407", () => {
    expect(tok.vocabSize).toBe(49408);
    expect(tok.sot).toBe(49406);
    expect(tok.eot).toBe(49407);
  });

  for (const c of CASES) {
    it(`matches the reference: ${JSON.stringify(c.text).slice(0, 70)}`, () => {
      const full = [tok.sot, ...tok.encode(c.text), tok.eot];
      if (c.ids.length <= 77) expect(full).toEqual(c.ids);
      else expect(full.slice(0, 76)).toEqual(c.ids.slice(0, 76));
      expect(Array.from(tok.encodeBatch([c.text], { truncate: true }))).toEqual(c.context77);
    });
  }

  it("refuses too-long text unless asked to truncate", () => {
    const long = CASES.find((c) => c.ids.length > 77)!;
    expect(() => tok.encodeBatch(["a", long.text])).toThrow(TokenizerError);
    expect(() => tok.encodeBatch(["a", long.text])).toThrow(/text 1 is \d+ tokens, longer than the context of 77/);
  });

  it("round-trips random ASCII text through decode (cleaned, lower-cased)", () => {
    const r = rng(7);
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?-()'";
    for (let n = 0; n < 200; n++) {
      const len = 1 + Math.floor(r() * 40);
      let s = "";
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
      const clean = ClipTokenizer.clean(s);
      // decode puts a space after each word end; compare with spaces removed
      expect(tok.decode(tok.encode(s)).replace(/ /g, "")).toBe(clean.replace(/ /g, ""));
    }
  });

  it("gives the same ids from a warm cache as from a fresh tokenizer", async () => {
    const texts = CASES.map((c) => c.text);
    const first = texts.map((t) => tok.encode(t));
    expect(tok.cacheSize).toBeGreaterThan(2);
    const fresh = await loadTokenizer(VOCAB);
    expect(texts.map((t) => fresh.encode(t))).toEqual(first);
  });

  it("reads the unpacked .txt and Hugging Face vocab.json + merges.txt / tokenizer.json alike", async () => {
    const text = (await import("node:zlib")).gunzipSync(readFileSync(VOCAB)).toString("utf8");
    const fromTxt = await tokenizerFromBpe(text, "vocab.txt");
    // Build the HF files from OpenAI's: same vocabulary, same merges.
    const merges = text.split("\n").slice(1, 1 + 48894);
    const vocab: Record<string, number> = {};
    for (let id = 0; id < 49408; id++) vocab[fromTxt.decodeToken(id)] = id;
    const hf = tokenizerFromHuggingFace(JSON.stringify(vocab), `#version: 0.2\n${merges.join("\n")}\n`);
    const tj = tokenizerFromTokenizerJson({ model: { type: "BPE", vocab, merges } });
    for (const c of CASES.slice(0, 12)) {
      expect(fromTxt.encode(c.text)).toEqual(tok.encode(c.text));
      expect(hf.encode(c.text)).toEqual(tok.encode(c.text));
      expect(tj.encode(c.text)).toEqual(tok.encode(c.text));
    }
  });

  it("bad vocabulary files give errors naming the file and the problem", async () => {
    await expect(tokenizerFromBpe(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "v.txt.gz")).rejects.toThrow(/v.txt.gz: not a valid gzip file/);
    await expect(tokenizerFromBpe(gzipSync("hello\nworld\n"), "v.txt.gz")).rejects.toThrow(/v.txt.gz: the first line should be the "#version: 0.2" header/);
    await expect(tokenizerFromBpe("#version: 0.2\ni n\nt h\n", "short.txt")).rejects.toThrow(/short.txt: has 2 merges, CLIP needs 48894/);
    const bad = ["#version: 0.2", ...Array.from({ length: 48894 }, (_, i) => (i === 99 ? "abc" : "a b"))].join("\n");
    await expect(tokenizerFromBpe(bad, "bad.txt")).rejects.toThrow(/bad.txt: line 101 is not a merge of two symbols \("abc"\)/);
    expect(() => tokenizerFromHuggingFace("{nope", "", "my/vocab.json")).toThrow(/my\/vocab.json: vocab.json is not valid JSON/);
    expect(() => tokenizerFromHuggingFace('{"a": 1}', "a b", "v.json")).toThrow(/v.json: the vocabulary has no <\|startoftext\|>/);
    expect(() => tokenizerFromHuggingFace('{"a": "x"}', "a b", "v.json")).toThrow(/the id of token "a" is "x"/);
    expect(() => tokenizerFromTokenizerJson({ model: { type: "WordPiece" } }, "t.json")).toThrow(/t.json: expected a "model" of type "BPE"/);
    await expect(loadTokenizer("/nonexistent/vocab.gz")).rejects.toThrow(/\/nonexistent\/vocab.gz: no such file/);
  });
});
