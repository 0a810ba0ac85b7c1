export { ClipTokenizer, TokenizerError, START_OF_TEXT, END_OF_TEXT, CONTEXT_LENGTH, type EncodeBatchOptions } from "./clip-tokenizer.js";
export { tokenizerFromBpe, tokenizerFromHuggingFace, tokenizerFromTokenizerJson, CLIP_MERGES } from "./vocab.js";
