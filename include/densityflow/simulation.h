#pragma once

#include <densityflow/density_output.h>
#include <densityflow/density_solver.h>
#include <densityflow/diagnostics.h>
#include <densityflow/mesh.h>
#include <densityflow/output.h>
#include <densityflow/parameters.h>
#include <densityflow/particle_output.h>
#include <densityflow/particles.h>
#include <densityflow/physics.h>

#include <deal.II/base/conditional_ostream.h>

#include <memory>
#include <ostream>

namespace densityflow
{
using namespace dealii;

/** Where the time of a run went, and how much work it was. */
struct RunTiming
{
  /** Mesh, matrices, initial density. */
  double setup_seconds = 0;
  /** The time steps, without output and diagnostics. */
  double        solve_seconds     = 0;
  double        output_seconds    = 0;
  unsigned int  n_steps           = 0;
  unsigned long linear_iterations = 0;
};

/**
 * One run of a problem: builds the mesh, the physics and the solver from the
 * parameters, and marches to the end time, writing density.pvd, diagnostics.csv and
 * one progress line per output time, then a timing summary.
 */
template <int dim>
class Simulation
{
public:
  /**
   * Sets everything up; InputError for bad input. @p log receives the progress
   * lines (from rank 0 only).
   */
  Simulation(const ProblemParameters &parameters, const MPI_Comm communicator, std::ostream &log);
  ~Simulation();

  /** Runs to the end time. */
  void run();

  const Diagnostics        &diagnostics() const;
  const RunTiming          &timing() const;
  const DensitySolver<dim> &solver() const;
  const Mesh<dim>          &mesh() const;

  /** The particle systems of the run (Particles/Dynamics), empty without particles. */
  const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &particle_systems() const;

private:
  void write_output(const unsigned int step, const unsigned int iterations);

  const ProblemParameters                             parameters;
  MPI_Comm                                            mpi_communicator;
  ConditionalOStream                                  pcout;
  std::unique_ptr<RunDirectory>                       run_directory;
  std::unique_ptr<Mesh<dim>>                          mesh_;
  std::unique_ptr<Physics<dim>>                       physics;
  std::unique_ptr<Expression<dim>>                    initial_density;
  std::unique_ptr<Expression<dim>>                    exact_solution;
  std::unique_ptr<DensitySolver<dim>>                 density_solver;
  std::unique_ptr<Diagnostics>                        diagnostics_;
  std::unique_ptr<DensityOutput<dim>>                 density_output;
  std::vector<std::unique_ptr<ParticleEnsemble<dim>>> ensembles;
  std::unique_ptr<ParticleOutput<dim>>                particle_output;
  double                                              start_time;
  RunTiming                                           run_timing;
};

/** Runs @p parameters in their dimension (the `Dimension` parameter). */
void run_problem(const ProblemParameters &parameters,
                 const MPI_Comm           communicator,
                 std::ostream            &log);
} // namespace densityflow
