#!/usr/bin/env bash
# One short GPU window: the baseline's measurement list in priority order under one time budget,
# everything packed into one archive. Installs nothing from a network.
#
#   bash reports/gpu/device_run.sh                 # on a CUDA machine, from the repository root
#   bash reports/gpu/device_run.sh --dry-run       # rehearsal on the CPU: tiny inputs, same list
#
# Environment: BUDGET_S (seconds for the list, default 420), DEST (folder for the archive,
# default $OUT if set, else ./gpu-run-out), DTYPE (fp16), GPU_GROUPS (1-7).
# A machine without the project's Python dependencies (pydantic, say) takes them as wheels in
# ./.whl (pip download on a machine with a network); they are installed with --no-index into a
# temporary folder, never from a network.
# Result: DEST/gpu_run.tar.gz holding gpu-run/{gpu_info.txt, nvidia-smi.txt, campaign.log,
# campaign.json, summary.txt, <item>.csv ...}. campaign.json says, item by item, what was
# measured, what failed (with the reason) and what the budget cut or skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
MODE=device
[[ "${1:-}" == "--dry-run" ]] && MODE=dry-run
BUDGET_S=${BUDGET_S:-420}
DTYPE=${DTYPE:-fp16}
GPU_GROUPS=${GPU_GROUPS:-1-7}
DEST=${DEST:-${OUT:-$PWD/gpu-run-out}}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_NO_INDEX=1 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=${PYTHON:-python3}

work=$(mktemp -d)
run="$work/gpu-run"
mkdir -p "$run" "$DEST"
site="$work/site"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" .whl/*.whl \
    >"$run/wheels.log" 2>&1 || { echo "installing the carried wheels failed: see wheels.log"; }
  export PYTHONPATH="$site:$PWD"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
{
  echo "mode: $MODE"; echo "date: $(date -u +%FT%TZ)"; echo "budget_s: $BUDGET_S"; echo "dtype: $DTYPE"
  echo "groups: $GPU_GROUPS"; echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
} >"$run/run.txt"

if [[ $MODE == device ]]; then
  "$PY" -m accelsim gpu info --device cuda >"$run/gpu_info.txt" 2>&1
  nvidia-smi -q >"$run/nvidia-smi.txt" 2>&1
  args=(--device cuda --dtype "$DTYPE")
else
  "$PY" -m accelsim gpu info --device cpu >"$run/gpu_info.txt" 2>&1
  args=(--dry-run)
fi
# the campaign stops itself at BUDGET_S; the outer timeout only guards against a hang in C code
timeout --kill-after=15 $((${BUDGET_S%.*} + 90)) \
  "$PY" -m accelsim gpu campaign --out "$run" --budget-s "$BUDGET_S" --groups "$GPU_GROUPS" "${args[@]}" \
  >"$run/summary.txt" 2>"$run/campaign.log"
status=$?
echo "campaign exit status: $status" >>"$run/summary.txt"
tar -czf "$DEST/gpu_run.tar.gz" -C "$work" gpu-run
cat "$run/summary.txt"
echo "archive: $DEST/gpu_run.tar.gz ($(du -h "$DEST/gpu_run.tar.gz" | cut -f1))"
rm -rf "$work"
exit $status
