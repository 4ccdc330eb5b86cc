#!/usr/bin/env bash
# One command for an H100/H200 machine: mmkd's fused WebGPU divergences (and the tfjs composite
# where it fits one storage binding) beside PyTorch eager and torch.compile, same shapes
# (B·T ∈ {1024, 4096}, V ∈ {32000, 151936}), value + gradient, with ratios. ≤ 8 minutes.
#
# Here, first: ../shared/tools/gpu-bundle.sh   (packs node, node_modules, the Vulkan loader)
# There:       bash .gpu/run.sh bash bench/gpu.sh [--shapes 1024x32000,...] [--only forward,jsd]
# Smoke test on a CPU machine (PyTorch on CPU, WebGPU on lavapipe, small shapes):
#              bash bench/gpu.sh --smoke
# Writes runs/bench/gpu-<date>.jsonl and prints the table.
set -uo pipefail
cd "$(dirname "$0")/.."
shapes=1024x32000,1024x151936,4096x32000,4096x151936
only=""
device=cuda
reps=5
while [ $# -gt 0 ]; do
  case "$1" in
    --shapes) shapes=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --smoke) shapes=64x32000; only=forward,tvd; device=cpu; reps=2; shift ;;
    *) echo "gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p runs/bench
out=runs/bench/gpu-$(date +%Y%m%d-%H%M%S).jsonl
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/# GPU: /'
# The WebGPU half: 5 minutes at most; a case that cannot run is a table cell, not a failure.
timeout 300 node --import tsx bench/gpu-losses.ts --shapes "$shapes" --reps "$reps" ${only:+--only "$only"} 2> >(grep -v '^Warning' >&2) | tee "$out"
# The PyTorch half: 2.5 minutes at most (torch.compile compiles each divergence once).
if command -v python3 >/dev/null; then
  timeout 150 python3 bench/gpu_torch.py --shapes "$shapes" --device "$device" --reps "$((reps * 2))" ${only:+--only "$only"} | tee -a "$out"
else
  echo '{"suite":"torch","error":"no python3 on this machine"}' | tee -a "$out"
fi
echo
python3 bench/gpu_report.py < "$out" 2>/dev/null || echo "(no python3 to print the table; the raw lines are in $out)"
echo "# raw lines: $out"
