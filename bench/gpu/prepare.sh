#!/usr/bin/env bash
# Prepares the GPU benchmark payload HERE (a machine with npm and the registry), for a
# machine with an NVIDIA GPU and no Node or Vulkan loader (the device tool's H200):
#   bash bench/gpu/prepare.sh          # writes bench/gpu/payload/ (git-ignored, ~35 MB)
# then, through the device tool, with carry ["bench/gpu/payload", ".gl"]:
#   bash bench/gpu/run.sh              # writes $OUT/gpu-bench.json and $OUT/gpu-bench.log
# The payload: Node (xz), the benchmark bundled into one file (tfjs inside), dawn.node,
# onnxruntime-web's WebGPU files, and the Vulkan loader .debs in .gl/ (the device README's
# recipe; downloaded once).
set -euo pipefail
cd "$(dirname "$0")/../.."
P=bench/gpu/payload
rm -rf "$P" && mkdir -p "$P/node_modules/webgpu/dist/linux-x64" "$P/node_modules/onnxruntime-web/dist"
npx tsup --config bench/gpu/tsup.config.ts --silent
xz -9 -T0 -c "$(readlink -f "$(command -v node)")" > "$P/node.xz"
cp node_modules/webgpu/package.json node_modules/webgpu/*.js "$P/node_modules/webgpu/" 2>/dev/null || true
cp node_modules/webgpu/dist/*.js "$P/node_modules/webgpu/dist/" 2>/dev/null || true
cp node_modules/webgpu/dist/linux-x64/dawn.node "$P/node_modules/webgpu/dist/linux-x64/"
cp node_modules/onnxruntime-web/package.json "$P/node_modules/onnxruntime-web/"
cp node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm "$P/node_modules/onnxruntime-web/dist/"
xz -9 -T0 "$P/node_modules/webgpu/dist/linux-x64/dawn.node" "$P/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm"
cp bench/peers/torch_peer.py test/reference/clipmpcad_ref.py weights/random_model.py weights/safetensors_io.py "$P/"
if [ ! -d .gl ] || [ -z "$(ls .gl/*.deb 2>/dev/null)" ]; then
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1)
fi
du -sh "$P" .gl
