/** fused-multilabel: the public API. */
export { deviceInfo, setThreads, getThreads, resolveDevice, version } from './device.js';
export type { DeviceInfo, CudaDevice, DeviceName, DeviceOption } from './device.js';
export { Tensor } from './tensor.js';
export type { DType, TensorData, TensorOptions } from './tensor.js';
export type { ErrorCode, CodedError } from './errors.js';

export { bceWithLogits, bceWithLogitsAsync, posWeightFromCounts, classBalancedWeights } from './losses.js';
export type {
  BceOptions,
  BceResult,
  LossOptions,
  LossReduction,
  WeightArray,
  FocalOptions,
  AsymmetricOptions,
  DistributionBalancedOptions,
  PosWeightOptions,
  PosWeightMethod,
  ClassBalancedOptions,
} from './losses.js';

export { Encoder, normalizeConfig as normalizeEncoderConfig, configFromHuggingFace, configToHuggingFace } from './encoder.js';
export type { EncoderConfig, Batch, OptimizerOptions, EncoderOptions, MemoryUsage, Architecture, Pooling } from './encoder.js';
export { readSafetensors, readSafetensorsHeader, writeSafetensors, serializeSafetensors } from './safetensors.js';
export type { LoadedTensor, TensorInfo, SafetensorsHeader } from './safetensors.js';

export { readDataset, encodeTargets, preprocess, labelCounts } from './data.js';
export type { DataRow, Dataset, DatasetReport, ReadDatasetOptions, PreprocessOptions } from './data.js';
export { iterativeStratifiedSplit } from './split.js';
export type { SplitOptions, SplitResult, SplitCoverage } from './split.js';
export { evaluate } from './metrics.js';
export type { EvaluateOptions, EvaluateResult, PRF, LabelReport, GroupReport, GroupBoundaries } from './metrics.js';
export { tuneThresholds } from './thresholds.js';
export type { TuneThresholdsOptions, TuneThresholdsResult, ThresholdObjective } from './thresholds.js';
export { Tokenizer } from './tokenizer.js';
export type { BatchEncoding, EncodeBatchOptions, TrainOptions } from './tokenizer.js';

export { Trainer, Classifier, MODEL_PRESETS } from './trainer.js';
export type {
  TrainerOptions,
  TrainRow,
  TrainData,
  ModelOption,
  ModelPreset,
  LossPreset,
  PosWeightOption,
  EarlyStoppingMetric,
  ProgressEvent,
  EpochRecord,
  FitResult,
  DataStats,
  EvaluationReport,
  PredictOptions,
  Prediction,
} from './trainer.js';
export type { ThresholdsFile } from './model_dir.js';
