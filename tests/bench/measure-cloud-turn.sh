#!/usr/bin/env bash
# The engine's own share of a cloud turn (README "Measured"): apex-call against
# apex-engine using the Deepgram, Groq and Azure fakes with the seed's timings.
#   tests/bench/measure-cloud-turn.sh [CALLS] [BUILD_DIR]
# Share = speech_final (endpointed) -> first frame out, minus the providers'
# time: once minus the fakes' configured delays (TTFT 150 ms + TTS first byte
# 150 ms), once minus the waits the engine measured (request -> first token,
# TTS start -> first audio), which also removes the fake's own flite synthesis.
set -euo pipefail
calls="${1:-1}"
build="${2:-$(cd "$(dirname "$0")/../.." && pwd)/build}"
port=$((18200 + RANDOM % 500))
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/bin/apex-fake-cloud" --ttft-ms 150 --tts-first-byte-ms 150 >"$work/fakes.env" 2>"$work/fakes.log" &
for _ in $(seq 50); do [ -s "$work/fakes.env" ] && break; sleep 0.1; done
env $(head -1 "$work/fakes.env") APEX_LISTEN="127.0.0.1:$port" "$build/bin/apex-engine" >"$work/engine.log" 2>&1 &
for _ in $(seq 100); do grep -q "listening on" "$work/engine.log" 2>/dev/null && break; sleep 0.1; done

stagger=$(( calls > 1 ? 100 : 0 ))
"$build/bin/apex-call" --engine "127.0.0.1:$port" --voice rms --say "What are your opening hours?" \
  --say "Do you have parking?" --say "How much does a cleaning cost?" --calls "$calls" --stagger-ms "$stagger" \
  | tail -5

grep -oE "endpointed [0-9.]+ ms, →stt final [0-9.]+ ms, →responder start [0-9.]+ ms, →first token [0-9.]+ ms, →tts start [0-9.]+ ms, →tts audio [0-9.]+ ms, →first frame [0-9.]+ ms" "$work/engine.log" |
  tee "$work/turns" | awk '{ e=$2; rs=$10; ft=$14; ts=$18; ta=$22; ff=$26;
         printf "%.2f %.2f\n", ff-e-300, (ff-e)-(ft-rs)-(ta-ts) }' >"$work/shares"
summary() { sort -n | awk '{a[NR]=$1} END { if (NR==0) { print "no turns"; exit }
  p50=a[int((NR+1)/2)]; i99=int(NR*0.99+0.999); if (i99<1) i99=1; if (i99>NR) i99=NR;
  printf "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms\n", NR, p50, a[i99], a[NR] }'; }
echo "engine share, minus configured delays: $(cut -d' ' -f1 "$work/shares" | summary)"
echo "engine share, minus measured provider waits: $(cut -d' ' -f2 "$work/shares" | summary)"
head -3 "$work/turns" >&2
