/**
 * The prompt ensemble of spec 5.2: state phrases x sentence templates for the normal and
 * abnormal states, the class names the reference uses per dataset, and P-Prompt sets
 * (extra domain sentences, `{classname}` filled in) appended per state.
 */

/** The 35 CLIP/WinCLIP sentence templates, in the reference order. */
export const TEMPLATES: readonly string[] = [
  "a bad photo of a {}.",
  "a low resolution photo of the {}.",
  "a bad photo of the {}.",
  "a cropped photo of the {}.",
  "a bright photo of a {}.",
  "a dark photo of the {}.",
  "a photo of my {}.",
  "a photo of the cool {}.",
  "a close-up photo of a {}.",
  "a black and white photo of the {}.",
  "a bright photo of the {}.",
  "a cropped photo of a {}.",
  "a jpeg corrupted photo of a {}.",
  "a blurry photo of the {}.",
  "a photo of the {}.",
  "a good photo of the {}.",
  "a photo of one {}.",
  "a close-up photo of the {}.",
  "a photo of a {}.",
  "a low resolution photo of a {}.",
  "a photo of a large {}.",
  "a blurry photo of a {}.",
  "a jpeg corrupted photo of the {}.",
  "a good photo of a {}.",
  "a photo of the small {}.",
  "a photo of the large {}.",
  "a black and white photo of a {}.",
  "a dark photo of a {}.",
  "a photo of a cool {}.",
  "a photo of a small {}.",
  "there is a {} in the scene.",
  "there is the {} in the scene.",
  "this is a {} in the scene.",
  "this is the {} in the scene.",
  "this is one {} in the scene.",
];

export const NORMAL_STATES: readonly string[] = [
  "{}",
  "flawless {}",
  "perfect {}",
  "unblemished {}",
  "{} without flaw",
  "{} without defect",
  "{} without damage",
];

export const ABNORMAL_STATES: readonly string[] = ["damaged {}", "broken {}", "{} with flaw", "{} with defect", "{} with damage"];

/** The class name the reference passes for each medical dataset. */
export const MEDICAL_CLASS_NAMES: Readonly<Record<string, string>> = {
  Brain: "Brain",
  Liver: "Liver",
  Retina_RESC: "retinal OCT",
  Retina_OCT2017: "retinal OCT",
  Chest: "Chest X-ray film",
  Histopathology: "histopathological image",
};

/**
 * Readable names of industrial objects where the folder name is not one. The reference
 * writes `<object> with defects` with underscores as spaces; for VisA's and BTAD's coded
 * folder names it is silent, and these are our choice.
 */
export const OBJECT_NAMES: Readonly<Record<string, string>> = {
  metal_nut: "metal nut",
  pcb1: "PCB type 1",
  pcb2: "PCB type 2",
  pcb3: "PCB type 3",
  pcb4: "PCB type 4",
  macaroni1: "macaroni",
  macaroni2: "macaroni",
  chewinggum: "chewing gum",
  pipe_fryum: "pipe fryum",
  "01": "product 01",
  "02": "product 02",
  "03": "product 03",
};

/** The MVTec AD, VisA, MPDD and BTAD objects. */
export const INDUSTRIAL_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  mvtec: ["bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut", "pill", "screw", "tile", "toothbrush", "transistor", "wood", "zipper"],
  visa: ["candle", "capsules", "cashew", "chewinggum", "fryum", "macaroni1", "macaroni2", "pcb1", "pcb2", "pcb3", "pcb4", "pipe_fryum"],
  mpdd: ["bracket_black", "bracket_brown", "bracket_white", "connector", "metal_plate", "tubes"],
  btad: ["01", "02", "03"],
};

/**
 * The class name for a dataset (medical: its table entry) or an industrial object
 * (`metal_nut` -> `metal nut with defects`).
 */
export function classNameFor(datasetOrObject: string): string {
  const medical = MEDICAL_CLASS_NAMES[datasetOrObject];
  if (medical) return medical;
  const name = OBJECT_NAMES[datasetOrObject] ?? datasetOrObject.replace(/_/g, " ");
  return `${name} with defects`;
}

/** A P-Prompt set: extra sentences per state; `{classname}` is replaced by the class name. */
export interface PromptSet {
  normal: { prompts: string[] };
  abnormal: { prompts: string[] };
}

export class PromptSetError extends Error {
  override name = "PromptSetError";
}

/**
 * Parses and validates a P-Prompt JSON (text or object). Errors name the source, the
 * state and the sentence index.
 */
export function parsePromptSet(json: string | unknown, source = "prompt set"): PromptSet {
  let obj: unknown = json;
  if (typeof json === "string") {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new PromptSetError(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  const shape = '{"normal": {"prompts": [...]}, "abnormal": {"prompts": [...]}}';
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new PromptSetError(`${source}: expected an object ${shape}`);
  const out = {} as PromptSet;
  for (const state of ["normal", "abnormal"] as const) {
    const entry = (obj as Record<string, unknown>)[state];
    if (entry === undefined) throw new PromptSetError(`${source}: "${state}" is missing; expected ${shape}`);
    const prompts = (entry as { prompts?: unknown } | null)?.prompts;
    if (!Array.isArray(prompts)) throw new PromptSetError(`${source}: ${state}.prompts must be an array of sentences`);
    const seen = new Set<string>();
    out[state] = {
      prompts: prompts.map((p, i) => {
        if (typeof p !== "string" || !p.trim()) throw new PromptSetError(`${source}: ${state}.prompts[${i}] must be a non-empty string`);
        for (const m of p.matchAll(/\{([^}]*)\}/g)) {
          if (m[1] !== "classname") {
            throw new PromptSetError(`${source}: ${state}.prompts[${i}] has the placeholder {${m[1]}}; only {classname} is filled in ("${p.slice(0, 60)}")`);
          }
        }
        const key = p.trim().toLowerCase();
        if (seen.has(key)) throw new PromptSetError(`${source}: ${state}.prompts[${i}] repeats an earlier sentence ("${p.slice(0, 60)}")`);
        seen.add(key);
        return p.trim();
      }),
    };
  }
  const extra = Object.keys(obj as object).filter((k) => k !== "normal" && k !== "abnormal");
  if (extra.length) throw new PromptSetError(`${source}: unknown key(s) ${extra.join(", ")}; expected ${shape}`);
  return out;
}

export function fillClassName(sentence: string, className: string): string {
  return sentence.replaceAll("{classname}", className);
}

/**
 * Every sentence of the ensemble for a class: for each state phrase, every template (spec
 * order), then the P-Prompt sentences of that state with the class name filled in.
 */
export function ensembleSentences(className: string, promptSet?: PromptSet): { normal: string[]; abnormal: string[] } {
  const build = (states: readonly string[], extra: string[] = []) => {
    const out: string[] = [];
    for (const state of states) {
      const phrase = state.replace("{}", className);
      for (const t of TEMPLATES) out.push(t.replace("{}", phrase));
    }
    for (const p of extra) out.push(fillClassName(p, className));
    return out;
  };
  return { normal: build(NORMAL_STATES, promptSet?.normal.prompts), abnormal: build(ABNORMAL_STATES, promptSet?.abnormal.prompts) };
}
