#!/usr/bin/env bash
# N concurrent calls against apex-engine, every figure taken from outside the
# engine: from apex-call's clock (the caller) and, on the cloud stack, from the
# fakes' clocks (apex-fake-cloud), all on CLOCK_MONOTONIC of this machine.
#
#   tests/bench/apex-bench.sh [--embedded] [--calls N] [--build DIR]
#       [--ttft-ms 150] [--tts-first-byte-ms 150] [--tts-speedup 20]
#       [--spread-ms 2000] [--time-limit S] [--keep DIR]
#
# Cloud (default): Deepgram, Groq and Azure fakes in one process, a thread each;
# Deepgram endpoints after 250 ms of silence (the engine's default endpointing,
# in audio time), Groq's first token after --ttft-ms, Azure's first byte after
# --tts-first-byte-ms and then the audio at --tts-speedup times real time. Every
# utterance carries a tag of its own and every reply opens with a sentence
# naming it, so each call says its own sentences (the TTS cache cannot hide
# Azure) and the stamps join per turn. The engine's share of a turn is:
#   (1) Deepgram sent speech_final              -> Groq received the request
#   (2) Groq sent the first sentence's last token -> Azure received its request
#   (3) Azure sent the first audio byte          -> caller received the first frame
# Embedded (--embedded): pocketsphinx, the FAQ responder and flite; caller-side
# figures only.
#
# Prints the runs's details and one table row:
#   calls | caller-heard p50/p95/p99 | share (1) (2) (3) p50/p99 | share total p99 |
#   frames late >5/>40 ms | engine CPU per live call | RSS per live call | harness CPU
set -euo pipefail

mode=cloud calls=1 ttft=150 ttsfb=150 speedup=20 spread=2000 limit=240 keep=""
build="$(cd "$(dirname "$0")/../.." && pwd)/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --embedded) mode=embedded ;;
    --cloud) mode=cloud ;;
    --calls) calls="$2"; shift ;;
    --build) build="$2"; shift ;;
    --ttft-ms) ttft="$2"; shift ;;
    --tts-first-byte-ms) ttsfb="$2"; shift ;;
    --tts-speedup) speedup="$2"; shift ;;
    --spread-ms) spread="$2"; shift ;;
    --time-limit) limit="$2"; shift ;;
    --keep) keep="$2"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "apex-bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
fakes_pid="" engine_pid=""
cleanup() {
  # Only the processes this script started, by pid.
  [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null || true
  [ -n "$fakes_pid" ] && kill "$fakes_pid" 2>/dev/null || true
  [ -z "$keep" ] && rm -rf "$work"
  return 0
}
trap cleanup EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
engine_env=()
if [ "$mode" = cloud ]; then
  "$build/bin/apex-fake-cloud" --ttft-ms "$ttft" --tts-first-byte-ms "$ttsfb" --tts-speedup "$speedup" \
    --timeline "$work/fakes.jsonl" >"$work/fakes.env" 2>"$work/fakes.log" &
  fakes_pid=$!
  for _ in $(seq 100); do [ -s "$work/fakes.env" ] && break; sleep 0.1; done
  [ -s "$work/fakes.env" ] || { echo "apex-bench: apex-fake-cloud did not start" >&2; cat "$work/fakes.log" >&2; exit 1; }
  read -r -a engine_env <"$work/fakes.env"
fi

# Every call comes from 127.0.0.1, as behind a reverse proxy: the per-address
# limit (256) is raised to the total, as the README says to do there.
python3 - "$(dirname "$0")/../../resources/config/apex.json" "$work/apex.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config.setdefault("limits", {}).update({"maxConnections": 4096, "maxConnectionsPerAddress": 4096})
json.dump(config, open(sys.argv[2], "w"))
PY

# The embedded stack must not pick up provider keys from the environment.
env -u DEEPGRAM_API_KEY -u GROQ_API_KEY -u AZURE_SPEECH_KEY -u LLM_BASE_URL -u DEEPGRAM_URL -u AZURE_TTS_URL \
  "${engine_env[@]}" APEX_LISTEN=127.0.0.1:0 "$build/bin/apex-engine" --config "$work/apex.json" >"$work/engine.log" 2>&1 &
engine_pid=$!
address=""
for _ in $(seq 300); do
  address=$(grep -oE "listening on [0-9.]+:[0-9]+" "$work/engine.log" 2>/dev/null | head -1 | cut -d' ' -f3) || true
  [ -n "$address" ] && break
  kill -0 "$engine_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$address" ] || { echo "apex-bench: apex-engine did not start" >&2; tail -20 "$work/engine.log" >&2; exit 1; }

