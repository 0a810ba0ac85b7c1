import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedFile, VOCAB_GZ } from "./helpers/shared.js";
import {
  ABNORMAL_STATES,
  classNameFor,
  DOMAIN_PROMPT_SETS,
  domainPromptSet,
  ensembleSentences,
  generatePromptSet,
  INDUSTRIAL_OBJECTS,
  loadPromptSet,
  loadTokenizer,
  NORMAL_STATES,
  parsePromptSet,
  parseSentences,
  promptSetFor,
  PromptSetError,
  savePromptSet,
  TEMPLATES,
  TextFeatureCache,
  textFeatureKey,
  type Domain,
} from "../src/index.js";

const VOCAB = sharedFile(VOCAB_GZ);

describe("prompt ensemble", () => {
  it("has the spec's 35 templates and 7 + 5 state phrases, in order", () => {
    expect(TEMPLATES).toHaveLength(35);
    expect(TEMPLATES[0]).toBe("a bad photo of a {}.");
    expect(TEMPLATES[34]).toBe("this is one {} in the scene.");
    expect(NORMAL_STATES).toHaveLength(7);
    expect(ABNORMAL_STATES).toHaveLength(5);
  });

  it("fills state phrases into templates (for each state, all templates), then P-Prompts", () => {
    const s = ensembleSentences("Brain", { normal: { prompts: ["a {classname} MRI"] }, abnormal: { prompts: [] } });
    expect(s.normal).toHaveLength(7 * 35 + 1);
    expect(s.abnormal).toHaveLength(5 * 35);
    expect(s.normal[0]).toBe("a bad photo of a Brain.");
    expect(s.normal[35]).toBe("a bad photo of a flawless Brain.");
    expect(s.normal[35 * 4 + 1]).toBe("a low resolution photo of the Brain without flaw.");
    expect(s.abnormal[36]).toBe("a low resolution photo of the broken Brain.");
    expect(s.normal[7 * 35]).toBe("a Brain MRI");
  });

  it("uses the reference class names", () => {
    expect(classNameFor("Brain")).toBe("Brain");
    expect(classNameFor("Retina_OCT2017")).toBe("retinal OCT");
    expect(classNameFor("Retina_RESC")).toBe("retinal OCT");
    expect(classNameFor("Chest")).toBe("Chest X-ray film");
    expect(classNameFor("Histopathology")).toBe("histopathological image");
    expect(classNameFor("metal_nut")).toBe("metal nut with defects");
    expect(classNameFor("toothbrush")).toBe("toothbrush with defects");
    expect(classNameFor("pcb4")).toBe("PCB type 4 with defects");
  });
});

// A dataset (or object) of each domain, for its class name.
const EXAMPLE: Record<Domain, string> = {
  "brain-mri": "Brain",
  "liver-ct": "Liver",
  "retinal-oct": "Retina_RESC",
  "chest-xray": "Chest",
  histopathology: "Histopathology",
  industrial: "metal_nut",
};

describe("domain prompt sets", async () => {
  const tok = await loadTokenizer(VOCAB);
  for (const domain of Object.keys(DOMAIN_PROMPT_SETS) as Domain[]) {
    it(`${domain}: loads, has 20-40 sentences per state, fills class names, fits the context`, () => {
      const set = domainPromptSet(domain);
      for (const state of ["normal", "abnormal"] as const) {
        expect(set[state].prompts.length).toBeGreaterThanOrEqual(20);
        expect(set[state].prompts.length).toBeLessThanOrEqual(40);
      }
      const cls = classNameFor(EXAMPLE[domain]);
      const s = ensembleSentences(cls, set);
      const extra = [...s.normal.slice(7 * 35), ...s.abnormal.slice(5 * 35)];
      expect(extra.length).toBe(set.normal.prompts.length + set.abnormal.prompts.length);
      for (const sentence of extra) {
        expect(sentence).not.toMatch(/[{}]/);
        expect(tok.encode(sentence).length + 2).toBeLessThanOrEqual(77);
      }
      expect(extra.some((x) => x.includes(cls))).toBe(true);
    });
  }

  it("maps datasets to domains (industrial objects to industrial)", () => {
    expect(promptSetFor("Brain")).toEqual(domainPromptSet("brain-mri"));
    expect(promptSetFor("Retina_OCT2017")).toEqual(domainPromptSet("retinal-oct"));
    for (const obj of Object.values(INDUSTRIAL_OBJECTS).flat()) expect(promptSetFor(obj)).toEqual(domainPromptSet("industrial"));
  });
});

