#!/usr/bin/env bash
# Rendering benchmark: one 800x600 frame of the default problem (ou-2d: 4096 cells as
# written, 10,000 particles), and --all (its 21 snapshots), wall time including the
# start-up of the program and of its virtual X server, best and worst of 3.
#   postprocess/render_benchmark.sh [BUILD_DIR]       (default: build)
# Targets: one frame < 1 s, --all < 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run=output/render-benchmark/ou-2d
if [[ ! -f "$run/density.pvd" ]] || ! grep -q completed "$run/status"; then
  mpirun -np 2 "$build/densityflow" problems/ou-2d.prm --set "Output/Directory=$run" > /dev/null
fi
frames=output/render-benchmark/frames
seconds() { local start=$EPOCHREALTIME; "$@" > /dev/null; awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
measure() { # measure LABEL COMMAND...
  local label=$1 times=()
  shift
  for _ in 1 2 3; do times+=("$(seconds "$@")"); done
  printf '%-40s %s s (runs: %s)\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | sort -g | head -1)" "${times[*]}"
}
echo "display: ${DISPLAY:-none (densityflow-post starts xvfb-run)}"
measure "render, one 800x600 frame" "$build/densityflow-post" render "$run" --size 800,600 --output "$frames/one.png"
measure "render --all, $(grep -c DataSet "$run/density.pvd") frames of 800x600" \
  "$build/densityflow-post" render "$run" --all --size 800,600 --output "$frames/frame.png"
measure "plot (2 CSV files)" "$build/densityflow-post" plot "$run" --output-dir "$frames"
measure "info (integrals of 21 snapshots)" "$build/densityflow-post" info "$run"
