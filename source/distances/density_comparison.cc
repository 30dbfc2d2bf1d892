#include <densityflow/distances/density_comparison.h>
#include <densityflow/distances/density_measure.h>
#include <densityflow/distances/ensemble_sums.h>
#include <densityflow/distances/histogram.h>
#include <densityflow/distances/moments.h>
#include <densityflow/distances/piecewise_density_1d.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
template <int dim>
DensityComparison<dim>::DensityComparison(const DistanceParameters &parameters,
                                          const unsigned int        quadrature_points,
                                          const MPI_Comm            communicator,
                                          const Mesh<dim>          *mesh)
    : parameters(parameters)
    , n_quadrature(quadrature_points)
    , mpi_communicator(communicator)
    , mesh(mesh)
{}

template <int dim>
DensityComparison<dim>::~DensityComparison() = default;

template <int dim>
const DensityMeasure<dim> &
DensityComparison<dim>::density_measure(const DensitySolver<dim> &solver) const
{
  if (cached_measure && cached_measure->solver == &solver && cached_measure->time == solver.time())
    return *cached_measure;
  cached_floor.clear();
  cached_floor_size = 0;
  cached_measure    = std::make_unique<DensityMeasure<dim>>(solver, n_quadrature, mpi_communicator);
  return *cached_measure;
}

template <int dim>
ProjectedResults
DensityComparison<dim>::projected_distances(const DensityMeasure<dim>   &measure,
                                            const std::vector<PointSet> &sets) const
{
  // The one-dimensional problems are solved on rank 0, on all points: the same numbers
  // on any number of ranks.
  std::vector<FlatPoints> ensembles;
  for (const PointSet &set : sets)
    ensembles.push_back(gather_on_root(*set.points, set.weights, mpi_communicator));
  ProjectedResults results;
  if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
    {
      if constexpr (dim == 1)
        results = line_distances(measure.root_atoms, *measure.piecewise, ensembles, workspace);
      else
        results = sliced_distances<dim>(
            measure.root_atoms, ensembles, parameters.projections, parameters.seed, workspace);
    }
  broadcast_from_root(results, sets.size(), mpi_communicator);
  return results;
}

template <int dim>
std::vector<EnsembleDistances>
DensityComparison<dim>::distances_of(const DensitySolver<dim>     &solver,
                                     const DensityStatistics<dim> &density,
                                     const DensityMeasure<dim>    &measure,
                                     const std::vector<PointSet>  &sets,
                                     const std::uint64_t           n_bins_for,
                                     double                       &mean_pair_distance) const
{
  // Moments and bin counts of the weighted points, summed over the ranks at once.
  const unsigned int level = measure.level_for(n_bins_for);
  EnsembleSums<dim>  sums(sets.size(), measure.bin_mass[level].size());
  {
    // The bin of each of this rank's cells, by active cell index.
    std::vector<unsigned int> bin(
        measure.cells.empty() ? 0 : measure.cells[0]->get_triangulation().n_active_cells());
    const auto &bin_of_cell = measure.bins(level);
    for (std::size_t c = 0; c < measure.cells.size(); ++c)
      bin[measure.cells[c]->active_cell_index()] = bin_of_cell[c];
    for (std::size_t s = 0; s < sets.size(); ++s)
      for (std::size_t k = 0; k < sets[s].points->size(); ++k)
        {
          const double w = sets[s].weights != nullptr ? (*sets[s].weights)[k] : 1.0;
          sums.add_point(s, (*sets[s].points)[k], w);
          sums.add_to_bin(s, bin[(*sets[s].cells)[k]->active_cell_index()], w);
        }
  }
  sums.sum_over(mpi_communicator);
  const std::vector<double> bin_probability = measure.bin_probabilities(level);
  const ProjectedResults    projected       = projected_distances(measure, sets);

  std::vector<EnsembleDistances> results(sets.size());
  for (std::size_t s = 0; s < sets.size(); ++s)
    {
      EnsembleDistances &r = results[s];
      r.time               = solver.time();
      r.n_particles        = static_cast<std::uint64_t>(sums.count(s));
      if (r.n_particles == 0)
        continue;
      if (sums.weight(s) > 0)
        {
          const MomentErrors moments = moment_errors(sums, s, density.mean, density.covariance);
          const HistogramDistance histogram = histogram_total_variation(sums, s, bin_probability);
          r.mean_error                      = moments.mean_error;
          r.covariance_error                = moments.covariance_error;
          r.histogram_tv                    = histogram.total_variation;
          r.histogram_bins                  = histogram.bins;
        }
      const ProjectedDistances &p     = projected.ensembles[s];
      r.energy_distance               = p.energy_distance;
      r.energy_distance_slicing_error = p.energy_distance_slicing_error;
      r.w1                            = p.w1;
      r.w2                            = p.w2;
      r.sliced_w2                     = p.sliced_w2;
      r.sliced_w2_slicing_error       = p.sliced_w2_slicing_error;
    }
  mean_pair_distance = projected.mean_pair_distance;
  return results;
}

