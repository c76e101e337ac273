#!/usr/bin/env bash
# Creates .venv with the reference tools the tests compare recsys against (HF transformers on
# torch, HF tokenizers, pyarrow, scikit-learn). Idempotent: a venv that already satisfies the
# requirements is left as it is.
#
# Where pip is configured with a local index (an offline machine), that index is used as the
# only index, so pip never waits on an unreachable default one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RECSYS_VENV:-.venv}
req=scripts/requirements-dev.txt

index_args=()
extra=$(pip config get global.extra-index-url 2>/dev/null || true)
if [ -n "$extra" ]; then
  read -r -a urls <<<"$extra"
  index_args+=(--index-url "${urls[0]}")
  for u in "${urls[@]:1}"; do index_args+=(--extra-index-url "$u"); done
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.requirements.sha256"
want=$(cat scripts/requirements-*.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python env: $venv up to date"
  exit 0
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "${index_args[@]}" -r "$req" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
"$venv/bin/python" -c "import torch, transformers, tokenizers, pyarrow, sklearn; print('python env:', 'torch', torch.__version__, 'transformers', transformers.__version__)"
echo "$want" >"$stamp"
