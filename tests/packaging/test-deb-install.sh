#!/usr/bin/env bash
# The .debs as a small business gets them: built with cpack, installed with apt
# into a fresh, minimal Debian bookworm root (mmdebstrap, from this machine's
# Debian mirror, so every Depends is resolved for real), then checked there:
#   - the shipped config passes `apex-engine --check-config` (as root and as the
#     service user), the service user and /etc/apex modes are right, the unit is
#     enabled although no systemd runs in the root;
#   - the engine started as the unit starts it (user apex, --config /etc/apex/apex.json)
#     answers a call from apex-call: greeting and the FAQ answer (heard back through
#     pocketsphinx when --transcriber is given), and `--demo` prints both as text;
#   - the console starts offscreen and places its demo call;
#   - `apt-get remove` keeps /etc/apex with the administrator's edit, a reinstall
#     finds it, `apt-get purge` removes it and /var/lib/apex.
#
# usage: tests/packaging/test-deb-install.sh [--build-dir DIR | --debs DIR]
#                                            [--transcriber PATH] [--keep]
#   --build-dir DIR    build DIR (an APEX build folder) and run `cpack -G DEB` in it
#   --debs DIR         test the apex-engine_*.deb and apex_*.deb already in DIR
#   --transcriber PATH apex-transcribe (tests/packaging) to hear the agent's reply back
#   --keep             leave the root in place for inspection (printed at the end)
# Needs root (mmdebstrap, chroot, mounts) and the Debian archive; exits 77 (skipped)
# without them. Environment: APEX_DEB_MIRROR overrides the mirrors taken from
# /etc/apt/sources.list{,.d/*}, APEX_DEB_SUITE (default bookworm).
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir=""
debs_dir=""
transcriber=""
keep=0
suite="${APEX_DEB_SUITE:-bookworm}"

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --debs) debs_dir="$2"; shift 2 ;;
    --transcriber) transcriber="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$build_dir" ] && [ -z "$debs_dir" ]; then
  echo "give --build-dir DIR or --debs DIR" >&2
  exit 2
fi

started=$(date +%s)
say() { printf '[%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }
check() { # check "what" command...: run a command, fail with "what" if it fails
  local what="$1"; shift
  if "$@"; then say "ok: $what"; else fail "$what"; fi
}

[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap, chroot, mounts)"
if ! command -v mmdebstrap >/dev/null; then
  say "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null \
    || skip "mmdebstrap is not installed and apt-get could not install it"
fi

# --- 1. the packages ---------------------------------------------------------------
if [ -n "$build_dir" ]; then
  say "building $build_dir and packaging it with cpack"
  cmake --build "$build_dir" >/dev/null
  rm -f "$build_dir"/apex*.deb "$build_dir"/apex*.ddeb
  (cd "$build_dir" && cpack -G DEB >/dev/null)
  debs_dir="$build_dir"
fi
pick() { find "$debs_dir" -maxdepth 1 -name "$1" | sort -V | tail -n 1; }
engine_deb="$(pick 'apex-engine_*.deb')"
console_deb="$(pick 'apex_*.deb')"
if [ -z "$engine_deb" ] || [ -z "$console_deb" ]; then fail "no apex-engine_*.deb and apex_*.deb in $debs_dir"; fi
say "packages: $(basename "$engine_deb") $(basename "$console_deb")"

project_version="$(sed -n 's/^project(apex VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")"
field() { dpkg-deb -f "$1" "$2"; }
check "version $(field "$engine_deb" Version) is project() version $project_version" \
  test "$(field "$engine_deb" Version)" = "$project_version-1" -a "$(field "$console_deb" Version)" = "$project_version-1"
engine_depends="$(field "$engine_deb" Depends)"
check "apex-engine depends on pocketsphinx-en-us (the acoustic model)" \
  grep -q 'pocketsphinx-en-us' <<<"$engine_depends"
check "apex-engine depends on espeak-ng-data" grep -q 'espeak-ng-data' <<<"$engine_depends"
check "apex-engine depends on flite with its voices" grep -q 'libflite1' <<<"$engine_depends"
check "apex-engine has no Qt Widgets/Gui dependency" \
  bash -c '! grep -Eq "libqt6(widgets|gui)" <<<"$1"' _ "$engine_depends"
