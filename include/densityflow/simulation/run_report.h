#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace densityflow
{
struct EnsembleDistances;

/** Where the time of a run went (TimerOutput's sections), and how much work it was. */
struct RunTiming
{
  /** Mesh, matrices, initial density, particle sampling. */
  double setup_seconds = 0;
  /** The density's time steps. */
  double solve_seconds = 0;
  /** The particles' steps. */
  double particle_seconds = 0;
  /** density.pvd, particles.pvd, the CSV files and the diagnostics they hold. */
  double output_seconds = 0;
  /** Comparing ensembles (particle systems, or the files of `compare`) with rho_h. */
  double        distance_seconds  = 0;
  double        total_seconds     = 0;
  unsigned int  n_steps           = 0;
  unsigned long linear_iterations = 0;
};

/**
 * Distances as a table with one column per ensemble (time and name on top) and one
 * row per quantity: the quantities' names fit on screen whole, which a row per
 * ensemble with a dozen columns does not. At most six ensembles side by side.
 */
void print_distance_table(std::ostream                         &out,
                          const std::vector<EnsembleDistances> &distances,
                          const unsigned int                    dim,
                          const std::vector<std::string>       &regions);

/** The run's timing in one line: each section, steps, iterations and DoF-steps/s. */
std::string timing_summary(const RunTiming &timing, const unsigned long n_dofs);
} // namespace densityflow
