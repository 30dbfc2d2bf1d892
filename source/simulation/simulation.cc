#include <densityflow/base/exceptions.h>
#include <densityflow/output/exit_times.h>
#include <densityflow/simulation/simulation.h>
#include <densityflow/solvers/solver_factory.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace densityflow
{
namespace
{
/** The seconds of a section of @p timer (0 if it never ran). */
double section_seconds(const TimerOutput &timer, const std::string &section)
{
  const auto times = timer.get_summary_data(TimerOutput::total_wall_time);
  const auto entry = times.find(section);
  return entry == times.end() ? 0 : entry->second;
}
} // namespace

template <int dim>
Simulation<dim>::Simulation(const ProblemParameters &parameters,
                            const MPI_Comm           communicator,
                            std::ostream            &log,
                            const std::string       &restart)
    : parameters(parameters)
    , mpi_communicator(communicator)
    , restart_directory(restart)
    , output_path(restart.empty() ? parameters.output_directory() : restart)
    , pcout(log, Utilities::MPI::this_mpi_process(communicator) == 0)
    , timer(pcout, TimerOutput::never, TimerOutput::wall_times)
{
  try
    {
      TimerOutput::Scope scope(timer, "setup");
      set_up();
    }
  catch (const std::exception &e)
    {
      mark_failed(e);
      throw;
    }
}

template <int dim>
void Simulation<dim>::mark_failed(const std::exception &error) const
{
  if (run_directory)
    {
      const std::string note = run_directory->mark_failed(error.what());
      if (!note.empty())
        pcout << note << std::endl;
    }
}

template <int dim>
void Simulation<dim>::set_up()
{
  // Every input is checked before the output folder is touched: a run that stops on bad
  // input leaves an earlier run's results as they are.
  pcout << "densityflow: problem '" << parameters.name << "', " << dim << "D, "
        << Utilities::MPI::n_mpi_processes(mpi_communicator) << " MPI rank(s)" << std::endl;
  if (parameters.adaptivity.enabled() && !parameters.output.grid.empty())
    throw InputError("Mesh/Adaptivity/Interval: Output/Grid locates its points in cells once and "
                     "does not yet work on adaptive meshes; leave Output/Grid empty, or set "
                     "Mesh/Adaptivity/Interval = 0 (a uniform mesh).");
  // A restart checks the checkpoint against the parameters first: an adapted mesh is
  // loaded from it in place of the problem file's refinement.
  const bool        resume     = !restart_directory.empty();
  const std::string checkpoint = resume ? check_restart_metadata() : "";
  mesh_                        = std::make_unique<Mesh<dim>>(
      parameters.mesh,
      parameters.discretization.degree,
      mpi_communicator,
      resume && parameters.adaptivity.enabled() ? checkpoint + "/mesh" : "",
      parameters.adaptivity.enabled());
  physics = std::make_unique<Physics<dim>>(parameters.physics, parameters.constants);
  if (!parameters.velocity_grid.file.empty())
    physics->set_velocity(read_velocity_grid(
        parameters.velocity_grid, mesh_->bounding_box(), parameters.time.end_time));
  initial_density = std::make_unique<Expression<dim>>(
      parameters.initial_density, physics->constants(), "Initial density/Expression");
  if (!parameters.exact_solution.empty())
    exact_solution = std::make_unique<Expression<dim>>(
        parameters.exact_solution, physics->constants(), "Exact solution/Expression");
  pcout << "  mesh:   " << mesh_->description() << std::endl;
  regions = std::make_unique<Regions<dim>>(
      parameters.regions.regions, physics->constants(), *mesh_, parameters.discretization.degree);

  // The loaded mesh is already adapted: no initial cycles on rho0 (whose projection the
  // checkpoint's density replaces).
  AdaptivityParameters adaptivity = parameters.adaptivity;
  if (resume)
    adaptivity.initial_cycles = 0;
  density_solver = create_density_solver(*mesh_,
                                         *physics,
                                         parameters.discretization,
                                         parameters.time,
                                         parameters.linear_solver,
                                         parameters.path,
                                         parameters.interaction,
                                         AbsorbingWalls<dim>(parameters.absorbing_walls, *mesh_),
                                         adaptivity);
  pcout << "  solver: " << density_solver->description() << std::endl;
  for (const std::string &note : density_solver->notes())
    pcout << "          " << note << std::endl;
  const double factor = density_solver->set_initial_density(*initial_density);
  pcout << "  initial density normalised to unit mass by the factor " << std::setprecision(10)
        << factor << std::endl;

  const bool fixed_steps = !density_solver->adjustable_time_step();
  schedule               = std::make_unique<TimeSchedule>(parameters.time.end_time,
                                            density_solver->time_step(),
                                            fixed_steps ? parameters.time.n_steps() : 0,
                                            parameters.output.interval,
                                            parameters.particles.output_interval);
  const AbsorbingWalls<dim> walls(parameters.absorbing_walls, *mesh_);
  particles = std::make_unique<ParticleSystems<dim>>(
      parameters.particles, *mesh_, *physics, *initial_density, &parameters.interaction, &walls);
  particles->set_up_steps(density_solver->time_step(), !fixed_steps, *schedule, pcout);
  if (parameters.adaptivity.enabled())
    particles->weigh_cells(*mesh_, parameters.adaptivity.particle_weight);

  // The grid's counts are checked (and its points located) with the other inputs; it
  // writes into the run's folder, which exists from the first output on.
  if (!parameters.output.grid.empty())
    {
      grid_output = std::make_unique<GridOutput<dim>>(
          *mesh_, parameters.output.grid, parameters.output_directory(), mpi_communicator);
      if (grid_output->n_outside() > 0)
        pcout << "  grid:   " << grid_output->n_outside()
              << " grid points in no cell of the mesh (NaN in grid_*.npy)" << std::endl;
      if (!parameters.output.write_files)
        grid_output.reset();
    }

  if (resume || parameters.checkpoint.interval > 0)
    check_checkpoint_support();
  if (resume)
    check_restart(checkpoint);

  if (parameters.output.write_files)
    {
      run_directory = std::make_unique<RunDirectory>(
          output_path, parameters.output.keep_previous, mpi_communicator, resume);
      run_directory->write_file("parameters.prm", parameters.effective_parameters);
      if (resume)
        truncate_output(checkpoint);
      else if (parameters.checkpoint.interval > 0)
        CheckpointFolder(output_path).remove(mpi_communicator); // an earlier run's
    }
  const std::string        csv = run_directory ? run_directory->path() + "/diagnostics.csv" : "";
  std::vector<std::string> extra_columns = density_solver->extra_columns();
  for (const std::string &column : ExitTimes<dim>(particles->systems()).columns())
    extra_columns.push_back(column);
  diagnostics_ = std::make_unique<Diagnostics>(
      dim, csv, mpi_communicator, regions->names(), extra_columns, resume);
  if (run_directory)
    density_output = std::make_unique<DensityOutput<dim>>(run_directory->path(), mpi_communicator);
  if (!particles->empty())
    {
      comparison = std::make_unique<DensityComparison<dim>>(parameters.distances,
                                                            parameters.discretization.degree + 2,
                                                            mpi_communicator,
                                                            mesh_.get());
      if (run_directory)
        {
          particle_distance_csv =
              std::make_unique<DistanceCsv>(run_directory->path() + "/particles-vs-pde.csv",
                                            dim,
                                            regions->names(),
                                            mpi_communicator,
                                            resume);
          particle_output = std::make_unique<ParticleOutput<dim>>(
              run_directory->path(), parameters.particles.write_csv, mpi_communicator);
        }
    }
  if (resume)
    restore_checkpoint(checkpoint);
}

template <int dim>
Simulation<dim>::~Simulation() = default;

template <int dim>
void Simulation<dim>::run()
{
  try
    {
      const double end_time = parameters.time.end_time;
      const double interval =
          parameters.output.interval > 0 ? parameters.output.interval : end_time;
      pcout << "  time:   to T = " << end_time << ", first step " << density_solver->time_step()
            << (density_solver->adjustable_time_step() ? " (CFL-limited)" : "") << ", output every "
            << interval << std::endl;

      // The schedule decides where the steps go (TimeSchedule): fixed steps write at the
      // first step that reaches each output time, variable ones land on it; all land
      // exactly on the end time and on the times of ensembles to compare.
      // `compare` stops once the last ensemble is compared: the steps are still those of
      // the whole run (the schedule's grid is fixed by the end time), so every distance is
      // the one the whole run gives.
      const auto every_ensemble_compared = [this] {
        return !snapshots.empty() && next_snapshot == snapshots.size();
      };
      if (!restarted) // a restart continues after the checkpoint's outputs
        {
          write_output(0);
          compare_due_snapshots();
        }
      bool               written = true;
      const unsigned int every   = parameters.checkpoint.interval;
      while (!schedule->at_end() && !every_ensemble_compared())
        {
          const double dt = schedule->step(density_solver->time_step());
          advance(dt);
          compare_due_snapshots();
          written = schedule->output_due();
          if (written)
            write_output(schedule->step_number());
          if (every > 0 && schedule->step_number() % every == 0 && !schedule->at_end())
            write_checkpoint();
        }
      if (every > 0)
        write_checkpoint(); // the end, before the run is marked completed
      if (!schedule->at_end())
        {
          if (!written)
            write_output(schedule->step_number());
          pcout << "  stopped at t = " << schedule->time()
                << ": every ensemble is compared (Time/End time = " << end_time << " is not needed)"
                << std::endl;
        }
      report();
    }
  catch (const std::exception &e)
    {
      mark_failed(e);
      throw;
    }
}

template <int dim>
void Simulation<dim>::advance(const double dt)
{
  {
    TimerOutput::Scope scope(timer, "particles");
    particles->prepare_step(*density_solver);
  }
  {
    TimerOutput::Scope scope(timer, "solve");
    iterations_since_output += density_solver->advance(dt);
    schedule->advance(dt);
    density_solver->set_time(schedule->time());
  }
  TimerOutput::Scope scope(timer, "particles");
  particles->advance(dt, *density_solver);
}

template <int dim>
void Simulation<dim>::write_output(const unsigned int step)
{
  const double                 wall    = wall_clock.wall_time();
  const DensityStatistics<dim> density = write_density_output(step, wall);
  if (schedule->particle_output_due())
    write_particle_output(density);
  schedule->output_written();
  print_progress(step, density, wall);
  total_iterations += iterations_since_output;
  iterations_since_output = 0;
}

template <int dim>
DensityStatistics<dim> Simulation<dim>::write_density_output(const unsigned int step,
                                                             const double       wall)
{
  TimerOutput::Scope           scope(timer, "output");
  const DensityStatistics<dim> s = density_solver->statistics(exact_solution.get());
  region_masses                  = regions->masses(*density_solver);
  const ExitTimes<dim> exit_times(particles->systems());
  if (exit_times.empty())
    diagnostics_->add(schedule->time(), step, s, iterations_since_output, wall, region_masses);
  else
    {
      // The particles' exit columns follow the solver's own.
      DensityStatistics<dim>    row    = s;
      const std::vector<double> values = exit_times.values();
      row.extra.insert(row.extra.end(), values.begin(), values.end());
      diagnostics_->add(schedule->time(), step, row, iterations_since_output, wall, region_masses);
    }
  if (density_output)
    density_output->write(*density_solver, exact_solution.get());
  if (grid_output)
    grid_output->write(*density_solver);
  return s;
}

template <int dim>
void Simulation<dim>::write_particle_output(const DensityStatistics<dim> &density)
{
  if (comparison)
    {
      TimerOutput::Scope scope(timer, "distances");
      for (const auto &ensemble : particles->systems())
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
            regions->add_fractions(d,
                                   ensemble->positions(),
                                   weights,
                                   region_masses,
                                   density.mass,
                                   density_solver->time());
          particle_distances.push_back(d);
          if (particle_distance_csv)
            particle_distance_csv->add(d);
        }
    }
  if (particle_output)
    {
      TimerOutput::Scope scope(timer, "output");
      // Written where the cells' owners hold them; then the dynamics without cells run
      // faster spread evenly over the ranks again.
      for (auto &ensemble : particles->systems())
        ensemble->locate();
      particle_output->write(particles->systems(), *density_solver);
      for (auto &ensemble : particles->systems())
        ensemble->balance();
    }
}

