#!/usr/bin/env bash
# The main job on the bundled sample data: every pipeline step that exists so far, for each task.
# Outputs go under out/ (git-ignored). Safe to re-run: same settings replace the previous outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
recsys() { node bin/recsys.js "$@"; }

for task in intent esci reviews; do
  echo "== $task: prepare (configs/$task.yaml)"
  recsys prepare -c "configs/$task.yaml"
done

echo "== backends"
recsys doctor
echo
echo "Datasets are in out/<task>/dataset. train/eval/export join this demo as they land."
