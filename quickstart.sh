#!/usr/bin/env bash
# densityflow quick start on Debian 12:
#   ./quickstart.sh run    install what is missing, build, run problems/ou-2d.prm on all cores
#   ./quickstart.sh test   install what is missing, build, run the test suite
# Both are idempotent and work as root or (with sudo) as a user.
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-}"
if [[ "$mode" != run && "$mode" != test ]]; then
  echo "usage: $0 run|test" >&2
  exit 2
fi

# libopenblas0-serial replaces Debian's reference BLAS under PETSc (dot products and
# axpys of CG): Q1 Fokker-Planck steps 1.4-1.6x faster; serial, so no threads fight MPI.
packages=(cmake g++ make ccache libdeal.ii-dev libmuparser-dev librandom123-dev
          libgtest-dev libvtk9-dev openmpi-bin libopenblas0-serial)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "quickstart: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OpenMPI refuses to run as root unless told that it is meant.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j "$cores" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "quickstart: built (log in build.log)"

if [[ "$mode" == run ]]; then
  mpirun -np "$cores" build/densityflow problems/ou-2d.prm
  echo "quickstart: open output/ou-2d/density.pvd and output/ou-2d/particles.pvd in ParaView;" \
       "numbers in output/ou-2d/diagnostics.csv and output/ou-2d/particles-vs-pde.csv"
else
  ctest --test-dir build --output-on-failure -j "$cores"
fi