template <int dim>
void Simulation<dim>::print_progress(const unsigned int            step,
                                     const DensityStatistics<dim> &s,
                                     const double                  wall)
{
  TimerOutput::Scope scope(timer, "output");
  std::ostringstream line;
  line << "  step " << std::setw(6) << step << "  t = " << std::setw(9) << std::setprecision(5)
       << std::fixed << density_solver->time() << std::scientific << std::setprecision(3)
       << "  mass-1 = " << std::setw(10) << s.mass - 1 << "  min = " << std::setw(10)
       << s.min_density << "  KL = " << std::setw(9) << s.relative_entropy;
  if (exact_solution)
    line << "  L2 error = " << s.l2_error;
  line << "  its = " << iterations_since_output << std::fixed << std::setprecision(2) << "  ("
       << wall << " s)";
  pcout << line.str() << std::endl;
  particles->print_progress(pcout);
}

template <int dim>
void Simulation<dim>::report()
{
  run_timing.n_steps           = schedule->step_number();
  run_timing.linear_iterations = total_iterations;
  run_timing.setup_seconds     = section_seconds(timer, "setup");
  run_timing.solve_seconds     = section_seconds(timer, "solve");
  run_timing.particle_seconds  = section_seconds(timer, "particles");
  run_timing.distance_seconds  = section_seconds(timer, "distances");
  run_timing.output_seconds    = section_seconds(timer, "output");
  run_timing.total_seconds     = wall_clock.wall_time();
  pcout << timing_summary(run_timing, density_solver->n_dofs()) << std::endl
        << "solver: " << density_solver->description() << std::endl;

  if (!particle_distances.empty())
    {
      // The particle systems against rho_h at the end time.
      pcout << "particles against the density at t = " << density_solver->time() << ":"
            << std::endl;
      if (pcout.is_active())
        print_distance_table(
            pcout.get_stream(),
            {particle_distances.end() - particles->systems().size(), particle_distances.end()},
            dim,
            regions->names());
    }
  if (!snapshot_distances.empty())
    {
      pcout << "ensembles against the density:" << std::endl;
      if (pcout.is_active())
        print_distance_table(pcout.get_stream(), snapshot_distances, dim, regions->names());
    }
  const ExitTimes<dim> exit_times(particles->systems());
  if (run_directory && !exit_times.empty())
    exit_times.write(run_directory->path() + "/exit_times.csv", mpi_communicator);
  if (run_directory)
    {
      run_directory->mark_completed();
      const std::string &path = run_directory->path();
      pcout << "output: " << path << "/density.pvd (ParaView), " << path << "/diagnostics.csv";
      if (particle_output)
        pcout << ", " << path << "/particles.pvd";
      if (particle_distance_csv)
        pcout << ", " << path << "/particles-vs-pde.csv";
      if (snapshot_distance_csv)
        pcout << ", " << path << "/compare.csv";
      if (!exit_times.empty())
        pcout << ", " << path << "/exit_times.csv";
      if (grid_output)
        pcout << ", " << path << "/grid.json (NumPy grid)";
      pcout << std::endl;
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
  return particles->systems();
}

template <int dim>
const Mesh<dim> &Simulation<dim>::mesh() const
{
  return *mesh_;
}

void run_problem(const ProblemParameters &parameters,
                 const MPI_Comm           communicator,
                 std::ostream            &log,
                 const std::string       &restart)
{
  switch (parameters.dimension)
    {
      case 1:
        Simulation<1>(parameters, communicator, log, restart).run();
        break;
      case 2:
        Simulation<2>(parameters, communicator, log, restart).run();
        break;
      case 3:
        Simulation<3>(parameters, communicator, log, restart).run();
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
