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
run() { # run NAME PROBLEM [--set ...]
  local name=$1 problem=$2
  shift 2
  mpirun -np "$ranks" "$solver" "problems/$problem.prm" --set "Output/Directory=$runs/$name" "$@" > "$runs/$name.log"
}

# The default problem: density and both particle systems at three times.
run ou-2d ou-2d
for t in 0 0.3 2; do
  "$post" render "$runs/ou-2d" --time "$t" --size 420,315 --fit -2.4,2.4,-2.4,2.4 \
    --output "docs/ou-2d-t$t.png"
done
"$post" plot "$runs/ou-2d" --size 840,520 --output-dir "$runs/ou-2d"
cp "$runs/ou-2d/diagnostics.png" docs/ou-2d-diagnostics.png
cp "$runs/ou-2d/particles-vs-pde.png" docs/ou-2d-particles-vs-pde.png

# Zalesak's slotted disc (and the Gaussian) after one revolution, with and without the limiter.
run rotation-limiter rotation-2d --set "Particles/Number=0"
run rotation-no-limiter rotation-2d --set "Particles/Number=0" --set "Discretization/Limiter=false"
"$post" render "$runs/rotation-limiter" --time 1 --size 420,315 --output docs/rotation-limiter.png
"$post" render "$runs/rotation-no-limiter" --time 1 --size 420,315 --output docs/rotation-no-limiter.png

# The reversing vortex at its thinnest, t = T/2 = 1, with its flow-map particles.
run vortex vortex-2d
"$post" render "$runs/vortex" --time 1 --size 420,315 --output docs/vortex-t1.png

ls -l docs/*.png
