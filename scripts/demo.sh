#!/usr/bin/env bash
# The main job on the bundled sample data, end to end on the default backend (native TensorFlow if
# `npm run setup:native` was run, else the embedded wasm backend): prepare → train → eval → export → predict.
#   npm run demo            the intent task (a few minutes on wasm, about a minute on native)
#   npm run demo -- --all   intent, esci and reviews
# Outputs go under out/ (git-ignored). Safe to re-run: previous demo runs are replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
recsys() { node bin/recsys.js "$@"; }

tasks=(intent)
[ "${1:-}" = "--all" ] && tasks=(intent esci reviews)

for task in "${tasks[@]}"; do
  echo "== $task: prepare (configs/$task.yaml)"
  recsys prepare -c "configs/$task.yaml"
  echo "== $task: train"
  recsys train -c "configs/$task.yaml" --overwrite
  echo "== $task: eval on the test split (quality gates from the config)"
  recsys eval -c "configs/$task.yaml" --report "out/$task/report"
  echo "== $task: export to ONNX and SavedModel, with the parity check on real rows"
  recsys export -c "configs/$task.yaml" --run "out/$task/run" --format onnx,savedmodel --overwrite
  echo "== $task: predict on the sample file (raw text, tokenized as in training)"
  input="data/$task.csv"
  text=$(node -e "const y=require('yaml');console.log(y.parse(require('fs').readFileSync('configs/$task.yaml','utf8')).data.text_column)")
  pair=$(node -e "const y=require('yaml');const d=y.parse(require('fs').readFileSync('configs/$task.yaml','utf8')).data;console.log(d.pair_column??'')")
  id=$(node -e "const y=require('yaml');const d=y.parse(require('fs').readFileSync('configs/$task.yaml','utf8')).data;console.log(d.id_column??'')")
  recsys predict --model "out/$task/run" --input "$input" --text-column "$text" ${pair:+--pair-column "$pair"} ${id:+--id-column "$id"} \
    --output "out/$task/predictions.jsonl" --top-k 3
  head -n 3 "out/$task/predictions.jsonl"
done
echo
echo "Runs are in out/<task>/run, HTML reports in out/<task>/report/, exports in out/<task>/export."
echo "The ONNX export loads in onnxruntime and transformers.js; the SavedModel in TF Serving."
