/**
 * The project's own P-Prompt sets, one per domain (written for this project), and which
 * dataset uses which. Sentences hold {classname}, filled with the dataset's class name.
 */
import brainMri from "./prompt-sets/brain-mri.json";
import chestXray from "./prompt-sets/chest-xray.json";
import histopathology from "./prompt-sets/histopathology.json";
import industrial from "./prompt-sets/industrial.json";
import liverCt from "./prompt-sets/liver-ct.json";
import retinalOct from "./prompt-sets/retinal-oct.json";
import { parsePromptSet, type PromptSet } from "./prompts.js";

export const DOMAIN_PROMPT_SETS = {
  "brain-mri": brainMri,
  "liver-ct": liverCt,
  "retinal-oct": retinalOct,
  "chest-xray": chestXray,
  histopathology,
  industrial,
} as const;

export type Domain = keyof typeof DOMAIN_PROMPT_SETS;

/** The domain of each benchmark dataset; industrial objects (MVTec, VisA, MPDD, BTAD) use "industrial". */
export const DATASET_DOMAINS: Readonly<Record<string, Domain>> = {
  Brain: "brain-mri",
  Liver: "liver-ct",
  Retina_RESC: "retinal-oct",
  Retina_OCT2017: "retinal-oct",
  Chest: "chest-xray",
  Histopathology: "histopathology",
};

export function domainPromptSet(domain: Domain): PromptSet {
  const set = DOMAIN_PROMPT_SETS[domain];
  if (!set) throw new RangeError(`no prompt set for domain "${domain}"; known: ${Object.keys(DOMAIN_PROMPT_SETS).join(", ")}`);
  return parsePromptSet(set, `built-in prompt set ${domain}`);
}

/** The built-in prompt set for a dataset name or industrial object. */
export function promptSetFor(datasetOrObject: string): PromptSet {
  return domainPromptSet(DATASET_DOMAINS[datasetOrObject] ?? "industrial");
}
