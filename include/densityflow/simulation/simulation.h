#pragma once

#include <densityflow/base/time_schedule.h>
#include <densityflow/distances/ensemble_reader.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/output/density_output.h>
#include <densityflow/output/diagnostics.h>
#include <densityflow/output/grid_output.h>
#include <densityflow/output/particle_output.h>
#include <densityflow/output/regions.h>
#include <densityflow/output/run_directory.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/conditional_ostream.h>

#include <fstream>
#include <memory>
#include <optional>
#include <ostream>

namespace densityflow
{
using namespace dealii;

/** Where the time of a run went, and how much work it was. */
struct RunTiming
{
  /** Mesh, matrices, initial density. */
  double setup_seconds = 0;
  /** The time steps, without output, diagnostics and distances. */
  double solve_seconds = 0;
  /** density.pvd, particles.pvd, the CSV files and the diagnostics they hold. */
  double output_seconds = 0;
  /** Comparing ensembles (particle systems, or the files of `compare`) with rho_h. */
  double        distance_seconds  = 0;
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

  /**
   * Compares @p snapshots, point ensembles of any code, with rho_h at their times:
   * the run stops exactly there (compare.csv, and a table on the screen). Before run().
   */
  void compare_ensembles(std::vector<EnsembleSnapshot<dim>> snapshots);

  /** The distances of the ensembles of compare_ensembles(), in the order computed. */
  const std::vector<EnsembleDistances> &ensemble_distances() const;

  /** The distances of the particle systems to rho_h at every output time. */
  const std::vector<EnsembleDistances> &distances() const;

  /** The particle systems of the run (Particles/Dynamics), empty without particles. */
  const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &particle_systems() const;

private:
  void write_output(const unsigned int step, const unsigned int iterations);
  /** Compares each particle system with rho_h (particles-vs-pde.csv); @p region_masses
      are int_R rho_h of the regions. */
  void compare_particles(const DensityStatistics<dim> &density,
                         const std::vector<double>    &region_masses);
  /** Compares the external ensembles of the current time with rho_h (compare.csv). */
  void compare_snapshots();

  /** The particle step of the systems: checked, and said in the log. */
  void set_up_particle_steps();

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
  std::unique_ptr<GridOutput<dim>>                    grid_output;
  std::unique_ptr<Regions<dim>>                       regions;
  std::vector<std::unique_ptr<ParticleEnsemble<dim>>> ensembles;
  std::unique_ptr<ParticleOutput<dim>>                particle_output;
  std::unique_ptr<TimeSchedule>                       schedule;
  /**
   * PDE steps per particle step, per system: 1, or m where Particles/Time step is m
   * PDE steps; the particles then take one step of the m PDE steps' time after them.
   */
  std::vector<unsigned int> particle_stride;
  /** The PDE steps each system has yet to follow, and their time. */
  std::vector<unsigned int>               pending_steps;
  std::vector<double>                     pending_time;
  std::unique_ptr<DensityComparison<dim>> comparison;
  std::unique_ptr<std::ofstream>          comparison_file;
  std::vector<EnsembleDistances>          particle_distances;
  std::vector<EnsembleSnapshot<dim>>      snapshots;
  std::size_t                             next_snapshot = 0;
  std::vector<EnsembleDistances>          snapshot_distances;
  std::unique_ptr<std::ofstream>          compare_file;
  double                                  start_time;
  RunTiming                               run_timing;
};

/** An ensemble file for `compare`, and the time the command line gives it (if any). */
struct EnsembleFile
{
  std::string           file;
  std::optional<double> time;
};

/**
 * Solves @p parameters once and compares the ensembles in @p files (CSV or .npy, see
 * read_ensembles()) with rho_h. All files are read, and refused if bad, before the
 * output folder is touched; the output goes to the sub-folder compare/ of
 * Output/Directory, so that the files of a plain run of the problem stay.
 */
void compare_problem(const ProblemParameters         &parameters,
                     const std::vector<EnsembleFile> &files,
                     const MPI_Comm                   communicator,
                     std::ostream                    &log);

/** Runs @p parameters in their dimension (the `Dimension` parameter). */
void run_problem(const ProblemParameters &parameters,
                 const MPI_Comm           communicator,
                 std::ostream            &log);
} // namespace densityflow
