#!/usr/bin/env bash
# The cloud turn of README "Measured": apex-call against apex-engine using the
# Deepgram, Groq and Azure fakes at the seed's timings, every figure taken from
# the caller's and the fakes' clocks, never the engine's (see apex-bench.sh).
#   tests/bench/measure-cloud-turn.sh [CALLS] [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/apex-bench.sh" --calls "${1:-1}" --build "${2:-$here/../../build}" \
  --ttft-ms 150 --tts-first-byte-ms 150 --tts-speedup 20