stagger=$(( calls > 1 ? spread / calls : 0 ))
caller_cmd=("$build/bin/apex-call" --engine "$address" --voice rms
  --say "What are your opening hours?" --say "Do you have parking?" --say "How much does a cleaning cost?"
  --calls "$calls" --stagger-ms "$stagger" --timeline "$work/caller.jsonl")
echo "run: ${caller_cmd[*]/#$build/\$BUILD}"
# The machine's own scheduling stalls while the calls run (a process of ours
# that only sleeps 5 ms at a time): other load on the box shows here.
python3 -c '
import sys, time
out = open(sys.argv[1], "w")
while True:
    t = time.monotonic_ns(); time.sleep(0.005); late = (time.monotonic_ns() - t) / 1e6 - 5
    if late > 10:
        out.write("%d %.1f\n" % (t, late)); out.flush()
' "$work/stalls.txt" &
stall_pid=$!
set +e
timeout --signal=INT "$limit" "${caller_cmd[@]}" >"$work/caller.out" 2>"$work/caller.err"
caller_rc=$?
set -e
kill "$stall_pid" 2>/dev/null || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$caller_rc" -eq 124 ] && echo "apex-bench: apex-call hit the ${limit} s limit" >&2

kill "$engine_pid" 2>/dev/null || true
wait "$engine_pid" 2>/dev/null || true
engine_pid=""
if [ -n "$fakes_pid" ]; then
  kill "$fakes_pid" 2>/dev/null || true
  wait "$fakes_pid" 2>/dev/null || true
  fakes_pid=""
fi
grep -E "^calls:|^end-of-speech|^caller:|^engine:" "$work/caller.out" || true
[ "$mode" = cloud ] && grep -E "apex-fake-cloud: cpu" "$work/fakes.log" || true
grep -E "error:" "$work/caller.out" | sort | uniq -c | head -5 || true

