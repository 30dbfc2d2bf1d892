#!/usr/bin/env bash
# The README's pictures (docs/*.png), from real runs of the shipped problems:
#   postprocess/make_readme_pictures.sh [BUILD_DIR]      (default: build)
# Needs build/densityflow and build/densityflow-post (cmake --build build --target
# densityflow densityflow-post). Runs go to output/readme-pictures/; takes about a minute
# on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
solver="$build/densityflow"
post="$build/densityflow-post"
for program in "$solver" "$post"; do
  [[ -x "$program" ]] || { echo "make_readme_pictures: $program not built" >&2; exit 1; }
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
runs=output/readme-pictures
mkdir -p docs "$runs"
ranks=$(( $(nproc) < 2 ? $(nproc) : 2 ))
run() { # run NAME PROBLEM [--set ...]; a completed run is kept (rm -r output/readme-pictures to redo)
  local name=$1 problem=$2
  shift 2
  grep -qs completed "$runs/$name/status" && return 0
  mpirun -np "$ranks" "$solver" "problems/$problem.prm" --set "Output/Directory=$runs/$name" "$@" > "$runs/$name.log"
}

# The default problem: density and both particle systems at three times.
run ou-2d ou-2d
for t in 0 0.3 2; do
  "$post" render "$runs/ou-2d" --time "$t" --size 420,315 --fit -2.4,2.4,-2.4,2.4 \
    --particle-size 1 --every 4 --output "docs/ou-2d-t$t.png"
done
"$post" plot "$runs/ou-2d" --size 840,520 --output-dir "$runs/ou-2d"
cp "$runs/ou-2d/diagnostics.png" docs/ou-2d-diagnostics.png
cp "$runs/ou-2d/particles-vs-pde.png" docs/ou-2d-particles-vs-pde.png

# Zalesak's slotted disc (and the Gaussian) after one revolution, with and without the limiter.
# (Refinement 5 instead of 6: each run 4x cheaper, the picture is 420 pixels wide anyway.)
run rotation-limiter rotation-2d --set "Particles/Number=0" --set "Mesh/Refinement=5"
run rotation-no-limiter rotation-2d --set "Particles/Number=0" --set "Mesh/Refinement=5" \
  --set "Discretization/Limiter=false"
"$post" render "$runs/rotation-limiter" --time 1 --size 420,315 --output docs/rotation-limiter.png
"$post" render "$runs/rotation-no-limiter" --time 1 --size 420,315 --output docs/rotation-no-limiter.png

# The reversing vortex at its thinnest, t = T/2 = 1, with its flow-map particles.
run vortex vortex-2d --set "Mesh/Refinement=5" --set "Time/End time=1"
"$post" render "$runs/vortex" --time 1 --size 420,315 --particle-size 1 --every 4 \
  --output docs/vortex-t1.png

ls -l docs/*.png