describe("P-Prompt files", () => {
  it("bad files give errors naming the file, state and sentence", () => {
    const f = "my-prompts.json";
    expect(() => parsePromptSet("{", f)).toThrow(/my-prompts.json: not valid JSON/);
    expect(() => parsePromptSet([], f)).toThrow(/my-prompts.json: expected an object/);
    expect(() => parsePromptSet({ normal: { prompts: [] } }, f)).toThrow(/my-prompts.json: "abnormal" is missing/);
    expect(() => parsePromptSet({ normal: { prompts: "x" }, abnormal: { prompts: [] } }, f)).toThrow(/normal.prompts must be an array/);
    expect(() => parsePromptSet({ normal: { prompts: ["ok", 3] }, abnormal: { prompts: [] } }, f)).toThrow(/normal.prompts\[1\] must be a non-empty string/);
    expect(() => parsePromptSet({ normal: { prompts: [] }, abnormal: { prompts: ["a {class} lesion"] } }, f)).toThrow(/abnormal.prompts\[0\] has the placeholder \{class\}; only \{classname\} is filled in/);
    expect(() => parsePromptSet({ normal: { prompts: ["A b", "a B"] }, abnormal: { prompts: [] } }, f)).toThrow(/normal.prompts\[1\] repeats an earlier sentence/);
    expect(() => parsePromptSet({ normal: { prompts: [] }, abnormal: { prompts: [] }, extra: 1 }, f)).toThrow(/unknown key\(s\) extra/);
    expect(() => loadPromptSet("/nonexistent/p.json")).toThrow(/\/nonexistent\/p.json: cannot be read \(ENOENT\)/);
  });

  it("saves and loads a set (atomically)", () => {
    const dir = mkdtempSync(join(tmpdir(), "prompts-"));
    const set = { normal: { prompts: ["a {classname} that is fine"] }, abnormal: { prompts: ["a {classname} with a lesion"] } };
    savePromptSet(join(dir, "p.json"), set);
    expect(loadPromptSet(join(dir, "p.json"))).toEqual(set);
    expect(JSON.parse(readFileSync(join(dir, "p.json"), "utf8"))).toEqual(set);
  });
});

describe("generating a prompt set with a language model", () => {
  it("asks per state, parses, normalises placeholders, deduplicates and validates", async () => {
    const asked: string[] = [];
    const ask = async (prompt: string) => {
      asked.push(prompt);
      if (/abnormal/.test(prompt)) {
        return "Here you go:\n1. a {classname} with a tear\n2. a {class} with a tear\n- a {object} with a bulge\n* a {weird} thing\n" + Array.from({ length: 10 }, (_, i) => `${i + 3}) a {classname} with defect kind ${i}`).join("\n");
      }
      return JSON.stringify(Array.from({ length: 12 }, (_, i) => `a normal {classname} view number ${i}`));
    };
    const tok = await loadTokenizer(VOCAB);
    const set = await generatePromptSet({ domain: "knee MRI", ask, tokenizer: tok });
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatch(/normal, healthy or defect-free knee MRI image/);
    expect(asked[1]).toMatch(/abnormal knee MRI image/);
    expect(set.normal.prompts).toHaveLength(12);
    expect(set.abnormal.prompts).toContain("a {classname} with a tear");
    expect(set.abnormal.prompts).toContain("a {classname} with a bulge");
    expect(set.abnormal.prompts.filter((p) => p.includes("tear"))).toHaveLength(1);
    expect(set.abnormal.prompts.some((p) => p.includes("weird"))).toBe(false);
    expect(set.abnormal.prompts.some((p) => p.startsWith("Here you go"))).toBe(true); // a prose line stays; it is a sentence
  });

  it("fails clearly when the model gives too little", async () => {
    await expect(generatePromptSet({ domain: "x-ray of welds", ask: async () => "I cannot help with that." })).rejects.toThrow(PromptSetError);
    await expect(generatePromptSet({ domain: "x-ray of welds", ask: async () => "I cannot help with that." })).rejects.toThrow(/gave 1 usable normal sentences for "x-ray of welds" \(at least 10 needed\)/);
  });

  it("parses JSON arrays and bulleted lines", () => {
    expect(parseSentences('```json\n["a", "b"]\n```')).toEqual(["a", "b"]);
    expect(parseSentences("1. first\n2) second\n- third\n\n")).toEqual(["first", "second", "third"]);
  });
});

describe("text feature cache", () => {
  it("keys by weights, class and exact sentences; round-trips through its file", async () => {
    const s1 = ensembleSentences("Brain");
    const s2 = ensembleSentences("Brain", domainPromptSet("brain-mri"));
    const k1 = await textFeatureKey("weights-a", "Brain", s1);
    expect(await textFeatureKey("weights-a", "Brain", s1)).toBe(k1);
    expect(await textFeatureKey("weights-b", "Brain", s1)).not.toBe(k1);
    expect(await textFeatureKey("weights-a", "Brain", s2)).not.toBe(k1);
    expect(await textFeatureKey("weights-a", "Liver", ensembleSentences("Liver"))).not.toBe(k1);
    const cache = new TextFeatureCache();
    const data = Float32Array.from({ length: 768 * 2 }, (_, i) => Math.sin(i));
    cache.set(k1, { className: "Brain", shape: [768, 2], data });
    const back = TextFeatureCache.deserialize(cache.serialize());
    expect(back.size).toBe(1);
    expect(Array.from(back.get(k1)!.data)).toEqual(Array.from(data));
    const dir = mkdtempSync(join(tmpdir(), "tfc-"));
    writeFileSync(join(dir, "c.json"), cache.serialize());
    expect(TextFeatureCache.deserialize(readFileSync(join(dir, "c.json"), "utf8")).get(k1)?.shape).toEqual([768, 2]);
  });

  it("refuses bad cache files with a clear error", () => {
    expect(() => TextFeatureCache.deserialize("{}", "c.json")).toThrow(/c.json: not a clipmpcad-gpu text feature cache/);
    expect(() => TextFeatureCache.deserialize(JSON.stringify({ format: "clipmpcad-gpu/text-features", version: 9, entries: [] }), "c.json")).toThrow(/version 9 is not supported/);
    const bad = { format: "clipmpcad-gpu/text-features", version: 1, entries: [{ key: "k", className: "B", shape: [4, 2], data: btoa("abcd") }] };
    expect(() => TextFeatureCache.deserialize(JSON.stringify(bad), "c.json")).toThrow(/entries\[0\] \("B"\) holds 1 values, shape \[4, 2\] needs 8/);
  });
});
