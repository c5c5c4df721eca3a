#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite four ways:
#   tsan    — the unit tests (actors, db, proto) under ThreadSanitizer
#   asan    — every test, unit and integration, under AddressSanitizer + UndefinedBehaviorSanitizer
#             (clang, one build shared with the fuzzers), and each libFuzzer target (fuzz/) for
#             MONOLITE_FUZZ_SECONDS (default 60) on its seed corpus
#   container — builds the container image (Dockerfile) with podman and runs it against S3
#             (test/deploy/container_test.py; needs root)
#   release — every test against the optimised binary (this run's ctest summary closes the output)
# MONOLITE_TEST_PRESETS="release" limits the run to some of them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

presets=${MONOLITE_TEST_PRESETS:-"tsan asan container release"}
# Independent ctest entries run side by side: each integration module starts its own servers on
# free loopback ports and waits on conditions, not on times.
jobs=${MONOLITE_TEST_JOBS:-2}
for preset in $presets; do
  if [ "$preset" = container ]; then
    echo "=== container: image build and test (${SECONDS} s so far)" >&2
    scripts/deps.sh container
    if [ "$(id -u)" -eq 0 ]; then
      python3 test/deploy/container_test.py
    else
      sudo python3 test/deploy/container_test.py  # podman runs the containers as root
    fi
    continue
  fi
  echo "=== $preset: build (${SECONDS} s so far)" >&2
  if [ "$preset" = fuzz ] || [ "$preset" = asan ]; then
    cmake --preset "$preset" -DMONOLITE_FUZZ_SECONDS="${MONOLITE_FUZZ_SECONDS:-60}" >/dev/null
  else
    cmake --preset "$preset" >/dev/null
  fi
  if [ "$preset" = tsan ]; then
    cmake --build --preset "$preset" --target monolite_unit_tests
    echo "=== $preset: unit tests (${SECONDS} s so far)" >&2
    ctest --preset "$preset" -L unit -j "$jobs"
  else
    cmake --build --preset "$preset"
    echo "=== $preset: all tests (${SECONDS} s so far)" >&2
    ctest --preset "$preset" -j "$jobs"
  fi
done
