/** fused-multilabel: the public API. */
export { deviceInfo, setThreads, getThreads, resolveDevice, version } from './device.js';
export type { DeviceInfo, CudaDevice, DeviceName, DeviceOption } from './device.js';
export { Tensor } from './tensor.js';
export type { DType, TensorData, TensorOptions } from './tensor.js';
export type { ErrorCode, CodedError } from './errors.js';

export { bceWithLogits, bceWithLogitsAsync } from './losses.js';
export { posWeightFromCounts, classBalancedWeights } from './class_weights.js';
export type {
  BceOptions,
  BceResult,
  LossOptions,
  LossReduction,
  WeightArray,
  FocalOptions,
  AsymmetricOptions,
  DistributionBalancedOptions,
} from './losses.js';
export type { PosWeightOptions, PosWeightMethod, ClassBalancedOptions } from './class_weights.js';

export { Encoder } from './encoder.js';
export type { Batch, EncoderOptions, MemoryUsage } from './encoder.js';
export type { OptimizerOptions } from './optimizer.js';
export { normalizeConfig as normalizeEncoderConfig } from './encoder_config.js';
export type { EncoderConfig, Architecture, Pooling, EncoderHead } from './encoder_config.js';
export { configFromHuggingFace, configToHuggingFace } from './model_dir.js';
export { readSafetensors, readSafetensorsHeader, writeSafetensors, serializeSafetensors } from './safetensors.js';
export type { LoadedTensor, TensorInfo, SafetensorsHeader } from './safetensors.js';

export { readDataset } from './data.js';
export { encodeTargets, labelCounts } from './targets.js';
export { preprocess } from './preprocess.js';
export type { DataRow, Dataset, DatasetReport, ReadDatasetOptions } from './data.js';
export type { PreprocessOptions } from './preprocess.js';
export { iterativeStratifiedSplit, splitDataset } from './split.js';
export type { SplitOptions, SplitResult, SplitCoverage, SplitDatasetOptions, DatasetSplit } from './split.js';
export { evaluate } from './metrics.js';
export type { EvaluateOptions, EvaluateResult, PRF, LabelReport, GroupReport, GroupBoundaries } from './metrics.js';
export { tuneThresholds } from './thresholds.js';
export type { TuneThresholdsOptions, TuneThresholdsResult, ThresholdObjective } from './thresholds.js';
export { Tokenizer } from './tokenizer.js';
export type { BatchEncoding, EncodeBatchOptions, TrainOptions } from './tokenizer.js';

export { Trainer } from './trainer.js';
export type { FitOptions } from './trainer.js';
export { Classifier } from './classifier.js';
export type { ClassifierParts, ClassifierLoadOptions, EvaluationReport, PredictOptions, Prediction } from './classifier.js';
export type { BatchingOptions } from './request_queue.js';
export { MODEL_PRESETS } from './encoder_model.js';
export { pretrain, maskBatch, IGNORE_INDEX } from './mlm.js';
export type { PretrainOptions, PretrainProgress, MaskingSpec } from './mlm.js';
export type { TextModel, TrainableTextModel, ModelInputs } from './text_model.js';
export { featurizeNgrams } from './ngram_features.js';
export type { OnnxExportInfo } from './onnx/export.js';
export type { TrainRow, TrainData } from './rows.js';
export type {
  TrainerOptions,
  ModelOption,
  ModelPreset,
  LossPreset,
  PosWeightOption,
  EarlyStoppingMetric,
  ProgressEvent,
  EpochRecord,
  FitResult,
  DataStats,
} from './trainer_options.js';
export type { ThresholdsFile } from './model_dir.js';

export { renderReportHtml, escapeHtml } from './report/html.js';
export { reportDataFrom } from './report/data.js';
export type { ReportData, ReportEvaluation, EpochPoint } from './report/data.js';
export { thresholdSweep, misclassifiedSample } from './report/analysis.js';
export type { SweepPoint, Misclassified } from './report/analysis.js';
