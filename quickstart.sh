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
# densityflow-post (postprocess/) is built against the VTK that Debian's ParaView ships
# (paraview-dev), so that it, pvpython and the ParaView GUI share one VTK: Debian 12's
# libvtk9-dev cannot be installed beside python3-paraview. ParaView renders through X only;
# xvfb and xauth give xvfb-run, a virtual X server for machines without a display.
# libglew-dev: ParaView's VTK CMake files name GLEW::GLEW, which paraview-dev does not pull
# in; without it CMake's generate step fails on a machine that lacks it (seen on a new one).
packages=(cmake g++ make ccache libdeal.ii-dev libmuparser-dev librandom123-dev
          libgtest-dev openmpi-bin libopenblas0-serial
          paraview paraview-dev python3-paraview libglew-dev xvfb xauth)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "quickstart: installing ${missing[*]}"
  $sudo apt-get update -qq
  # Never remove what the user has, but for Debian's separate VTK 9.1 (libvtk9-dev and
  # python3-vtk9, which an earlier quick start installed): ParaView conflicts with it.
  if ! simulation=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1); then
    echo "quickstart: apt-get cannot install ${missing[*]}:" >&2
    tail -3 <<< "$simulation" >&2
    exit 1
  fi
  removals=$(awk '/^Remv/ {print $2}' <<< "$simulation")
  for r in $removals; do
    if [[ "$r" != libvtk9-dev && "$r" != python3-vtk9 ]]; then
      echo "quickstart: installing ${missing[*]} would remove $r; not doing that." \
           "Install them yourself (apt-get install ${missing[*]}) and run me again." >&2
      exit 1
    fi
  done
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OpenMPI refuses to run as root unless told that it is meant.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.log 2>&1 || { cat build.log; exit 1; }
# `run` builds the solver only; `test` everything (the tests use densityflow-post).
if [[ "$mode" == run ]]; then
  cmake --build build -j "$cores" --target densityflow >> build.log 2>&1 || { tail -50 build.log; exit 1; }
else
  cmake --build build -j "$cores" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
fi
echo "quickstart: built (log in build.log)"

if [[ "$mode" == run ]]; then
  mpirun -np "$cores" build/densityflow problems/ou-2d.prm
  echo "quickstart: open output/ou-2d/density.pvd and output/ou-2d/particles.pvd in ParaView" \
       "(DENSITYFLOW_RUN=output/ou-2d paraview --script=postprocess/densityflow_view.py);" \
       "numbers in output/ou-2d/diagnostics.csv and output/ou-2d/particles-vs-pde.csv;" \
       "pictures: cmake --build build --target densityflow-post &&" \
       "build/densityflow-post render output/ou-2d --all"
else
  ctest --test-dir build --output-on-failure -j "$cores"
fi
