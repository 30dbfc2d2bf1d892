#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/output/column_descriptions.h>
#include <densityflow/simulation/simulation.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/base/timer.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace densityflow
{
namespace
{
/**
 * Distances as a table with one column per ensemble (time and name on top) and one
 * row per quantity: the quantities' names fit on screen whole, which a row per
 * ensemble with a dozen columns does not. At most six ensembles side by side.
 */
void print_distance_table(std::ostream                         &out,
                          const std::vector<EnsembleDistances> &distances,
                          const unsigned int                    dim,
                          const std::vector<std::string>       &regions)
{
  const std::vector<std::string> columns    = distance_columns(dim, regions);
  std::size_t                    name_width = 0;
  for (const std::string &name : columns)
    name_width = std::max(name_width, name.size());
  for (std::size_t first = 0; first < distances.size(); first += 6)
    {
      std::vector<std::vector<std::string>> rows;
      std::size_t                           width = 12;
      for (std::size_t k = first; k < std::min(first + 6, distances.size()); ++k)
        {
          rows.push_back(distance_row(distances[k], dim));
          width = std::max(width, rows.back()[1].size() + 2);
        }
      for (std::size_t c = 0; c < columns.size(); ++c)
        {
          out << "  " << std::left << std::setw(name_width) << columns[c] << std::right;
          for (const auto &row : rows)
            {
              std::ostringstream cell;
              // Counts and words as they are, other numbers with 4 digits.
              std::size_t end   = 0;
              double      value = 0;
              try
                {
                  value = std::stod(row[c], &end);
                }
              catch (const std::exception &)
                {
                  end = 0;
                }
              if (row[c].empty())
                cell << "-";
              else if (end != row[c].size() || row[c].find_first_of(".e") == std::string::npos)
                cell << row[c];
              else
                cell << std::scientific << std::setprecision(3) << value;
              out << std::setw(width) << cell.str();
            }
          out << std::endl;
        }
    }
}

/**
 * What the Q1 matrix implies for the scheme in use: only backward Euler with a lumped
 * mass matrix turns an M-matrix into rho >= 0 and a decreasing free energy.
 */
std::string m_matrix_note(const std::size_t n_positive, const bool lumped, TimeScheme scheme)
{
  if (scheme == TimeScheme::automatic)
    scheme = TimeScheme::bdf2; // the Fokker-Planck solver's choice
  if (n_positive > 0)
    return "note: " + std::to_string(n_positive) +
           " positive off-diagonal stiffness entries (cells not box-shaped): positivity is not "
           "guaranteed, min_density is monitored";
  if (!lumped)
    return "the Q1 stiffness is an M-matrix; positivity needs Mass lumping = true (and "
           "backward Euler), min_density is monitored";
  if (scheme == TimeScheme::backward_euler)
    return "the Q1 stiffness is an M-matrix and the mass lumped: backward Euler keeps "
           "rho >= 0 and lets F decrease at every step";
  return "the Q1 stiffness is an M-matrix, but " + to_string(scheme) +
         " does not keep rho >= 0 or F decreasing (backward Euler would): min_density is "
         "monitored";
}

/** Opens a CSV of distances (rank 0; else null) with its header and its .columns.csv. */
std::unique_ptr<std::ofstream> open_distance_csv(const std::string              &path,
                                                 const unsigned int              dim,
                                                 const std::vector<std::string> &regions,
                                                 const MPI_Comm                  communicator)
{
  const auto columns = distance_columns(dim, regions);
  // On every rank, so that an undescribed column stops all of them alike.
  const std::string descriptions = column_descriptions(columns);
  if (Utilities::MPI::this_mpi_process(communicator) != 0)
    return nullptr;
  write_column_descriptions(path, descriptions);
  auto file = std::make_unique<std::ofstream>(path);
  for (std::size_t c = 0; c < columns.size(); ++c)
    *file << (c ? "," : "") << columns[c];
  *file << std::endl;
  return file;
}
} // namespace

template <int dim>
Simulation<dim>::Simulation(const ProblemParameters &parameters,
                            const MPI_Comm           communicator,
                            std::ostream            &log)
    : parameters(parameters)
    , mpi_communicator(communicator)
    , pcout(log, Utilities::MPI::this_mpi_process(communicator) == 0)
    , start_time(MPI_Wtime())
{
  try
    {
      // Every input is checked before the output folder is touched: a run that stops
      // on bad input leaves an earlier run's results as they are.
      pcout << "densityflow: problem '" << parameters.name << "', " << dim << "D, "
            << Utilities::MPI::n_mpi_processes(communicator) << " MPI rank(s)" << std::endl;
      mesh_ = std::make_unique<Mesh<dim>>(
          parameters.mesh, parameters.discretization.degree, communicator);
      physics         = std::make_unique<Physics<dim>>(parameters.physics, parameters.constants);
      initial_density = std::make_unique<Expression<dim>>(
          parameters.initial_density, physics->constants(), "Initial density/Expression");
      if (!parameters.exact_solution.empty())
        exact_solution = std::make_unique<Expression<dim>>(
            parameters.exact_solution, physics->constants(), "Exact solution/Expression");
      pcout << "  mesh:   " << mesh_->description() << std::endl;
      regions = std::make_unique<Regions<dim>>(parameters.regions.regions,
                                               physics->constants(),
                                               *mesh_,
                                               parameters.discretization.degree);

      if (physics->model() == Model::transport)
        density_solver = std::make_unique<TransportSolver<dim>>(
            *mesh_, *physics, parameters.discretization, parameters.time, parameters.linear_solver);
      else
        density_solver = std::make_unique<FokkerPlanckSolver<dim>>(
            *mesh_, *physics, parameters.discretization, parameters.time, parameters.linear_solver);
      pcout << "  solver: " << density_solver->description() << std::endl;
      if (const auto *fp = dynamic_cast<const FokkerPlanckSolver<dim> *>(density_solver.get()))
        if (parameters.discretization.degree == 1)
          pcout << "          "
                << m_matrix_note(fp->n_positive_off_diagonals(),
                                 parameters.discretization.mass_lumping,
                                 parameters.time.scheme)
                << std::endl;

      const double factor = density_solver->set_initial_density(*initial_density);
      pcout << "  initial density normalised to unit mass by the factor " << std::setprecision(10)
            << factor << std::endl;

      const bool fixed_steps = !density_solver->adjustable_time_step();
      schedule               = std::make_unique<TimeSchedule>(parameters.time.end_time,
                                                density_solver->time_step(),
                                                fixed_steps ? parameters.time.n_steps() : 0,
                                                parameters.output.interval,
                                                parameters.particles.output_interval);

      for (unsigned int k = 0;
           k < parameters.particles.dynamics.size() && parameters.particles.number > 0;
           ++k)
        {
          ensembles.push_back(std::make_unique<ParticleEnsemble<dim>>(
              parameters.particles.dynamics[k], k, parameters.particles, *mesh_, *physics));
          ensembles.back()->sample(*initial_density);
        }
      set_up_particle_steps();

      // The grid's counts are checked (and its points located) with the other inputs; it
      // writes into the run's folder, which exists from the first output on.
      if (!parameters.output.grid.empty())
        {
          grid_output = std::make_unique<GridOutput<dim>>(
              *mesh_, parameters.output.grid, parameters.output_directory(), communicator);
          if (grid_output->n_outside() > 0)
            pcout << "  grid:   " << grid_output->n_outside()
                  << " grid points in no cell of the mesh (NaN in grid_*.npy)" << std::endl;
          if (!parameters.output.write_files)
            grid_output.reset();
        }

      if (parameters.output.write_files)
        {
          run_directory = std::make_unique<RunDirectory>(
              parameters.output_directory(), parameters.output.keep_previous, communicator);
          run_directory->write_file("parameters.prm", parameters.effective_parameters);
        }
      const std::string csv = run_directory ? run_directory->path() + "/diagnostics.csv" : "";
      diagnostics_ = std::make_unique<Diagnostics>(dim, csv, communicator, regions->names());
      if (run_directory)
        density_output = std::make_unique<DensityOutput<dim>>(run_directory->path(), communicator);
      if (!ensembles.empty())
        {
          comparison =
              std::make_unique<DensityComparison<dim>>(parameters.distances,
                                                       parameters.discretization.degree + 2,
                                                       communicator,
                                                       mesh_.get());
          if (run_directory)
            comparison_file = open_distance_csv(run_directory->path() + "/particles-vs-pde.csv",
                                                dim,
                                                regions->names(),
                                                communicator);
        }
      if (run_directory && !ensembles.empty())
        particle_output = std::make_unique<ParticleOutput<dim>>(
            run_directory->path(), parameters.particles.write_csv, communicator);
      run_timing.setup_seconds = MPI_Wtime() - start_time;
    }
  catch (const std::exception &e)
    {
      if (run_directory)
        {
          const std::string note = run_directory->mark_failed(e.what());
          if (!note.empty())
            pcout << note << std::endl;
        }
      throw;
    }
}

template <int dim>
void Simulation<dim>::set_up_particle_steps()
{
  const double pde_step = density_solver->time_step();
  const double wanted   = parameters.particles.time_step;
  const bool   variable = density_solver->adjustable_time_step();
  unsigned int stride   = 1;
  if (!ensembles.empty() && wanted > pde_step * (1 + 1e-9))
    {
      std::ostringstream message;
      message << std::setprecision(10) << "Particles/Time step = " << wanted
              << " is larger than the PDE step " << pde_step;
      if (variable)
        {
          message << ", which varies (CFL-limited, Time/Scheme = ssp-rk3): particle steps "
                     "larger than the PDE's need a fixed PDE step.";
          throw InputError(message.str());
        }
      const double ratio = wanted / pde_step;
      stride             = static_cast<unsigned int>(std::lround(ratio));
      if (std::abs(ratio - stride) > 1e-9 * ratio)
        {
          message << " (Time/End time / ceil(End time / Time/Time step)) and not a multiple of "
                     "it: a larger particle step must be a whole number of PDE steps, e.g. "
                  << std::floor(ratio) * pde_step << " or " << std::ceil(ratio) * pde_step << ".";
          throw InputError(message.str());
        }
      // The particles are written (and compared) only between their steps: every
      // particle output must fall on a whole number of particle steps.
      TimeSchedule dry_run = *schedule;
      dry_run.output_written();
      while (!dry_run.at_end())
        {
          dry_run.advance(dry_run.step(pde_step));
          if (dry_run.output_due())
            {
              if (dry_run.particle_output_due() && dry_run.step_number() % stride != 0)
                {
                  message << " (" << stride << " PDE steps), but the particles are due for output"
                          << " at t = " << dry_run.time() << " (PDE step " << dry_run.step_number()
                          << "), between two particle steps: make Output/Interval, Particles/"
                             "Output interval and Time/End time multiples of the particle step.";
                  throw InputError(message.str());
                }
              dry_run.output_written();
            }
        }
    }

  for (const auto &ensemble : ensembles)
    {
      std::ostringstream line;
      line << std::setprecision(6) << "  particles: system " << ensemble->system() << " = "
           << to_string(ensemble->dynamics()) << ", " << ensemble->n_particles()
           << " particles from the initial density, ";
      // The probability flow evaluates rho_h, which exists at the PDE's times only.
      const bool with_pde = ensemble->dynamics() == ParticleDynamics::probability_flow;
      particle_stride.push_back(with_pde ? 1 : stride);
      if (with_pde)
        line << "step " << pde_step << (variable ? " (at most; " : " (")
             << "the PDE's, as the probability flow needs rho_h)";
      else if (stride > 1)
        line << "step " << stride * pde_step << " (" << stride << " PDE steps)";
      else if (wanted > 0 && wanted < pde_step * (1 - 1e-9))
        {
          if (variable)
            line << "steps of at most " << wanted << " within each PDE step";
          else
            {
              const unsigned int n = static_cast<unsigned int>(std::ceil(pde_step / wanted - 1e-9));
              line << "step " << pde_step / n << " (" << n << " per PDE step)";
            }
        }
      else
        line << "step " << pde_step << (variable ? " (at most; the PDE's)" : " (the PDE's)");
      pcout << line.str() << std::endl;
    }
  pending_steps.assign(ensembles.size(), 0);
  pending_time.assign(ensembles.size(), 0);
}

template <int dim>
Simulation<dim>::~Simulation() = default;

template <int dim>
void Simulation<dim>::write_output(const unsigned int step, const unsigned int iterations)
{
  const DensityStatistics<dim> s             = density_solver->statistics(exact_solution.get());
  const std::vector<double>    region_masses = regions->masses(*density_solver);
  const double                 wall          = MPI_Wtime() - start_time;
  diagnostics_->add(schedule->time(), step, s, iterations, wall, region_masses);
  if (density_output)
    density_output->write(*density_solver, exact_solution.get());
  if (grid_output)
    grid_output->write(*density_solver);
  if (schedule->particle_output_due())
    {
      if (comparison)
        compare_particles(s, region_masses);
      if (particle_output)
        {
          // Written where the cells' owners hold them; then the dynamics without cells
          // run faster spread evenly over the ranks again.
          for (auto &ensemble : ensembles)
            ensemble->locate();
          particle_output->write(ensembles, *density_solver);
          for (auto &ensemble : ensembles)
            ensemble->balance();
        }
    }
  schedule->output_written();

  std::ostringstream line;
  line << "  step " << std::setw(6) << step << "  t = " << std::setw(9) << std::setprecision(5)
       << std::fixed << density_solver->time() << std::scientific << std::setprecision(3)
       << "  mass-1 = " << std::setw(10) << s.mass - 1 << "  min = " << std::setw(10)
       << s.min_density << "  KL = " << std::setw(9) << s.relative_entropy;
  if (exact_solution)
    line << "  L2 error = " << s.l2_error;
  line << "  its = " << iterations << std::fixed << std::setprecision(2) << "  (" << wall << " s)";
  pcout << line.str() << std::endl;
  for (const auto &ensemble : ensembles)
    {
      const ParticleMoments<dim> m = ensemble->moments();
      std::ostringstream         particles;
      particles << "         " << std::setw(16) << std::left << to_string(ensemble->dynamics())
                << std::right << std::setprecision(4) << std::scientific << " N = " << m.n
                << "  mean = (" << m.mean << ")";
      if (ensemble->n_lost() > 0)
        particles << "  left the domain: " << ensemble->n_lost();
      if (ensemble->dynamics() == ParticleDynamics::mala)
        particles << std::fixed << std::setprecision(3) << "  acceptance "
                  << ensemble->acceptance_rate();
      pcout << particles.str() << std::endl;
    }
}

template <int dim>
void Simulation<dim>::compare_particles(const DensityStatistics<dim> &density,
                                        const std::vector<double>    &region_masses)
{
  const double start = MPI_Wtime();
  for (auto &ensemble : ensembles)
    {
      ensemble->locate();
      const std::vector<double> weights(ensemble->positions().size(), 1.0);
      const bool                carried = ensemble->dynamics() == ParticleDynamics::flow_map;
      EnsembleDistances         d       = comparison->compare(*density_solver,
                                                density,
                                                ensemble->positions(),
                                                weights,
                                                ensemble->cells(),
                                                ensemble->n_lost(),
                                                carried ? &ensemble->log_densities() : nullptr);
      d.ensemble                        = to_string(ensemble->dynamics());
      if (!regions->empty())
        regions->add_fractions(
            d, ensemble->positions(), weights, region_masses, density.mass, density_solver->time());
      particle_distances.push_back(d);
      if (comparison_file)
        {
          const auto row = distance_row(d, dim);
          for (std::size_t c = 0; c < row.size(); ++c)
            *comparison_file << (c ? "," : "") << row[c];
          *comparison_file << std::endl;
        }
    }
  run_timing.distance_seconds += MPI_Wtime() - start;
}

template <int dim>
void Simulation<dim>::compare_ensembles(std::vector<EnsembleSnapshot<dim>> new_snapshots)
{
  snapshots = std::move(new_snapshots);
  std::stable_sort(snapshots.begin(), snapshots.end(), [](const auto &a, const auto &b) {
    return a.time < b.time;
  });
  next_snapshot = 0;
  std::vector<double> times;
  for (const auto &snapshot : snapshots)
    times.push_back(snapshot.time);
  schedule->add_stops(times);
  if (!comparison)
    comparison = std::make_unique<DensityComparison<dim>>(
        parameters.distances, parameters.discretization.degree + 2, mpi_communicator, mesh_.get());
  if (run_directory)
    compare_file = open_distance_csv(
        run_directory->path() + "/compare.csv", dim, regions->names(), mpi_communicator);
}

template <int dim>
void Simulation<dim>::compare_snapshots()
{
  const double                 start         = MPI_Wtime();
  const DensityStatistics<dim> density       = density_solver->statistics(nullptr);
  const std::vector<double>    region_masses = regions->masses(*density_solver);
  PointLocator<dim>           &locator       = mesh_->point_locator();
  const bool                   root = Utilities::MPI::this_mpi_process(mpi_communicator) == 0;
  while (next_snapshot < snapshots.size() && schedule->reached(snapshots[next_snapshot].time))
    {
      // Every rank read the files (so that all saw the same errors); rank 0's copy is
      // handed to the ranks that own the points' cells.
      const EnsembleSnapshot<dim> &snapshot = snapshots[next_snapshot++];
      std::vector<Point<dim>>      points;
      std::vector<double>          weights;
      std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
      if (root)
        {
          points  = snapshot.points;
          weights = snapshot.weights;
        }
      const std::uint64_t outside = Utilities::MPI::sum<std::uint64_t>(
          locator.locate(points, weights, 1, cells).size(), mpi_communicator);
      EnsembleDistances d =
          comparison->compare(*density_solver, density, points, weights, cells, outside);
      d.time     = snapshot.time;
      d.ensemble = snapshot.source;
      if (!regions->empty())
        regions->add_fractions(d, points, weights, region_masses, density.mass, d.time);
      snapshot_distances.push_back(d);

      const auto row = distance_row(d, dim);
      if (compare_file)
        {
          for (std::size_t c = 0; c < row.size(); ++c)
            *compare_file << (c ? "," : "") << row[c];
          *compare_file << std::endl;
        }
      pcout << "  compared " << d.ensemble << " at t = " << d.time << std::endl;
    }
  run_timing.distance_seconds += MPI_Wtime() - start;
}

template <int dim>
void Simulation<dim>::run()
{
  try
    {
      // The schedule decides where the steps go (TimeSchedule): fixed steps write at
      // the first step that reaches each output time, variable ones land on it; all
      // land exactly on the end time and on the times of ensembles to compare.
      const double end_time = parameters.time.end_time;
      const double interval =
          parameters.output.interval > 0 ? parameters.output.interval : end_time;
      pcout << "  time:   to T = " << end_time << ", first step " << density_solver->time_step()
            << (density_solver->adjustable_time_step() ? " (CFL-limited)" : "") << ", output every "
            << interval << std::endl;

      const double loop_start     = MPI_Wtime();
      double       output_seconds = 0;
      const auto   output         = [&](const unsigned int step, const unsigned int iterations) {
        const double t0 = MPI_Wtime(), distances0 = run_timing.distance_seconds;
        write_output(step, iterations);
        output_seconds += MPI_Wtime() - t0 - (run_timing.distance_seconds - distances0);
      };
      output(0, 0);
      if (next_snapshot < snapshots.size() && schedule->reached(snapshots[next_snapshot].time))
        compare_snapshots();
      unsigned int iterations = 0, total_iterations = 0;
      while (!schedule->at_end())
        {
          const double dt = schedule->step(density_solver->time_step());
          for (unsigned int k = 0; k < ensembles.size(); ++k)
            if (particle_stride[k] == 1)
              ensembles[k]->prepare_step(density_solver.get());
          iterations += density_solver->advance(dt);
          schedule->advance(dt);
          density_solver->set_time(schedule->time());
          for (unsigned int k = 0; k < ensembles.size(); ++k)
            {
              pending_time[k] += dt;
              if (++pending_steps[k] == particle_stride[k])
                {
                  ensembles[k]->advance(pending_time[k], density_solver.get());
                  pending_steps[k] = 0;
                  pending_time[k]  = 0;
                }
            }
          if (next_snapshot < snapshots.size() && schedule->reached(snapshots[next_snapshot].time))
            compare_snapshots();
          if (schedule->output_due())
            {
              output(schedule->step_number(), iterations);
              total_iterations += iterations;
              iterations = 0;
            }
        }
      const unsigned int step      = schedule->step_number();
      const unsigned int n_steps   = std::max(step, 1u);
      run_timing.n_steps           = step;
      run_timing.linear_iterations = total_iterations;
      run_timing.output_seconds    = output_seconds;
      run_timing.solve_seconds =
          MPI_Wtime() - loop_start - output_seconds - run_timing.distance_seconds;

      const double solve_seconds = run_timing.solve_seconds;
      pcout << std::scientific << std::setprecision(3) << "timing: setup "
            << run_timing.setup_seconds << " s; " << step << " steps in " << solve_seconds << " s ("
            << solve_seconds / n_steps << " s/step, " << double(total_iterations) / n_steps
            << " linear iterations/step, "
            << double(density_solver->n_dofs()) * n_steps / solve_seconds
            << " DoF-steps/s); distances " << run_timing.distance_seconds
            << " s; output and diagnostics " << output_seconds << " s; total "
            << MPI_Wtime() - start_time << " s" << std::endl
            << "solver: " << density_solver->description() << std::endl;
      if (!particle_distances.empty())
        {
          // The particle systems against rho_h at the end time.
          pcout << "particles against the density at t = " << density_solver->time() << ":"
                << std::endl;
          if (pcout.is_active())
            print_distance_table(
                pcout.get_stream(),
                {particle_distances.end() - ensembles.size(), particle_distances.end()},
                dim,
                regions->names());
        }
      if (!snapshot_distances.empty())
        {
          pcout << "ensembles against the density:" << std::endl;
          if (pcout.is_active())
            print_distance_table(pcout.get_stream(), snapshot_distances, dim, regions->names());
        }
      if (run_directory)
        {
          run_directory->mark_completed();
          const std::string &path = run_directory->path();
          pcout << "output: " << path << "/density.pvd (ParaView), " << path << "/diagnostics.csv";
          if (particle_output)
            pcout << ", " << path << "/particles.pvd";
          if (comparison_file)
            pcout << ", " << path << "/particles-vs-pde.csv";
          if (compare_file)
            pcout << ", " << path << "/compare.csv";
          if (grid_output)
            pcout << ", " << path << "/grid.json (NumPy grid)";
          pcout << std::endl;
        }
    }
  catch (const std::exception &e)
    {
      if (run_directory)
        {
          const std::string note = run_directory->mark_failed(e.what());
          if (!note.empty())
            pcout << note << std::endl;
        }
      throw;
    }
}

template <int dim>
const Diagnostics &Simulation<dim>::diagnostics() const
{
  return *diagnostics_;
}

template <int dim>
const std::vector<EnsembleDistances> &Simulation<dim>::ensemble_distances() const
{
  return snapshot_distances;
}

template <int dim>
const std::vector<EnsembleDistances> &Simulation<dim>::distances() const
{
  return particle_distances;
}

template <int dim>
const RunTiming &Simulation<dim>::timing() const
{
  return run_timing;
}

template <int dim>
const DensitySolver<dim> &Simulation<dim>::solver() const
{
  return *density_solver;
}

template <int dim>
const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &Simulation<dim>::particle_systems() const
{
  return ensembles;
}

template <int dim>
const Mesh<dim> &Simulation<dim>::mesh() const
{
  return *mesh_;
}

namespace
{
template <int dim>
void compare_in(const ProblemParameters         &parameters,
                const std::vector<EnsembleFile> &files,
                const MPI_Comm                   communicator,
                std::ostream                    &log)
{
  std::vector<EnsembleSnapshot<dim>> snapshots;
  for (const EnsembleFile &file : files)
    for (auto &s : read_ensembles<dim>(file.file, file.time, parameters.time.end_time))
      snapshots.push_back(std::move(s));
  // The problem's own particles have no part in comparing other codes' ensembles, and
  // the output has a folder of its own: a plain run's files in Output/Directory stay.
  ProblemParameters without_particles = parameters;
  without_particles.particles.number  = 0;
  without_particles.output.directory  = parameters.output_directory() + "/compare";
  Simulation<dim> simulation(without_particles, communicator, log);
  simulation.compare_ensembles(std::move(snapshots));
  simulation.run();
}
} // namespace

void compare_problem(const ProblemParameters         &parameters,
                     const std::vector<EnsembleFile> &files,
                     const MPI_Comm                   communicator,
                     std::ostream                    &log)
{
  if (files.empty())
    throw InputError("compare needs ensembles: --particles FILE...");
  switch (parameters.dimension)
    {
      case 1:
        compare_in<1>(parameters, files, communicator, log);
        break;
      case 2:
        compare_in<2>(parameters, files, communicator, log);
        break;
      default:
        compare_in<3>(parameters, files, communicator, log);
    }
}

void run_problem(const ProblemParameters &parameters,
                 const MPI_Comm           communicator,
                 std::ostream            &log)
{
  switch (parameters.dimension)
    {
      case 1:
        Simulation<1>(parameters, communicator, log).run();
        break;
      case 2:
        Simulation<2>(parameters, communicator, log).run();
        break;
      case 3:
        Simulation<3>(parameters, communicator, log).run();
        break;
      default:
        throw InputError("Dimension = " + std::to_string(parameters.dimension) +
                         " must be 1, 2 or 3.");
    }
}

template class Simulation<1>;
template class Simulation<2>;
template class Simulation<3>;
} // namespace densityflow
