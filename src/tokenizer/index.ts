export { ClipTokenizer, TokenizerError, START_OF_TEXT, END_OF_TEXT, CONTEXT_LENGTH, type EncodeBatchOptions } from "./clip-tokenizer.js";
export { tokenizerFromBpe, tokenizerFromHuggingFace, tokenizerFromTokenizerJson, CLIP_MERGES } from "./vocab.js";
export {
  TEMPLATES,
  NORMAL_STATES,
  ABNORMAL_STATES,
  MEDICAL_CLASS_NAMES,
  OBJECT_NAMES,
  INDUSTRIAL_OBJECTS,
  classNameFor,
  parsePromptSet,
  fillClassName,
  ensembleSentences,
  PromptSetError,
  type PromptSet,
} from "./prompts.js";
export { DOMAIN_PROMPT_SETS, DATASET_DOMAINS, domainPromptSet, promptSetFor, type Domain } from "./domain-prompts.js";
export { generatePromptSet, parseSentences, promptRequest, formatPromptSet, type GeneratePromptsOptions } from "./generate-prompts.js";
export { tokenizerFromFile } from "./vocab.js";
