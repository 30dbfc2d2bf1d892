#pragma once

#include <densityflow/base/time_schedule.h>
#include <densityflow/distances/ensemble_reader.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/output/density_output.h>
#include <densityflow/output/diagnostics.h>
#include <densityflow/output/distance_csv.h>
#include <densityflow/output/grid_output.h>
#include <densityflow/output/particle_output.h>
#include <densityflow/output/regions.h>
#include <densityflow/output/run_directory.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/physics/physics.h>
#include <densityflow/simulation/particle_systems.h>
#include <densityflow/simulation/problem_parameters.h>
#include <densityflow/simulation/run_report.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/timer.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>

namespace densityflow
{
using namespace dealii;

/**
 * One run of a problem: builds the mesh, the physics, the solver and the particle
 * systems from the parameters, and marches to the end time, writing density.pvd,
 * diagnostics.csv and one progress line per output time, then a timing summary.
 *
 * The run loop (run()) reads like its outline: the schedule says how long the next
 * step is and what is due after it; the solver, the particle systems, the comparisons
 * and the outputs each do their part. TimerOutput keeps the time of each part.
 */
template <int dim>
class Simulation
{
public:
  /**
   * Sets everything up; InputError for bad input. @p log receives the progress
   * lines (from rank 0 only). @p restart: the folder of a run to continue from its
   * checkpoint (--restart; see write_checkpoint()), which the run then writes to;
   * empty: a new run.
   */
  Simulation(const ProblemParameters &parameters,
             const MPI_Comm           communicator,
             std::ostream            &log,
             const std::string       &restart = "");
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
  /** Checks every input and sets up; the output folder is made last. */
  void set_up();
  /** One step of the density and of the particle systems due for one. */
  void advance(const double dt);
  /** What is due at an output time: density, diagnostics, and the particles if due. */
  void write_output(const unsigned int step);
  /** diagnostics.csv, density.pvd and the grid at the current time; its statistics. */
  DensityStatistics<dim> write_density_output(const unsigned int step, const double wall);
  /** Compares each particle system with rho_h (particles-vs-pde.csv) and writes them. */
  void write_particle_output(const DensityStatistics<dim> &density);
  /** The progress lines of an output. */
  void
  print_progress(const unsigned int step, const DensityStatistics<dim> &density, const double wall);
  /** Compares the external ensembles due at the current time with rho_h (compare.csv). */
  void compare_due_snapshots();
  /** The timing summary, the final tables and the list of output files. */
  void report();
  /** Marks the run folder failed with @p error's message (a completed run is put back). */
  void mark_failed(const std::exception &error) const;

  /**
   * InputError where checkpoints are asked for (Checkpoint/Interval, --restart) but this
   * run cannot write them: the path model, Output/Grid, no files.
   */
  void check_checkpoint_support() const;
  /**
   * --restart, before the mesh is made: the complete checkpoint of restart_directory,
   * checked against this run (format, deal.II version, dimension, parameters, an adapted
   * mesh's files); a note where another densityflow commit wrote it. Returns its folder.
   * InputError naming what does not fit.
   */
  std::string check_restart_metadata() const;
  /**
   * --restart, after set-up: the checkpoint in @p folder checked against the solver and
   * the files (time step, the CSV files' lengths) and its binary files read
   * (restart_arrays), before the folder is touched. InputError naming what does not fit.
   */
  void check_restart(const std::string &folder);
  /** Cuts the CSV files back to their length at the checkpoint (rank 0; collective). */
  void truncate_output(const std::string &folder) const;
  /** Reads the state of the checkpoint in @p folder after set-up. Collective. */
  void restore_checkpoint(const std::string &folder);
  /**
   * Writes the whole state into <output>/checkpoint/ (atomically: CheckpointFolder):
   * metadata.txt, parameters.prm, state.txt (clocks, counters, output series, CSV
   * lengths), density_<rank>.bin (the solver's vectors by cell) and
   * particles_<system>_<rank>.bin. Collective.
   */
  void write_checkpoint();

  const ProblemParameters parameters;
  MPI_Comm                mpi_communicator;
  /** --restart's folder (empty: a new run), and the folder this run writes to. */
  const std::string restart_directory;
  const std::string output_path;
  /** Whether the state was read from a checkpoint (the first output is not written again). */
  bool restarted = false;
  /** --restart: the arrays of the checkpoint's binary files by prefix, one per rank. */
  std::map<std::string, std::vector<std::vector<double>>> restart_arrays;
  ConditionalOStream                                      pcout;
  Timer                                                   wall_clock;
  TimerOutput                                             timer;
  std::unique_ptr<RunDirectory>                           run_directory;
  std::unique_ptr<Mesh<dim>>                              mesh_;
  std::unique_ptr<Physics<dim>>                           physics;
  std::unique_ptr<Expression<dim>>                        initial_density;
  std::unique_ptr<Expression<dim>>                        exact_solution;
  std::unique_ptr<DensitySolver<dim>>                     density_solver;
  std::unique_ptr<TimeSchedule>                           schedule;
  std::unique_ptr<ParticleSystems<dim>>                   particles;
  std::unique_ptr<Diagnostics>                            diagnostics_;
  std::unique_ptr<DensityOutput<dim>>                     density_output;
  std::unique_ptr<GridOutput<dim>>                        grid_output;
  std::unique_ptr<Regions<dim>>                           regions;
  std::unique_ptr<ParticleOutput<dim>>                    particle_output;
  std::unique_ptr<DensityComparison<dim>>                 comparison;
  std::unique_ptr<DistanceCsv>                            particle_distance_csv;
  std::vector<EnsembleDistances>                          particle_distances;
  std::vector<EnsembleSnapshot<dim>>                      snapshots;
  std::size_t                                             next_snapshot = 0;
  std::vector<EnsembleDistances>                          snapshot_distances;
  std::unique_ptr<DistanceCsv>                            snapshot_distance_csv;
  /** int_R rho_h of Diagnostics/Regions at the last output. */
  std::vector<double> region_masses;
  /** Linear-solver iterations since the last output, and in all. */
  unsigned int  iterations_since_output = 0;
  unsigned long total_iterations        = 0;
  RunTiming     run_timing;
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

/**
 * Runs @p parameters in their dimension (the `Dimension` parameter); @p restart: the
 * folder of a run to continue from its checkpoint (--restart), empty for a new run.
 */
void run_problem(const ProblemParameters &parameters,
                 const MPI_Comm           communicator,
                 std::ostream            &log,
                 const std::string       &restart = "");
} // namespace densityflow
