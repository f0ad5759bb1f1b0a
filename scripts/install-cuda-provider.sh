#!/usr/bin/env bash
# Installs onnxruntime's CUDA provider for onnxruntime-node 1.30.0 from PyPI (onnxruntime-gpu==1.30.0 and the pinned
# CUDA 13 / cuDNN 9 wheels) into the qaq cache, links it beside onnxruntime-node's library and probes CUDA.
# Same as `pnpm qaq gpu install`; options: --provider-only, --copy, --force, --python <path>. See packages/backend-node/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec node --conditions=source --import tsx apps/cli/src/main.ts gpu install "$@"
