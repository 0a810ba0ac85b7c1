#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for clipmpcad-gpu: the Vulkan loader and SwiftShader
# (through Debian's chromium package) when there is no Vulkan driver Dawn can use, then the
# npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
if [ "$(uname -s)" = Linux ]; then
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || need+=(libvulkan1)
  # SwiftShader: the software Vulkan driver the library falls back to (and that CI tests on).
  [ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: install ${need[*]} (or your distribution's Vulkan loader and a Vulkan driver) and rerun" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
