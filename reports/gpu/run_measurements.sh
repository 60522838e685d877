#!/usr/bin/env bash
# The GPU measurement list of the baseline (per-layer + whole model + NVML energy).
# Run from the repository root on a CUDA machine:  bash reports/gpu/run_measurements.sh [fp16|bf16|fp32]
# Files go to reports/gpu/<gpu-name>/; then `accelsim gpu table` and `accelsim plot gpu-share`.
set -euo pipefail

DTYPE=${1:-fp16}
export HF_HUB_OFFLINE=1
DEV=${CUDA_VISIBLE_DEVICES:-0}
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader -i "${DEV%%,*}")
OUT="reports/gpu/$(echo "$GPU" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9.-')"
mkdir -p "$OUT"
COMMON=(--device cuda --dtype "$DTYPE" --energy)
# models without a transformers definition are measured per layer only
NO_WHOLE="anchor-detr-r50 ofa-resnet50"

run() {  # run WORKLOAD HxW [EXEC_PATH]
  local wl=$1 size=$2 path=${3:-}
  local tag=${path//[^A-Za-z0-9.]/-}
  local base="$OUT/${wl}_${size}${tag:+_$tag}_${DTYPE}"
  accelsim gpu measure --workload "$wl" --input "$size" ${path:+--exec-path "$path"} "${COMMON[@]}" -o "$base.csv"
  if [[ -z "$path" && " $NO_WHOLE " != *" $wl "* ]]; then
    accelsim gpu whole-model --workload "$wl" --input "$size" "${COMMON[@]}" \
      --per-layer "$base.csv" -o "${base}_whole.csv"
  fi
}

# SegFormer-B0/B1/B2 at 512x512 and 1024x1024
for v in b0 b1 b2; do for s in 512x512 1024x1024; do run "segformer-$v" "$s"; done; done
# Swin-T/S/B + UPerNet at 512x512
for v in t s b; do run "swin-$v-upernet" 512x512; done
# DETR family at 800x1200
for m in detr-r50 conditional-detr-r50 dab-detr-r50 anchor-detr-r50; do run "$m" 800x1200; done
# OFA-ResNet-50 (largest subnet) at 224x224
run ofa-resnet50 224x224
# Segmenter ViT-S (512) and ViT-L (640), linear and mask decoders
for d in linear mask; do run "segmenter-vit-s16-$d" 512x512; run "segmenter-vit-l16-$d" 640x640; done
# size sweep 256..2048 for the MAC-share vs time-share plot (512 and 1024 of B2 are above)
for s in 256 384 768 1536 2048; do run segformer-b2 "${s}x${s}"; done
for s in 256 384 768 1024 1536 2048; do run swin-t-upernet "${s}x${s}"; done
# SegFormer-B2 execution paths at 512x512 (accuracy.csv rows B2_a..B2_f, pred_in, DynaSegFormer)
for p in "blocks=3-4-6-3;fuse_in=1920" "blocks=3-4-6-3;fuse_in=1664" "blocks=2-4-6-3;fuse_in=1408" \
         "blocks=2-3-6-3;fuse_in=1024" "blocks=2-3-5-3;fuse_in=896" "blocks=2-3-5-3;fuse_in=512" \
         "pred_in=736" "gate_prune=0.3;decoder_sum=1" "gate_prune=0.5;decoder_sum=1"; do
  run segformer-b2 512x512 "$p"
done

accelsim gpu table --glob reports/gpu
accelsim plot gpu-share --gpu "$OUT" -o "$OUT/gpu_share"
