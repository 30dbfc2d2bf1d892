#include <densityflow/base/mpi_gather.h>
#include <densityflow/base/random.h>
#include <densityflow/distances/piecewise_density_1d.h>
#include <densityflow/distances/sliced.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace densityflow
{
namespace
{
/** Whether all the points of @p flat have one weight. */
bool of_one_weight(const FlatPoints &flat)
{
  return std::all_of(
      flat.w.begin(), flat.w.end(), [&](const double w) { return w == flat.w.front(); });
}

/**
 * The weighted points of @p flat projected onto @p theta, sorted, of unit mass. Where
 * @p one_weight (of_one_weight()), the positions alone are sorted: the same atoms.
 */
template <int dim>
void project(const FlatPoints  &flat,
             const double      *theta,
             const bool         one_weight,
             std::vector<Atom> &atoms,
             SortWorkspace     &sort)
{
  const std::size_t n = flat.w.size();
  atoms.resize(n);
  if (one_weight)
    {
      std::vector<double> &positions = sort.positions;
      positions.resize(n);
      for (std::size_t k = 0; k < n; ++k)
        {
          double p = 0;
          for (unsigned int d = 0; d < dim; ++d)
            p += theta[d] * flat.x[k * dim + d];
          positions[k] = p;
        }
      sort_positions(positions, sort);
      // normalise_atoms() fused into the copy: n equal weights sum to the same total in
      // any order, so this is its arithmetic, in one pass over the atoms instead of two.
      double total = 0;
      for (std::size_t k = 0; k < n; ++k)
        total += flat.w[k];
      for (std::size_t k = 0; k < n; ++k)
        atoms[k] = {positions[k], flat.w[k] / total};
      return;
    }
  else
    {
      for (std::size_t k = 0; k < n; ++k)
        {
          double p = 0;
          for (unsigned int d = 0; d < dim; ++d)
            p += theta[d] * flat.x[k * dim + d];
          atoms[k] = {p, flat.w[k]};
        }
      sort_atoms(atoms, sort);
    }
  normalise_atoms(atoms);
}

/** rho_h's atoms projected onto @p theta, sorted, of unit mass, and their positive part
    (for W2) in the same order. */
template <int dim>
void project_density(const FlatPoints &density, const double *theta, ProjectionWorkspace &work)
{
  std::vector<Atom> &b = work.density, &b_positive = work.density_positive;
  b.resize(density.w.size()), b_positive.resize(density.w.size());
  for (std::size_t k = 0; k < density.w.size(); ++k)
    {
      double p = 0;
      for (unsigned int d = 0; d < dim; ++d)
        p += theta[d] * density.x[k * dim + d];
      b[k] = {p, density.w[k]};
    }
  sort_atoms(b, work.sort);
  // Both normalisations (normalise_atoms(): totals summed in this order) in two passes
  // instead of five.
  double total = 0, total_positive = 0;
  for (std::size_t k = 0; k < b.size(); ++k)
    {
      b_positive[k] = {b[k].first, std::max(b[k].second, 0.0)};
      total += b[k].second;
      total_positive += b_positive[k].second;
    }
  for (std::size_t k = 0; k < b.size(); ++k)
    {
      b[k].second /= total;
      b_positive[k].second /= total_positive;
    }
}

/** A sliced estimate: the mean over the directions and its standard error. */
struct SlicedMean
{
  double value, error;
};

SlicedMean slice_mean(const std::vector<double> &samples)
{
  const unsigned int P = samples.size();
  double             m = 0, s = 0;
  for (const double e : samples)
    m += e / P;
  for (const double e : samples)
    s += (e - m) * (e - m);
  return {m, P > 1 ? std::sqrt(s / (P - 1) / P) : 0.0};
}
} // namespace

template <int dim>
FlatPoints gather_on_root(const std::vector<Point<dim>> &points,
                          const std::vector<double>     *weights,
                          const MPI_Comm                 communicator)
{
  std::vector<double> local;
  for (std::size_t k = 0; k < points.size(); ++k)
    {
      for (unsigned int d = 0; d < dim; ++d)
        local.push_back(points[k][d]);
      local.push_back(weights != nullptr ? (*weights)[k] : 1.0);
    }
  // Raw MPI: Utilities::MPI::gather serialises and compresses, seconds for 1e6 points.
  const std::vector<double> all = gather_concatenated(local, communicator);
  FlatPoints                flat;
  for (std::size_t k = 0; k < all.size(); k += dim + 1)
    {
      flat.x.insert(flat.x.end(), all.begin() + k, all.begin() + k + dim);
      flat.w.push_back(all[k + dim]);
    }
  return flat;
}

ProjectedResults line_distances(const FlatPoints              &density,
                                const PiecewiseDensity1D      &piecewise,
                                const std::vector<FlatPoints> &ensembles,
                                ProjectionWorkspace           &workspace)
{
  ProjectedResults results;
  results.ensembles.resize(ensembles.size());
  const double theta[1] = {1.0};
  project_density<1>(density, theta, workspace);
  results.mean_pair_distance = mean_pair_distance_sorted(workspace.density);
  std::vector<Atom> &a       = workspace.points;
  for (std::size_t s = 0; s < ensembles.size(); ++s)
    {
      if (ensembles[s].w.empty())
        continue;
      project<1>(ensembles[s], theta, of_one_weight(ensembles[s]), a, workspace.sort);
      ProjectedDistances &r           = results.ensembles[s];
      r.energy_distance               = energy_distance_sorted(a, workspace.density);
      r.energy_distance_slicing_error = 0;
      // Each normalises a again, as it always has (the last bits of W1 and W2).
      r.w1 = piecewise.wasserstein_power(a, 1, workspace.sort);
      r.w2 = std::sqrt(piecewise.wasserstein_power(a, 2, workspace.sort));
    }
  return results;
}

template <int dim>
ProjectedResults sliced_distances(const FlatPoints              &density,
                                  const std::vector<FlatPoints> &ensembles,
                                  const unsigned int             projections,
                                  const std::uint64_t            seed,
                                  ProjectionWorkspace           &workspace)
{
  const std::size_t                S = ensembles.size();
  const unsigned int               P = projections;
  const ParticleRandom             random(seed);
  std::vector<std::vector<double>> energy(S, std::vector<double>(P)), w2(S, std::vector<double>(P));
  std::vector<Atom>               &a    = workspace.points;
  double                           pair = 0;
  std::vector<bool>                one_weight(S);
  for (std::size_t s = 0; s < S; ++s)
    one_weight[s] = of_one_weight(ensembles[s]);
  for (unsigned int k = 0; k < P; ++k)
    {
      double theta[4];
      random.normals(k, 0, 0, theta);
      double norm = 0;
      for (unsigned int d = 0; d < dim; ++d)
        norm += theta[d] * theta[d];
      for (unsigned int d = 0; d < dim; ++d)
        theta[d] /= std::sqrt(norm);
      project_density<dim>(density, theta, workspace);
      pair += mean_pair_distance_sorted(workspace.density) / P;
      for (std::size_t s = 0; s < S; ++s)
        if (!ensembles[s].w.empty())
          {
            project<dim>(ensembles[s], theta, one_weight[s], a, workspace.sort);
            energy[s][k] = energy_distance_sorted(a, workspace.density);
            w2[s][k]     = wasserstein_sorted(a, workspace.density_positive, 2);
          }
    }
  // E_d = c_d E_theta[E_1D], c_d = sqrt(pi) Gamma((d+1)/2) / Gamma(d/2).
  const double     c_d = std::sqrt(M_PI) * std::tgamma((dim + 1) / 2.0) / std::tgamma(dim / 2.0);
  ProjectedResults results;
  results.ensembles.resize(S);
  results.mean_pair_distance = c_d * pair;
  for (std::size_t s = 0; s < S; ++s)
    if (!ensembles[s].w.empty())
      {
        const SlicedMean    e = slice_mean(energy[s]), m2 = slice_mean(w2[s]);
        ProjectedDistances &r           = results.ensembles[s];
        r.energy_distance               = c_d * e.value;
        r.energy_distance_slicing_error = c_d * e.error;
        r.sliced_w2                     = std::sqrt(m2.value);
        r.sliced_w2_slicing_error       = m2.value > 0 ? m2.error / (2 * std::sqrt(m2.value)) : 0;
      }
  return results;
}

void broadcast_from_root(ProjectedResults &results,
                         const std::size_t n_ensembles,
                         const MPI_Comm    communicator)
{
  static_assert(std::is_trivially_copyable_v<ProjectedDistances>);
  results.ensembles.resize(n_ensembles);
  const int ierr = MPI_Bcast(results.ensembles.data(),
                             static_cast<int>(n_ensembles * sizeof(ProjectedDistances)),
                             MPI_BYTE,
                             0,
                             communicator);
  AssertThrowMPI(ierr);
  results.mean_pair_distance =
      Utilities::MPI::broadcast(communicator, results.mean_pair_distance, 0);
}

template FlatPoints
gather_on_root(const std::vector<Point<1>> &, const std::vector<double> *, const MPI_Comm);
template FlatPoints
gather_on_root(const std::vector<Point<2>> &, const std::vector<double> *, const MPI_Comm);
template FlatPoints
gather_on_root(const std::vector<Point<3>> &, const std::vector<double> *, const MPI_Comm);
template ProjectedResults sliced_distances<2>(const FlatPoints &,
                                              const std::vector<FlatPoints> &,
                                              const unsigned int,
                                              const std::uint64_t,
                                              ProjectionWorkspace &);
template ProjectedResults sliced_distances<3>(const FlatPoints &,
                                              const std::vector<FlatPoints> &,
                                              const unsigned int,
                                              const std::uint64_t,
                                              ProjectionWorkspace &);
} // namespace densityflow