python3 - "$mode" "$calls" "$work" <<'EOF'
import json, re, sys, os
mode, calls, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = max(1, min(len(v), -(-p * len(v) // 100)))  # nearest rank
    return v[int(k) - 1]

def f(x):
    return "—" if x is None else ("%.0f" % x if abs(x) >= 10 else "%.1f" % x)

turns, calls_seen = [], {}
for line in open(os.path.join(work, "caller.jsonl")):
    r = json.loads(line)
    if r["turn"] == 0:
        calls_seen[r["call"]] = r
    else:
        turns.append(r)
heard = [t["latencyMs"] for t in turns if t["latencyMs"] >= 0]
unanswered = sum(1 for t in turns if t["latencyMs"] < 0)
frames = sum(c["frames"] for c in calls_seen.values())
late5 = sum(c["callLate5"] for c in calls_seen.values())
late40 = sum(c["callLate40"] for c in calls_seen.values())
failed = sum(1 for c in calls_seen.values() if not c["ok"])

out = open(os.path.join(work, "caller.out")).read()
m = re.search(r"engine: CPU ([\d.]+) s .*?, ([\d.]+) % of one core per live call", out)
engine_cpu = m.group(2) + " %" if m else "—"
m = re.search(r"engine: resident ([\d.]+) MB before, ([\d.]+) MB at peak \((\d+) live calls\): ([-\d.]+) MB per call", out)
rss = "%.2f MB (%s→%s MB, %s live)" % (float(m.group(4)), m.group(1), m.group(2), m.group(3)) if m else "—"
m = re.search(r"caller: CPU ([\d.]+) s over ([\d.]+) s \(([\d.]+) %", out)
caller_cpu, batch_s = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
harness = "caller %.0f %%" % (100 * caller_cpu / batch_s) if batch_s else "caller —"

share_cells = ["—"] * 4
if mode == "cloud":
    ev = {}
    for line in open(os.path.join(work, "fakes.jsonl")):
        r = json.loads(line)
        if r["tag"] < 0:
            continue
        ev.setdefault(r["tag"], {}).setdefault(r["ev"], r["ns"])
    d = {k: [] for k in ("s0", "s1", "s2", "s3", "tot", "llm", "tts")}
    joined = 0
    for t in turns:
        e = ev.get(t["tag"]) if t["tag"] >= 0 else None
        need = ("stt_final", "llm_req", "llm_sent", "tts_req", "tts_byte")
        if not e or any(k not in e for k in need) or t["firstNs"] == 0:
            continue
        joined += 1
        ms = lambda a, b: (b - a) / 1e6
        s1, s2, s3 = ms(e["stt_final"], e["llm_req"]), ms(e["llm_sent"], e["tts_req"]), ms(e["tts_byte"], t["firstNs"])
        d["s0"].append(ms(t["eosNs"], e["stt_final"]))
        d["s1"].append(s1); d["s2"].append(s2); d["s3"].append(s3); d["tot"].append(s1 + s2 + s3)
        d["llm"].append(ms(e["llm_req"], e["llm_sent"])); d["tts"].append(ms(e["tts_req"], e["tts_byte"]))
    print("joined %d of %d turns with the fakes' stamps" % (joined, len(turns)))
    for key, what in (("s0", "caller end of speech -> speech_final sent (endpointing 250 ms + forwarding)"),
                      ("s1", "(1) speech_final sent -> LLM request received"),
                      ("llm", "    LLM request received -> first sentence's last token sent (provider)"),
                      ("s2", "(2) first sentence's last token sent -> TTS request received"),
                      ("tts", "    TTS request received -> first audio byte sent (provider)"),
                      ("s3", "(3) first audio byte sent -> first agent frame at the caller"),
                      ("tot", "engine share (1)+(2)+(3)")):
        v = d[key]
        print("  %-78s p50 %s  p95 %s  p99 %s  max %s ms" % (what, f(pct(v, 50)), f(pct(v, 95)), f(pct(v, 99)), f(max(v) if v else None)))
    share_cells = ["%s / %s" % (f(pct(d[k], 50)), f(pct(d[k], 99))) for k in ("s1", "s2", "s3")] + [f(pct(d["tot"], 99))]
    m = re.search(r"apex-fake-cloud: cpu ([\d.]+) s", open(os.path.join(work, "fakes.log")).read())
    if m and batch_s:
        harness += ", fakes %.0f %%" % (100 * float(m.group(1)) / batch_s)

print("caller-heard over %d turns (%d unanswered, %d of %d calls failed); frames %d" % (len(heard), unanswered, failed, len(calls_seen), frames))
untagged = [t for t in turns if t["latencyMs"] >= 0 and t.get("tag", -1) < 0]
if mode == "cloud" and untagged:
    print("  %d turns began with audio the fake TTS did not tag (not through the fakes' LLM and TTS: the engine's fallback, or a late greeting)" % len(untagged))
machine = [float(l.split()[1]) for l in open(os.path.join(work, "stalls.txt"))]
print("machine: a 5 ms sleep overslept > 10 ms %d times, > 40 ms %d times, worst %s ms (other load on the box)" % (
    len(machine), sum(1 for x in machine if x > 40), f(max(machine) if machine else 0)))
stalls = [c.get("maxTickLateMs", 0) for c in calls_seen.values()]
print("caller's own pacing: worst tick late p50 %s ms, max %s ms over calls; %d calls had a stall > 40 ms; %d late ticks (> 1 frame)" % (
    f(pct(stalls, 50)), f(max(stalls) if stalls else None), sum(1 for x in stalls if x > 40), sum(c.get("lateTicks", 0) for c in calls_seen.values())))
print()
print("| calls | caller-heard p50 / p95 / p99 ms | share (1) p50 / p99 | (2) p50 / p99 | (3) p50 / p99 | share total p99 | frames late >5 / >40 ms | engine CPU per live call | RSS per live call | harness CPU (of a core) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
print("| %d %s | %s / %s / %s | %s | %s | %s | %s | %d / %d of %d | %s | %s | %s |" % (
    calls, mode, f(pct(heard, 50)), f(pct(heard, 95)), f(pct(heard, 99)), *share_cells,
    late5, late40, frames, engine_cpu, rss, harness))
EOF
exit "$caller_rc"
