/** The model layer: BERT as pure functions over a HF-named parameter map, its import and checkpoints. */
export { ACTIVATIONS, MASK_VALUE, bertForward, bertLogits, checkInputs } from './bert.js';
export type { BertInputs, BertOutputs, ForwardOptions } from './bert.js';
export {
  HIDDEN_ACTS,
  PROBLEM_TYPES,
  headTask,
  numLabels,
  parseBertConfig,
  readBertConfig,
  toHfConfig,
  withLabels,
} from './config.js';
export type { BertConfig, HiddenAct, ProblemType } from './config.js';
export { disposeParams, paramSpecs, torchShape, totalParams } from './params.js';
export type { ParamKind, ParamSpec, Params } from './params.js';
export { initHead, initParam, initParams, paramSeed } from './init.js';
export { importHfModel, paramsFromTensors } from './import.js';
export type { ImportOptions, ImportReport, LoadedModel } from './import.js';
export { encodeSafetensors, MAX_HEADER_BYTES, parseSafetensors, readSafetensors } from './safetensors.js';
export type { StEntry, StFile, StWriteEntry } from './safetensors.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, loadCheckpoint, saveCheckpoint, saveHfModel } from './checkpoint.js';
export type { Checkpoint } from './checkpoint.js';
export { bertHidden } from './bert.js';
export { maskedLmNllSum, mlmLogits } from './mlm-head.js';
export type { MaskedTargets } from './mlm-head.js';
