#!/usr/bin/env bash
# One entry point for a fresh Debian bookworm box:
#   packaging/dev.sh console   install dependencies, build, start the console (offline default)
#   packaging/dev.sh test      install dependencies, build, run every test
#   packaging/dev.sh build     install dependencies and build only
# Idempotent: re-running on a machine that has everything just rebuilds what changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${APEX_BUILD_DIR:-$root/build}"
jobs="${APEX_JOBS:-$(nproc)}"

install_and_build() {
  "$root/packaging/install-deps.sh"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --parallel "$jobs"
}

case "${1:-}" in
  console)
    shift
    install_and_build
    exec "$build/bin/apex" "$@"
    ;;
  test)
    shift
    install_and_build
    # GUI suites need a real X server: run the whole suite under Xvfb.
    cd "$build"
    exec xvfb-run -a -s "-screen 0 1280x1024x24" \
      ctest --output-on-failure --timeout 300 --parallel "$jobs" "$@"
    ;;
  build)
    install_and_build
    ;;
  *)
    echo "usage: $0 console|test|build [args]" >&2
    exit 2
    ;;
esac
