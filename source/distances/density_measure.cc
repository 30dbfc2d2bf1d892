#include <densityflow/base/mpi_gather.h>
#include <densityflow/base/random.h>
#include <densityflow/distances/density_measure.h>
#include <densityflow/distances/piecewise_density_1d.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/sampling.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>

#include <algorithm>
#include <utility>

namespace densityflow
{
namespace
{
/** The floor's random numbers: Distances/Seed, id k N + i, this step (the directions use 0). */
constexpr std::uint64_t floor_step = std::uint64_t(1) << 62;

/** The ancestor of @p cell at @p level (the cell itself where it is coarser). */
template <int dim>
std::string ancestor_id(typename Triangulation<dim>::cell_iterator cell, const unsigned int level)
{
  while (static_cast<unsigned int>(cell->level()) > level)
    cell = cell->parent();
  return cell->id().to_string();
}
} // namespace

template <int dim>
DensityMeasure<dim>::DensityMeasure(const DensitySolver<dim> &solver,
                                    const unsigned int        quadrature_points,
                                    const MPI_Comm            communicator)
    : solver(&solver)
    , time(solver.time())
    , quadrature_points(quadrature_points)
{
  solver.quadrature_measure(quadrature_points, cells, atoms, atom_weights);
  per_cell = atoms.size() / std::max<std::size_t>(cells.size(), 1);
  double M = 0;
  for (const double w : atom_weights)
    M += w;
  mass = Utilities::MPI::sum(M, communicator);
  make_bins(communicator);
  gather_atoms_on_root(communicator);
}

template <int dim>
DensityMeasure<dim>::~DensityMeasure() = default;

template <int dim>
void DensityMeasure<dim>::make_bins(const MPI_Comm communicator)
{
  // Every ancestor of this rank's cells at every level, with its mass here; the same
  // merged list on every rank.
  unsigned int max_level = 0;
  for (const auto &cell : cells)
    max_level = std::max<unsigned int>(max_level, cell->level());
  max_level = Utilities::MPI::max(max_level, communicator);
  std::vector<std::map<std::string, double>> local(max_level + 1);
  for (std::size_t c = 0; c < cells.size(); ++c)
    {
      double m = 0;
      for (unsigned int q = 0; q < per_cell; ++q)
        m += atom_weights[c * per_cell + q];
      typename Triangulation<dim>::cell_iterator cell = cells[c];
      for (int l = max_level; l >= 0; --l)
        {
          if (cell->level() > l)
            cell = cell->parent();
          local[l][cell->id().to_string()] += m;
        }
    }
  std::vector<std::string>  local_ids;
  std::vector<double>       local_masses;
  std::vector<unsigned int> local_levels;
  for (unsigned int l = 0; l <= max_level; ++l)
    for (const auto &[id, m] : local[l])
      {
        local_ids.push_back(id);
        local_masses.push_back(m);
        local_levels.push_back(l);
      }
  const auto all_ids    = Utilities::MPI::all_gather(communicator, local_ids);
  const auto all_masses = Utilities::MPI::all_gather(communicator, local_masses);
  const auto all_levels = Utilities::MPI::all_gather(communicator, local_levels);
  bin_mass.resize(max_level + 1);
  for (unsigned int r = 0; r < all_ids.size(); ++r)
    for (std::size_t k = 0; k < all_ids[r].size(); ++k)
      bin_mass[all_levels[r][k]][all_ids[r][k]] += all_masses[r][k];
}

template <int dim>
void DensityMeasure<dim>::gather_atoms_on_root(const MPI_Comm communicator)
{
  std::vector<double> local_atoms, local_intervals;
  for (std::size_t k = 0; k < atoms.size(); ++k)
    {
      for (unsigned int d = 0; d < dim; ++d)
        local_atoms.push_back(atoms[k][d]);
      local_atoms.push_back(atom_weights[k]);
    }
  if (dim == 1)
    for (const auto &cell : cells)
      {
        local_intervals.push_back(cell->vertex(0)[0]);
        local_intervals.push_back(cell->vertex(1)[0]);
      }
  // Raw MPI: Utilities::MPI::gather serialises and compresses, seconds for 1e6 atoms.
  const std::vector<double> all_atoms     = gather_concatenated(local_atoms, communicator);
  const std::vector<double> all_intervals = gather_concatenated(local_intervals, communicator);
  if (Utilities::MPI::this_mpi_process(communicator) != 0)
    return;
  std::vector<double> &y = root_atoms.x, &v = root_atoms.w;
  for (std::size_t k = 0; k < all_atoms.size(); k += dim + 1)
    {
      y.insert(y.end(), all_atoms.begin() + k, all_atoms.begin() + k + dim);
      v.push_back(all_atoms[k + dim]);
    }
  if (dim == 1)
    {
      // Exact Wasserstein distances against the piecewise density.
      std::vector<std::pair<double, double>> intervals;
      std::vector<double>                    rho;
      const QGauss<1>                        gauss(per_cell);
      std::size_t                            atom = 0;
      for (std::size_t k = 0; k < all_intervals.size(); k += 2)
        {
          const double a = all_intervals[k], b = all_intervals[k + 1];
          intervals.emplace_back(a, b);
          for (unsigned int q = 0; q < per_cell; ++q, ++atom)
            rho.push_back(v[atom] / ((b - a) * gauss.weight(q)));
        }
      piecewise = std::make_unique<PiecewiseDensity1D>(intervals, rho, per_cell);
    }
}

template <int dim>
unsigned int DensityMeasure<dim>::level_for(const std::uint64_t N) const
{
  const double target = std::min(double(N) / DistanceParameters::histogram_bin_fraction, 20.0);
  unsigned int level  = 0;
  for (unsigned int l = 0; l < bin_mass.size(); ++l)
    {
      double sum = 0;
      for (const auto &[id, m] : bin_mass[l])
        sum += (m / mass) * (m / mass);
      if (l > 0 && !(1 / sum <= target))
        break;
      level = l;
    }
  return level;
}

template <int dim>
const std::vector<unsigned int> &DensityMeasure<dim>::bins(const unsigned int level) const
{
  auto &b = bin_of_cell[level];
  if (b.size() != cells.size())
    {
      std::map<std::string, unsigned int> index;
      for (const auto &[id, m] : bin_mass[level])
        index.emplace(id, index.size());
      b.clear();
      for (const auto &cell : cells)
        b.push_back(index.at(ancestor_id<dim>(cell, level)));
    }
  return b;
}

template <int dim>
std::vector<double> DensityMeasure<dim>::bin_probabilities(const unsigned int level) const
{
  std::vector<double> p;
  for (const auto &[id, m] : bin_mass[level])
    p.push_back(m / mass);
  return p;
}

namespace
{
/**
 * rho_h as @p measure sees it, as a CellDensity: its values at the Gauss points (the
 * atoms' weights over JxW), interpolated by the tensor polynomial through them. This is
 * rho_h itself where rho_h is a polynomial of degree < m per direction (transport) and
 * within O(h^(p+2)) of it otherwise, and is evaluated without setting up finite-element
 * values per call, which would cost more than all the distances.
 */
template <int dim>
CellDensity<dim> interpolated_density(const DensityMeasure<dim> &measure,
                                      const Mapping<dim>        &mapping)
{
  const unsigned int  m = measure.quadrature_points, per_cell = measure.per_cell;
  const QGauss<1>     gauss(m);
  std::vector<double> nodes(m), denominator(m, 1.0);
  for (unsigned int j = 0; j < m; ++j)
    nodes[j] = gauss.point(j)[0];
  for (unsigned int j = 0; j < m; ++j)
    for (unsigned int k = 0; k < m; ++k)
      if (k != j)
        denominator[j] *= nodes[j] - nodes[k];
  std::vector<double> rho_values(measure.atom_weights.size());
  std::vector<int>    local_index;
  if (!measure.cells.empty())
    {
      local_index.assign(measure.cells[0]->get_triangulation().n_active_cells(), -1);
      const FE_Q<dim> fe(1);
      FEValues<dim>   fe_values(mapping, fe, QGauss<dim>(m), update_JxW_values);
      for (std::size_t c = 0; c < measure.cells.size(); ++c)
        {
          local_index[measure.cells[c]->active_cell_index()] = c;
          fe_values.reinit(measure.cells[c]);
          for (unsigned int q = 0; q < per_cell; ++q)
            rho_values[c * per_cell + q] =
                measure.atom_weights[c * per_cell + q] / fe_values.JxW(q);
        }
    }
  return [m,
          per_cell,
          nodes       = std::move(nodes),
          denominator = std::move(denominator),
          rho_values  = std::move(rho_values),
          local_index = std::move(local_index)](
             const auto &cell, const auto &unit_points, const auto &, auto &rho) {
    const double *v = &rho_values[local_index[cell->active_cell_index()] * per_cell];
    double        basis[3][8];
    rho.resize(unit_points.size());
    for (std::size_t p = 0; p < unit_points.size(); ++p)
      {
        for (unsigned int d = 0; d < dim; ++d)
          for (unsigned int j = 0; j < m; ++j)
            {
              double product = 1;
              for (unsigned int k = 0; k < m; ++k)
                if (k != j)
                  product *= unit_points[p][d] - nodes[k];
              basis[d][j] = product / denominator[j];
            }
        double value = 0;
        for (unsigned int q = 0; q < per_cell; ++q)
          {
            double weight = v[q];
            for (unsigned int d = 0, rest = q; d < dim; ++d, rest /= m)
              weight *= basis[d][rest % m];
            value += weight;
          }
        // An exact sample exists of the positive part only (negative parts are
        // reported as negative_mass in diagnostics.csv).
        rho[p] = std::max(value, 0.0);
      }
  };
}
} // namespace

template <int dim>
ExactSamples<dim> draw_exact_samples(const DensityMeasure<dim> &measure,
                                     const Mesh<dim>           &mesh,
                                     const std::uint64_t        seed,
                                     const unsigned int         n_samples,
                                     const std::uint64_t        n,
                                     const MPI_Comm             communicator)
{
  const CellDensity<dim> rho_h = interpolated_density(measure, mesh.mapping());
  const ParticleRandom   random(seed);
  DensitySample<dim>     sample;
  // A finite-element density may exceed the bound its values at the grid points give;
  // the sample is exact only with a true bound, so a larger one is tried.
  for (double factor = 1.25;; factor *= 2)
    {
      sample = sample_density(
          mesh.triangulation(), rho_h, random, n_samples * n, floor_step, communicator, factor);
      if (sample.bound_exceeded == 0)
        break;
      AssertThrow(factor < 100,
                  ExcMessage("Distances/Floor samples: rho_h exceeded the rejection bound of its "
                             "cell " +
                             std::to_string(sample.bound_exceeded) +
                             " times at t = " + std::to_string(measure.time)));
    }
  ExactSamples<dim> samples;
  samples.points.resize(n_samples);
  samples.cells.resize(n_samples);
  for (std::size_t k = 0; k < sample.ids.size(); ++k)
    {
      samples.points[sample.ids[k] / n].push_back(sample.points[k]);
      samples.cells[sample.ids[k] / n].push_back(sample.cells[k]);
    }
  return samples;
}

template struct DensityMeasure<1>;
template struct DensityMeasure<2>;
template struct DensityMeasure<3>;
template ExactSamples<1> draw_exact_samples(const DensityMeasure<1> &,
                                            const Mesh<1> &,
                                            const std::uint64_t,
                                            const unsigned int,
                                            const std::uint64_t,
                                            const MPI_Comm);
template ExactSamples<2> draw_exact_samples(const DensityMeasure<2> &,
                                            const Mesh<2> &,
                                            const std::uint64_t,
                                            const unsigned int,
                                            const std::uint64_t,
                                            const MPI_Comm);
template ExactSamples<3> draw_exact_samples(const DensityMeasure<3> &,
                                            const Mesh<3> &,
                                            const std::uint64_t,
                                            const unsigned int,
                                            const std::uint64_t,
                                            const MPI_Comm);
} // namespace densityflow