template <int dim>
const std::vector<EnsembleDistances> &
DensityComparison<dim>::floor_samples(const DensitySolver<dim>     &solver,
                                      const DensityStatistics<dim> &density,
                                      const DensityMeasure<dim>    &measure,
                                      const std::uint64_t           n) const
{
  if (cached_floor_size == n && !cached_floor.empty())
    return cached_floor;
  const unsigned int      K = parameters.floor_samples;
  const ExactSamples<dim> samples =
      draw_exact_samples(measure, *mesh, parameters.seed, K, n, mpi_communicator);
  std::vector<PointSet> sets;
  for (unsigned int k = 0; k < K; ++k)
    sets.push_back({&samples.points[k], nullptr, &samples.cells[k]});
  double mean_pair_distance;
  cached_floor      = distances_of(solver, density, measure, sets, n, mean_pair_distance);
  cached_floor_size = n;
  return cached_floor;
}

template <int dim>
void DensityComparison<dim>::add_noise_floor(EnsembleDistances            &result,
                                             const DensitySolver<dim>     &solver,
                                             const DensityStatistics<dim> &density,
                                             const DensityMeasure<dim>    &measure,
                                             const double                  mean_pair_distance,
                                             const std::uint64_t           n_effective) const
{
  const auto  &floor = floor_samples(solver, density, measure, n_effective);
  const double n     = n_effective;
  // Closed forms where there are: the mean error, the histogram TV's mean, and the energy
  // distance's mean E[E(mu_N, mu)] = E|Y - Y'| / N (sliced with the same directions in
  // 2D/3D); the exact samples' spread and the rest.
  result.mean_error_floor       = mean_error_floor(density.covariance, n);
  result.covariance_error_floor = monte_carlo_floor(floor, &EnsembleDistances::covariance_error);
  result.histogram_tv_floor     = monte_carlo_floor(floor, &EnsembleDistances::histogram_tv);
  result.histogram_tv_floor.value =
      histogram_tv_floor(measure.bin_probabilities(measure.level_for(n_effective)), n_effective);
  result.energy_distance_floor = monte_carlo_floor(floor, &EnsembleDistances::energy_distance);
  result.energy_distance_floor.value = mean_pair_distance / n;
  if (dim == 1)
    {
      result.w1_floor = monte_carlo_floor(floor, &EnsembleDistances::w1);
      result.w2_floor = monte_carlo_floor(floor, &EnsembleDistances::w2);
    }
  else
    result.sliced_w2_floor = monte_carlo_floor(floor, &EnsembleDistances::sliced_w2);
  set_verdict(result);
}

template <int dim>
void DensityComparison<dim>::add_carried_density_error(EnsembleDistances               &result,
                                                       const DensitySolver<dim>        &solver,
                                                       const std::vector<Point<dim>>   &points,
                                                       const std::vector<CellIterator> &cells,
                                                       const std::vector<double> &log_density) const
{
  double      worst = 0, sum = 0;
  std::size_t k = 0;
  while (k < points.size())
    {
      std::size_t end = k + 1;
      while (end < points.size() && cells[end] == cells[k])
        ++end;
      std::vector<double> rho;
      solver.density_at(
          cells[k], std::vector<Point<dim>>(points.begin() + k, points.begin() + end), rho);
      for (std::size_t i = k; i < end; ++i)
        {
          const double carried = std::exp(log_density[i]);
          const double error   = std::abs(carried - rho[i - k]) / carried;
          worst                = std::max(worst, error);
          sum += error;
        }
      k = end;
    }
  result.density_error_max  = Utilities::MPI::max(worst, mpi_communicator);
  result.density_error_mean = Utilities::MPI::sum(sum, mpi_communicator) / result.n_particles;
}

template <int dim>
EnsembleDistances DensityComparison<dim>::compare(const DensitySolver<dim>        &solver,
                                                  const DensityStatistics<dim>    &density,
                                                  const std::vector<Point<dim>>   &points,
                                                  const std::vector<double>       &weights,
                                                  const std::vector<CellIterator> &cells,
                                                  const std::uint64_t              outside,
                                                  const std::vector<double> *log_density) const
{
  const DensityMeasure<dim> &measure = density_measure(solver);
  // The floor is that of an equally weighted sample of the ensemble's effective size
  // (sum w)^2 / sum w^2 (Kish): N for equal weights.
  std::vector<double> sums = {0, 0};
  for (const double w : weights)
    sums[0] += w, sums[1] += w * w;
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  const std::uint64_t n_effective =
      sums[1] > 0 ? std::max<std::uint64_t>(1, std::llround(sums[0] * sums[0] / sums[1])) : 0;

  double            mean_pair_distance;
  EnsembleDistances result = distances_of(
      solver, density, measure, {{&points, &weights, &cells}}, n_effective, mean_pair_distance)[0];
  result.outside = outside;
  if (result.n_particles == 0 || !std::isfinite(result.mean_error))
    return result;
  if (mesh != nullptr && parameters.floor_samples >= 2 && n_effective > 0)
    add_noise_floor(result, solver, density, measure, mean_pair_distance, n_effective);
  if (log_density != nullptr)
    add_carried_density_error(result, solver, points, cells, *log_density);
  return result;
}

template class DensityComparison<1>;
template class DensityComparison<2>;
template class DensityComparison<3>;
} // namespace densityflow
