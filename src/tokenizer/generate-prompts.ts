/**
 * Making a P-Prompt set for a new domain with any language model. The caller passes
 * `ask(prompt) => Promise<text>`; we ask once per state, parse the answer (a JSON array or
 * one sentence a line, bullets and numbering removed), drop duplicates and sentences that do
 * not fit CLIP's context, and return a validated set.
 */
import type { ClipTokenizer } from "./clip-tokenizer.js";
import { parsePromptSet, PromptSetError, type PromptSet } from "./prompts.js";

export interface GeneratePromptsOptions {
  /** The imaging domain in words: "knee MRI", "weld seam photographs". */
  domain: string;
  /** Asks the language model; returns its text answer. */
  ask: (prompt: string) => Promise<string>;
  /** Sentences to ask for per state (default 30). */
  perState?: number;
  /** Fewest usable sentences per state before it is an error (default 10). */
  minPerState?: number;
  /** When given, sentences longer than CLIP's 77-token context are dropped. */
  tokenizer?: ClipTokenizer;
}

export function promptRequest(domain: string, state: "normal" | "abnormal", n: number): string {
  const what =
    state === "normal"
      ? `a normal, healthy or defect-free ${domain} image: what its anatomy, structure, texture and intensity look like when nothing is wrong`
      : `an abnormal ${domain} image: the lesions, defects or pathological changes it may show, and how they look`;
  return [
    `Write ${n} different short sentences, each describing ${what}.`,
    "Each sentence must contain the placeholder {classname} exactly where the object's name goes,",
    "use precise clinical or technical wording, stay under 25 words, and describe what is visible in the image.",
    "Answer with a JSON array of strings and nothing else.",
  ].join(" ");
}

/** Splits a model's answer into sentences: a JSON array, or one sentence per line. */
export function parseSentences(answer: string): string[] {
  const json = answer.match(/\[[\s\S]*\]/);
  if (json) {
    try {
      const arr = JSON.parse(json[0]) as unknown;
      if (Array.isArray(arr) && arr.every((s) => typeof s === "string")) return (arr as string[]).map((s) => s.trim()).filter(Boolean);
    } catch {
      // fall through to lines
    }
  }
  return answer
    .split("\n")
    .map((l) => l.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, "").replace(/^["']|["'],?$/g, "").trim())
    .filter((l) => l.length > 0 && !/^```/.test(l));
}

export async function generatePromptSet(opts: GeneratePromptsOptions): Promise<PromptSet> {
  const n = opts.perState ?? 30;
  const min = opts.minPerState ?? 10;
  const set: Record<"normal" | "abnormal", { prompts: string[] }> = { normal: { prompts: [] }, abnormal: { prompts: [] } };
  for (const state of ["normal", "abnormal"] as const) {
    const answer = await opts.ask(promptRequest(opts.domain, state, n));
    const seen = new Set<string>();
    const kept: string[] = [];
    for (let s of parseSentences(answer)) {
      // Other placeholder spellings a model may use for the class name.
      s = s.replace(/\{\s*(?:class|class_name|classname|object|name)\s*\}/gi, "{classname}");
      if (/\{(?!classname\})[^}]*\}/.test(s)) continue;
      const key = s.toLowerCase().replace(/[^a-z0-9{} ]/g, "").replace(/\s+/g, " ");
      if (seen.has(key)) continue;
      if (opts.tokenizer && opts.tokenizer.encode(s.replaceAll("{classname}", "object")).length + 2 > 77) continue;
      seen.add(key);
      kept.push(s);
    }
    if (kept.length < min) {
      throw new PromptSetError(`the language model gave ${kept.length} usable ${state} sentences for "${opts.domain}" (at least ${min} needed); its answer began: "${answer.slice(0, 120)}"`);
    }
    set[state].prompts = kept;
  }
  return parsePromptSet(set, `generated prompt set for ${opts.domain}`);
}

/** The JSON text of a prompt set, in the P-Prompt file format. */
export function formatPromptSet(set: PromptSet): string {
  return `${JSON.stringify({ normal: { prompts: set.normal.prompts }, abnormal: { prompts: set.abnormal.prompts } }, null, 2)}\n`;
}
