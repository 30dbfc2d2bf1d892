#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/simulation/simulation.h>

namespace densityflow
{
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
    snapshot_distance_csv = std::make_unique<DistanceCsv>(
        run_directory->path() + "/compare.csv", dim, regions->names(), mpi_communicator);
}

template <int dim>
void Simulation<dim>::compare_due_snapshots()
{
  if (next_snapshot >= snapshots.size() || !schedule->reached(snapshots[next_snapshot].time))
    return;
  TimerOutput::Scope           scope(timer, "distances");
  const DensityStatistics<dim> density = density_solver->statistics(nullptr);
  const std::vector<double>    masses  = regions->masses(*density_solver);
  const bool                   root    = Utilities::MPI::this_mpi_process(mpi_communicator) == 0;
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
          mesh_->point_locator().locate(points, weights, 1, cells).size(), mpi_communicator);
      EnsembleDistances d =
          comparison->compare(*density_solver, density, points, weights, cells, outside);
      d.time     = snapshot.time;
      d.ensemble = snapshot.source;
      if (!regions->empty())
        regions->add_fractions(d, points, weights, masses, density.mass, d.time);
      snapshot_distances.push_back(d);
      if (snapshot_distance_csv)
        snapshot_distance_csv->add(d);
      pcout << "  compared " << d.ensemble << " at t = " << d.time << std::endl;
    }
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
  ProblemParameters without_particles   = parameters;
  without_particles.particles.number    = 0;
  without_particles.output.directory    = parameters.output_directory() + "/compare";
  without_particles.checkpoint.interval = 0; // a comparison is not continued
  if (parameters.adaptivity.enabled())
    {
      // The ensembles' points are located in cells once, so the mesh may not change.
      without_particles.adaptivity.interval = 0;
      if (Utilities::MPI::this_mpi_process(communicator) == 0)
        log << "compare: Mesh/Adaptivity is not used: the density is solved on the uniform "
               "mesh of Mesh/Refinement."
            << std::endl;
    }
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

template void Simulation<1>::compare_ensembles(std::vector<EnsembleSnapshot<1>>);
template void Simulation<2>::compare_ensembles(std::vector<EnsembleSnapshot<2>>);
template void Simulation<3>::compare_ensembles(std::vector<EnsembleSnapshot<3>>);
template void Simulation<1>::compare_due_snapshots();
template void Simulation<2>::compare_due_snapshots();
template void Simulation<3>::compare_due_snapshots();
} // namespace densityflow
