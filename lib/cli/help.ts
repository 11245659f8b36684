/** The CLI's help texts, one per command. */
import { version } from '../device.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../onnx/graph.js';

export const HELP: Record<string, string> = {
  main: `fused-multilabel ${version}: multi-label text classification

usage: fused-multilabel <command> [options]

commands:
  train      train a classifier on a CSV/JSONL file and save it to a model directory
  pretrain   pre-train an encoder on texts (masked-LM, BERT's objective) for 'train --model DIR'
  evaluate   evaluate a saved model on labelled data
  predict    predict labels for texts (JSON lines out)
  export     export a saved model to ONNX (onnxruntime; transformers.js for encoder models)
  report     write a model directory's report.html again (or on new labelled data)
  info       show the device report (CUDA, SGEMM kernel, threads)
  bench      run the benchmark suites

'fused-multilabel <command> --help' shows a command's options.`,
  train: `usage: fused-multilabel train --data FILE --out DIR [options]

Trains a classifier. Without --val/--test, the data is split iteratively (60/20/20, stratified by label).

  --data FILE              training data: .csv or .jsonl with a text and a labels column (required)
  --val FILE               validation data (with --test; default: split from --data)
  --test FILE              test data
  --out DIR                model directory to write (required; replaced atomically; files in it that
                           fused-multilabel did not write, e.g. NOTES.md, are kept). Holds report.html
  --model NAME|DIR|hf:ID   auto | ngram | ensemble | tiny | small | base (BERT-base dimensions), a
                           pretrained model directory with config.json, model.safetensors and vocab.txt,
                           or a Hugging Face Hub model hf:ORG/NAME[@REVISION] (downloaded into the Hub
                           cache); ensemble: the n-gram model and the tiny encoder, logits averaged with
                           weights chosen on validation; default auto: the ensemble for up to 100,000
                           training rows, else the n-gram model (measured on CPU)
  --loss NAME              bce | focal | db (distribution-balanced) | asl (asymmetric) (default asl; bce for encoders)
  --epochs N               (default 3, 10 over 100 labels; 5 for encoders)
  --batch-size N           (default 32; 16 for encoders)
  --max-length N           tokens per text (default 128)
  --lr X                   peak learning rate (default: 3e-3 ngram; 2e-3 tiny, 5e-4 small, 1e-4 base, 5e-5 pretrained)
  --warmup-ratio X         share of steps for linear warm-up (default 0.1)
  --weight-decay X         AdamW weight decay (default 0.01)
  --pos-weight NAME        none | neg-pos | sqrt-neg-pos (default sqrt-neg-pos; none for encoders)
  --pos-weight-clamp A,B   clamp positive weights to [A, B] (default 0.5,50)
  --early-stopping M       val-loss | micro-f1 | macro-f1 | off (default macro-f1; val-loss for encoders)
  --patience N             epochs without improvement before stopping (default 3)
  --threshold-objective M  micro-f1 | macro-f1: what the tuned thresholds maximise (default micro-f1)
  --min-support N|auto     validation positives a label needs for a threshold of its own, the others
                           keeping the global one; auto: chosen by cross-validation on the validation
                           rows among 1, 3, 5, 10, 20, 40 (default auto)
  --threshold-bags N       bootstrap resamples of the validation rows whose tuned thresholds are
                           averaged for the labels with 50+ validation positives (default 20; 0: off)
  --vocab-size N           WordPiece vocabulary size when training the tokenizer (default 8000)
  --pretrain-epochs N      masked-LM pre-training epochs on the training texts before fine-tuning
                           (encoder models: tiny, small, base, DIR, hf:ID; default 0; an error with ngram/ensemble/auto)
  --partial                partially annotated rows: a row whose negatives cell lists labels was checked
                           only for its positives and those negatives; its other labels are unknown and
                           masked out of the loss and the metrics (an empty cell: fully annotated)
  --text-column NAME       (default text)
  --labels-column NAME     (default labels)
  --negatives-column NAME  (default negatives; used with --partial)
  --label-separator S      (default ,)
  --encoding E             utf8 | latin1: how the data files are decoded (default utf8; invalid UTF-8 is an error)
  --device D               auto | cpu | cuda (default auto)
  --seed N                 (default 42)
  --json                   print the result as JSON (progress goes to stderr)
  -h, --help`,
  pretrain: `usage: fused-multilabel pretrain --data FILE --out DIR [options]

Pre-trains an encoder with BERT's masked-language-model objective on the texts (15% of the WordPiece
tokens chosen; of those 80% [MASK], 10% a random token, 10% unchanged) and writes a Hugging Face
BertForMaskedLM (or DistilBertForMaskedLM) directory: 'train --model DIR' fine-tunes from it, and
transformers loads it.

  --data FILE              texts: .txt (one per line), .csv or .jsonl (the text column) (required)
  --out DIR                directory to write (required; replaced atomically)
  --model NAME|DIR|hf:ID   tiny | small | base (a tokenizer is trained on the texts), or a model
                           directory / Hub model to pre-train further with its own tokenizer (default tiny)
  --epochs N               (default 3)
  --batch-size N           (default 32)
  --max-length N           tokens per text (default 128)
  --lr X                   peak learning rate (default: 1e-3 tiny, 5e-4 small, 1e-4 base, 5e-5 pretrained)
  --mask-probability X     share of tokens chosen (default 0.15)
  --vocab-size N           WordPiece vocabulary size when training the tokenizer (default 8000)
  --text-column NAME       (default text)
  --device D               auto | cpu | cuda (default auto)
  --seed N                 (default 42)
  --json                   print the result as JSON (progress goes to stderr)
  -h, --help`,
  evaluate: `usage: fused-multilabel evaluate --model DIR --data FILE [options]

Evaluates a saved model with its tuned thresholds.

  --model DIR|hf:ID        model directory written by 'train', or one on the Hub: hf:ORG/NAME (required)
  --data FILE              labelled .csv or .jsonl (required)
  --partial                rows with a negatives column are partially annotated
  --text-column NAME, --labels-column NAME, --negatives-column NAME, --label-separator S, --encoding E
  --device D               auto | cpu | cuda (default auto)
  --json                   print the report as JSON
  -h, --help`,
  predict: `usage: fused-multilabel predict --model DIR (--text "..." | --data FILE) [options]

Prints one JSON line per text: {"text", "labels", "scores"}.

  --model DIR|hf:ID        model directory written by 'train', or one on the Hub: hf:ORG/NAME (required)
  --text "..."             a text to classify (repeatable)
  --data FILE              texts: .csv/.jsonl (the text column) or .txt (one text per line)
  --text-column NAME       (default text)
  --threshold X|tuned      one threshold for every label, or the tuned ones (default tuned)
  --top-k N                keep at most the N highest-scoring labels
  --device D               auto | cpu | cuda (default auto)
  -h, --help`,
  export: `usage: fused-multilabel export --model DIR --format onnx [--out DIR] [--opset N]

Writes onnx/model.onnx (input_ids, attention_mask[, token_type_ids] int64 [batch, sequence] -> logits
float32 [batch, labels]), config.json and the tokenizer files in transformers.js's layout. An n-gram
model's graph takes hashed feature ids (input_ids, attention_mask int64 [batch, features]) instead, and
its config.json specifies the hashing ("featurizer"); it has no tokenizer files and transformers.js
cannot run it (onnxruntime can, with Classifier.featurize or featurizeNgrams giving the ids).

  --model DIR|hf:ID        model directory written by 'train', or one on the Hub: hf:ORG/NAME (required)
  --format onnx            the export format (required; onnx is the one there is)
  --out DIR                output directory (default: the model directory's path + "-onnx"); a
                           non-empty directory this package did not write, or a model
                           directory, is refused; an earlier export is replaced
  --opset N                ONNX opset, ${MIN_OPSET}..${MAX_OPSET} (default ${DEFAULT_OPSET})
  -h, --help`,
  report: `usage: fused-multilabel report --model DIR [--data FILE] [--out FILE] [options]

Writes the training report (figures, worst labels, misclassified texts) as one self-contained HTML page.
Without --data it is redrawn from the model directory's training.json and report.json (no model run);
with --data the model is evaluated on that labelled file first.

  --model DIR|hf:ID        model directory written by 'train', or one on the Hub: hf:ORG/NAME (required)
  --data FILE              labelled .csv or .jsonl to evaluate on (default: the saved test evaluation)
  --out FILE               where to write (default DIR/report.html)
  --partial, --text-column NAME, --labels-column NAME, --negatives-column NAME, --label-separator S,
  --encoding utf8|latin1
  --device D               auto | cpu | cuda (default auto)
  -h, --help`,
  info: `usage: fused-multilabel info [--json]

Shows what this build and this machine can do: CUDA (and why not), architectures, the SGEMM kernel, threads.`,
  bench: `usage: fused-multilabel bench [SUITE ...]

Runs the benchmark suites (bench/<suite>.bench.mjs); with names, only the suites whose name contains one.`,
};
