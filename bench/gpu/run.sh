#!/usr/bin/env bash
# Runs on the GPU machine (see prepare.sh): the quick and the full benchmark with Dawn on
# the NVIDIA Vulkan driver, PyTorch on CUDA for the same shapes and forward, and the ViT-L
# training step (bench/train.ts), one JSON out.
set -uo pipefail
cd "$(dirname "$0")/../.."
P=bench/gpu/payload
OUT=${OUT:-/tmp/gpu-bench}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
mkdir -p /tmp/node && xz -dc "$P/node.xz" > /tmp/node/node && chmod +x /tmp/node/node
xz -dk "$P/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$P/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm.xz" 2>/dev/null || true
export CLIPMPCAD_PYTHON=$(command -v python3) CLIPMPCAD_TORCH_PEER=$P/torch_peer.py XDG_RUNTIME_DIR=/tmp
cd "$P"
{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  /tmp/node/node bench.mjs --quick --no-kernels --torch-device cuda --json "$OUT/quick.json"
  timeout 120 /tmp/node/node train.mjs --preset vit-l --steps 3 --json "$OUT/train.json"
  timeout 360 /tmp/node/node bench.mjs --no-kernels --torch-device cuda --json "$OUT/full.json"
} 2>&1 | tee "$OUT/gpu-bench.log"
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
merged = {}
for name in ("quick", "train", "full"):
    p = os.path.join(out, f"{name}.json")
    if os.path.exists(p):
        merged[name] = json.load(open(p))
json.dump(merged, open(os.path.join(out, "gpu-bench.json"), "w"), indent=2)
PY