check "apex-engine recommends redis-server" grep -q redis-server <<<"$(field "$engine_deb" Recommends)"
check "apex depends on apex-engine" grep -q 'apex-engine (= ' <<<"$(field "$console_deb" Depends)"
check "debug info split into -dbgsym packages" \
  test -n "$(pick 'apex-engine-dbgsym_*.ddeb')" -a -n "$(pick 'apex-dbgsym_*.ddeb')"
unpacked="$(mktemp -d)"
dpkg-deb -x "$engine_deb" "$unpacked"
check "binaries are stripped" bash -c 'file "$1/usr/bin/apex-engine" "$1/usr/bin/apex-call" | grep -v "not stripped" | grep -c ", stripped" | grep -qx 2' _ "$unpacked"
rm -rf "$unpacked"
if command -v lintian >/dev/null; then
  say "lintian (errors fail; every warning is overridden or in packaging/lintian-notes.md)"
  lintian --fail-on error --tag-display-limit 0 "$engine_deb" "$console_deb" || fail "lintian errors"
fi

# --- 2. a minimal bookworm root ----------------------------------------------------
mirrors=()
if [ -n "${APEX_DEB_MIRROR:-}" ]; then
  mirrors=("deb $APEX_DEB_MIRROR $suite main")
else
  # One-line and deb822 sources of this machine, for the suite and its updates.
  while read -r line; do
    [ -n "$line" ] && mirrors+=("$line")
  done < <(
    { for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        if [ -f "$f" ]; then
          sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?/deb /p' "$f"
        fi
      done
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             { types = ""; uris = ""; suites = ""; comps = ""; enabled = "yes"
               for (i = 1; i <= NF; i++) {
                 if ($i ~ /^#/) continue
                 split($i, kv, ":[ \t]*"); key = tolower(kv[1]); value = substr($i, length(kv[1]) + 2)
                 gsub(/^[ \t]+/, "", value)
                 if (key == "types") types = value; else if (key == "uris") uris = value
                 else if (key == "suites") suites = value; else if (key == "components") comps = value
                 else if (key == "enabled") enabled = value }
               if (types !~ /(^| )deb( |$)/ || enabled == "no") next
               nu = split(uris, u, " "); ns = split(suites, s, " ")
               for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) print "deb " u[a] " " s[b] " " comps }' "$f"
      done
    } | awk -v suite="$suite" '$3 == suite || index($3, suite "-") == 1' | sort -u)
  [ ${#mirrors[@]} -gt 0 ] || mirrors=("deb http://deb.debian.org/debian $suite main")
fi

work="$(mktemp -d /var/tmp/apex-deb-test.XXXXXX)"
root="$work/root"
engine_pid=""
cleanup() {
  set +e
  [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null && wait "$engine_pid" 2>/dev/null
  # Anything else still running inside the root (started by this test) goes too.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for m in "$root/dev/pts" "$root/dev" "$root/proc"; do
    mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m"; }
  done
  if [ "$keep" = 1 ]; then
    say "root kept at $root"
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "mmdebstrap --variant=apt $suite from: ${mirrors[*]}"
mmdebstrap --quiet --variant=apt "$suite" "$root" "${mirrors[@]}" >"$work/mmdebstrap.log" 2>&1 \
  || { tail -n 30 "$work/mmdebstrap.log"; skip "mmdebstrap could not build a $suite root (no archive?)"; }

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# As in any chroot: no init scripts started by packages (e.g. redis-server's).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
as_apex() { chroot --userspec=apex:apex "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
              HOME=/var/lib/apex LANG=C.UTF-8 "$@"; }

# --- 3. install as a user does -----------------------------------------------------
mkdir -p "$root/tmp/debs"
cp "$engine_deb" "$console_deb" "$root/tmp/debs/"
chmod 0755 "$root/tmp/debs"
chmod 0644 "$root"/tmp/debs/*.deb
say "apt-get install ./$(basename "$engine_deb") ./$(basename "$console_deb") (with Recommends)"
in_root apt-get update -q >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log"; fail "apt-get update"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  "/tmp/debs/$(basename "$engine_deb")" "/tmp/debs/$(basename "$console_deb")" >>"$work/apt.log" 2>&1 \
  || { tail -n 40 "$work/apt.log"; fail "apt-get install of the packages"; }
say "installed: $(in_root dpkg-query -W -f='${Package} ${Version}, ' apex apex-engine pocketsphinx-en-us espeak-ng-data redis-server)"

# --- 4. the installed engine -------------------------------------------------------
check "system user apex exists" in_root getent passwd apex
check "/etc/apex/apex.json is 0600 apex:apex" test "$(in_root stat -c '%a %U:%G' /etc/apex/apex.json)" = "600 apex:apex"
check "/etc/apex/apex.env is 0600 root:root" test "$(in_root stat -c '%a %U:%G' /etc/apex/apex.env)" = "600 root:root"
check "apex.json and apex.env are conffiles" \
  bash -c '[ "$(grep -c "^/etc/apex/apex\.\(json\|env\)" "$1/var/lib/dpkg/info/apex-engine.conffiles")" = 2 ]' _ "$root"
check "nothing under /usr/etc" test ! -e "$root/usr/etc"
check "shipped resources in /usr/share/apex" test -f "$root/usr/share/apex/config/apex.json"
check "apex-engine.service installed" test -f "$root/lib/systemd/system/apex-engine.service"
check "apex-engine.service enabled (no systemd running here)" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/apex-engine.service"

out="$(in_root apex-engine --check-config 2>&1)" || fail "apex-engine --check-config: $out"
check "without --config the engine uses /usr/share/apex (not a build path)" \
  grep -q '^config: *\/usr\/share\/apex\/config\/apex.json' <<<"$out"
out="$(as_apex apex-engine --config /etc/apex/apex.json --check-config 2>&1)" \
  || fail "apex-engine --config /etc/apex/apex.json --check-config as apex: $out"
check "the service user reads /etc/apex/apex.json" grep -q '^config: */etc/apex/apex.json' <<<"$out"
check "the shipped demo tenant is configured" grep -q 'tenant demo (default)' <<<"$out"

greeting="thank you for calling Sunrise Dental Clinic"
answer="We are open Monday to Saturday"
say "apex-engine --demo (an in-process call, its transcript as text)"
out="$(as_apex timeout 120 apex-engine --config /etc/apex/apex.json --demo 2>"$work/demo.log")" \
  || { cat "$work/demo.log"; fail "apex-engine --demo: $out"; }
printf '%s\n' "$out" | sed 's/^/    /'
check "demo: the greeting was said" grep -q "agent : .*$greeting" <<<"$out"
check "demo: the opening hours were answered" grep -q "agent : $answer" <<<"$out"

say "apex-engine as the unit runs it (user apex, --config /etc/apex/apex.json), --listen 127.0.0.1:0"
# A simple command, so that $! is the engine itself (chroot and env exec it).
chroot --userspec=apex:apex "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/apex LANG=C.UTF-8 \
  apex-engine --config /etc/apex/apex.json --listen 127.0.0.1:0 >"$work/engine.log" 2>&1 &
engine_pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(sed -n 's/.*\[main\].* listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/engine.log" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$engine_pid" 2>/dev/null || { cat "$work/engine.log"; fail "the engine exited at start"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/engine.log"; fail "the engine did not listen within 60 s"; }
say "engine listening on 127.0.0.1:$port"

say "apex-call --engine 127.0.0.1:$port --say \"What are your opening hours?\""
rm -f "$root/tmp/agent.wav"
call_rc=0
out="$(in_root timeout 120 apex-call --engine "127.0.0.1:$port" --say "What are your opening hours?" \
         --record /tmp/agent.wav 2>&1)" || call_rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "apex-call exits 0 (rc $call_rc)" test "$call_rc" = 0
check "the call went through" grep -q ': ok$' <<<"$out"
check "the caller heard a greeting" grep -q 'greeting: first agent frame' <<<"$out"
check "the caller heard a reply to turn 1" grep -q 'turn 1: end-of-speech → first agent frame: [0-9]* ms' <<<"$out"
check "the engine recognised the question (acoustic model installed)" \
  grep -q 'caller said "what are your opening hours"' "$work/engine.log"
check "the agent's audio was recorded" test -s "$root/tmp/agent.wav"
if [ -n "$transcriber" ]; then
  heard="$("$transcriber" "$root/etc/apex/apex.json" "$root/tmp/agent.wav" 2>"$work/transcribe.log" | tr '[:upper:]' '[:lower:]')" \
    || { cat "$work/transcribe.log"; fail "transcribing the agent's audio"; }
  say "the agent, heard back: $heard"
  # Key words rather than whole phrases: on a loaded box pocketsphinx may mishear
  # a name ("sunrise dental" as "friday and").
  greeted=0
  for w in hello thank calling sunrise dental clinic help today; do grep -qw "$w" <<<"$heard" && greeted=$((greeted + 1)); done
  check "the caller heard the greeting ($greeted of 8 key words)" test "$greeted" -ge 5
  hours=0
  for w in monday saturday nine morning evening; do grep -qw "$w" <<<"$heard" && hours=$((hours + 1)); done
  check "the caller heard the opening hours ($hours of 5 key words)" test "$hours" -ge 3
else
  say "no --transcriber: the reply's words are checked through --demo only"
fi

# systemctl reload: the unit's ExecReload sends SIGHUP; the engine re-reads its tenants and lives on.
check "the unit reloads with SIGHUP" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$root/lib/systemd/system/apex-engine.service"
kill -HUP "$engine_pid"
for _ in $(seq 300); do grep -q "tenants reloaded" "$work/engine.log" && break; sleep 0.1; done
check "SIGHUP (systemctl reload) re-read the tenants" grep -q "tenants reloaded" "$work/engine.log"
check "the engine lives on after the reload" kill -0 "$engine_pid"

kill -TERM "$engine_pid"
engine_rc=0
wait "$engine_pid" || engine_rc=$?
engine_pid=""
if [ "$engine_rc" = 0 ]; then
  say "ok: the engine stopped cleanly on SIGTERM (systemctl stop)"
else
  say "note: the engine exited with $engine_rc on SIGTERM (systemctl stop would log a failure)"
fi

say "apex --quit-after-demo (the console, offscreen)"
out="$(in_root env QT_QPA_PLATFORM=offscreen timeout 180 apex --quit-after-demo 2>"$work/console.log")" \
  || { tail -n 30 "$work/console.log"; fail "the console's demo call: $out"; }
check "the console's demo call answered" grep -q "$answer" <<<"$out"

# --- 5. remove keeps /etc/apex (and the admin's edits), purge removes it ----------------
sed -i 's/"listen": "127.0.0.1:8080"/"listen": "127.0.0.1:8181"/' "$root/etc/apex/apex.json"
edited() { grep -q '"listen": "127.0.0.1:8181"' "$root/etc/apex/apex.json"; }
check "an administrator edits /etc/apex/apex.json" edited
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q apex apex-engine >>"$work/apt.log" 2>&1 \
  || { tail -n 20 "$work/apt.log"; fail "apt-get remove"; }
check "remove: apex-engine is removed, config kept (rc)" \
  test "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' apex-engine)" = "rc "
check "remove: binaries gone" test ! -e "$root/usr/bin/apex-engine" -a ! -e "$root/usr/bin/apex"
check "remove: /etc/apex/apex.json and apex.env kept" test -f "$root/etc/apex/apex.json" -a -f "$root/etc/apex/apex.env"
check "remove: the edit is kept" edited

in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/debs/$(basename "$engine_deb")" \
  >>"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log"; fail "apt-get install after remove"; }
check "reinstall: the edit is kept, no prompt" edited
check "reinstall: /etc/apex/apex.json is still 0600 apex:apex" \
  test "$(in_root stat -c '%a %U:%G' /etc/apex/apex.json)" = "600 apex:apex"
check "reinstall: apex-engine.service enabled" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/apex-engine.service"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q apex-engine >>"$work/apt.log" 2>&1 \
  || { tail -n 20 "$work/apt.log"; fail "apt-get purge"; }
check "purge: /etc/apex removed" test ! -e "$root/etc/apex"
check "purge: /var/lib/apex removed" test ! -e "$root/var/lib/apex"
check "purge: no unit symlinks left" \
  test ! -e "$root/etc/systemd/system/multi-user.target.wants/apex-engine.service" -a ! -L "$root/etc/systemd/system/apex-engine.service"
status="$(in_root dpkg-query -W -f='${db:Status-Abbrev}' apex-engine 2>/dev/null || true)"
check "purge: dpkg forgot apex-engine (status '${status}')" test -z "$status" -o "$status" = "un "

say "PASS in $(( $(date +%s) - started )) s"
