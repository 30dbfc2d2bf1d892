#pragma once

#include <deal.II/base/mpi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace densityflow
{
using namespace dealii;

template <int dim>
class DensitySolver;
template <int dim>
class ParticleEnsemble;

/**
 * The ParaView time series particles.pvd of all particle systems of a run: one
 * particles_NNNNN.pvtu per output time (one .vtu per rank) with the fields id
 * (system * N + the particle's id), system (the index in Particles/Dynamics), rank,
 * velocity (b, or the probability-flow velocity) and log_density (flow map; NaN
 * otherwise); and, if asked, particles_NNNNN.csv with the same columns, sorted.
 */
template <int dim>
class ParticleOutput
{
public:
  ParticleOutput(const std::string &directory, const bool write_csv, const MPI_Comm communicator);

  /**
   * Writes the systems at the solver's time, each particle from the rank that holds
   * it. The ensembles must be located (ParticleEnsemble::locate()): the probability
   * flow's velocities need the cells, and the ranks written are their owners'.
   */
  void write(const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &ensembles,
             const DensitySolver<dim>                                  &solver);

  /** The series so far: (time, .pvtu file) per output (for a checkpoint). */
  const std::vector<std::pair<double, std::string>> &series() const;
  /** Continues the series @p series (a restart): the .pvd is written again with it. */
  void restore_series(const std::vector<std::pair<double, std::string>> &series);

private:
  std::string                                 directory;
  bool                                        csv;
  MPI_Comm                                    mpi_communicator;
  std::vector<std::pair<double, std::string>> records;
};
} // namespace densityflow
