#include <densityflow/particles/sampling.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/grid/cell_id.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>

namespace densityflow
{
namespace
{
/** A cell's multilinear map from the unit cell through its vertices (MappingQ(1)). */
template <int dim>
class MultilinearMap
{
public:
  explicit MultilinearMap(const typename Triangulation<dim>::active_cell_iterator &cell)
  {
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      vertex[v] = cell->vertex(v);
  }

  Point<dim> point(const Point<dim> &xi) const
  {
    Point<dim> x;
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      {
        double weight = 1;
        for (unsigned int d = 0; d < dim; ++d)
          weight *= (v >> d) & 1 ? xi[d] : 1 - xi[d];
        x += weight * vertex[v];
      }
    return x;
  }

  /** |det J| at @p xi. */
  double jacobian(const Point<dim> &xi) const
  {
    Tensor<2, dim> J;
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      for (unsigned int d = 0; d < dim; ++d)
        {
          double derivative = 1;
          for (unsigned int e = 0; e < dim; ++e)
            derivative *= e == d ? ((v >> e) & 1 ? 1.0 : -1.0) : ((v >> e) & 1 ? xi[e] : 1 - xi[e]);
          for (unsigned int i = 0; i < dim; ++i)
            J[i][d] += derivative * vertex[v][i];
        }
    return std::abs(determinant(J));
  }

private:
  std::array<Point<dim>, GeometryInfo<dim>::vertices_per_cell> vertex;
};

/** A cell's mass of the density and the rejection bound inside it. */
struct CellMass
{
  std::string  id;
  double       mass, bound;
  unsigned int owner;
};

/** A point placed in its cell. */
template <int dim>
struct Accepted
{
  std::uint64_t                                     id;
  Point<dim>                                        point;
  typename Triangulation<dim>::active_cell_iterator cell;
  double                                            value;
};

/**
 * The mass of the density in each locally owned cell and a bound of density |det J|
 * on the unit cell, for rejection sampling inside it.
 */
template <int dim>
std::vector<CellMass> local_cell_masses(const Triangulation<dim> &tria,
                                        const CellDensity<dim>   &density,
                                        const double              bound_factor)
{
  const QGauss<dim>     quadrature(4);
  const QIterated<dim>  grid(QTrapezoid<1>(), 4);
  std::vector<CellMass> local;
  // The density is asked once per cell (and when placing points once per round of
  // candidates): a finite-element density pays for setting up its evaluation per call.
  std::vector<Point<dim>> unit_points = quadrature.get_points(), real_points;
  unit_points.insert(unit_points.end(), grid.get_points().begin(), grid.get_points().end());
  std::vector<double> values;
  for (const auto &cell : tria.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const MultilinearMap<dim> map(cell);
        real_points.clear();
        for (const Point<dim> &xi : unit_points)
          real_points.push_back(map.point(xi));
        density(cell, unit_points, real_points, values);
        double mass = 0, bound = 0;
        for (unsigned int q = 0; q < unit_points.size(); ++q)
          {
            const double g = values[q] * map.jacobian(unit_points[q]);
            if (q < quadrature.size())
              mass += g * quadrature.weight(q);
            bound = std::max(bound, g);
          }
        local.push_back({cell->id().to_string(), mass, bound_factor * bound, cell->subdomain_id()});
      }
  return local;
}

/**
 * All cells' masses on every rank, in the order of their CellIds: the same list (and
 * the same rounding) whatever the partition.
 */
std::vector<CellMass> all_cell_masses(const std::vector<CellMass> &local,
                                      const MPI_Comm               mpi_communicator)
{
  std::vector<std::string>  local_ids;
  std::vector<double>       local_values;
  std::vector<unsigned int> local_owner;
  for (const CellMass &c : local)
    {
      local_ids.push_back(c.id);
      local_values.push_back(c.mass);
      local_values.push_back(c.bound);
      local_owner.push_back(c.owner);
    }
  const auto            all_ids    = Utilities::MPI::all_gather(mpi_communicator, local_ids);
  const auto            all_values = Utilities::MPI::all_gather(mpi_communicator, local_values);
  const auto            all_owners = Utilities::MPI::all_gather(mpi_communicator, local_owner);
  std::vector<CellMass> cells;
  for (unsigned int r = 0; r < all_ids.size(); ++r)
    for (unsigned int k = 0; k < all_ids[r].size(); ++k)
      cells.push_back(
          {all_ids[r][k], all_values[r][2 * k], all_values[r][2 * k + 1], all_owners[r][k]});
  std::sort(cells.begin(), cells.end(), [](const CellMass &a, const CellMass &b) {
    return CellId(a.id) < CellId(b.id);
  });
  return cells;
}

/**
 * Places the points @p pending in @p cell by rejection, with the points' uniform
 * numbers of attempts 1, 2, ...: the candidates of the cell are tried together, round
 * by round. Counts the candidates above the cell's bound in @p bound_exceeded.
 */
template <int dim>
void place_points(const typename Triangulation<dim>::active_cell_iterator &cell,
                  const CellMass                                          &mass,
                  std::vector<std::uint64_t>                              &pending,
                  const CellDensity<dim>                                  &density,
                  const ParticleRandom                                    &random,
                  const std::uint64_t                                      step,
                  std::vector<Accepted<dim>>                              &accepted,
                  std::uint64_t                                           &bound_exceeded)
{
  const MultilinearMap<dim> map(cell);
  std::vector<Point<dim>>   xis, real_points;
  std::vector<double>       u3, values;
  for (std::uint64_t attempt = 1; !pending.empty(); ++attempt)
    {
      xis.clear(), real_points.clear(), u3.clear();
      for (const std::uint64_t i : pending)
        {
          double u[4];
          random.uniforms(i, step, attempt, u);
          Point<dim> xi;
          for (unsigned int d = 0; d < dim; ++d)
            xi[d] = u[d];
          xis.push_back(xi);
          real_points.push_back(map.point(xi));
          u3.push_back(u[3]);
        }
      density(cell, xis, real_points, values);
      std::vector<std::uint64_t> rejected;
      for (std::size_t k = 0; k < pending.size(); ++k)
        {
          const double g = values[k] * map.jacobian(xis[k]);
          if (g > mass.bound)
            ++bound_exceeded;
          if (u3[k] * mass.bound <= g)
            accepted.push_back({pending[k], real_points[k], cell, values[k]});
          else
            rejected.push_back(pending[k]);
        }
      pending.swap(rejected);
    }
}
} // namespace

template <int dim>
DensitySample<dim> sample_density(const Triangulation<dim> &tria,
                                  const CellDensity<dim>   &density,
                                  const ParticleRandom     &random,
                                  const std::uint64_t       n,
                                  const std::uint64_t       step,
                                  const MPI_Comm            mpi_communicator,
                                  const double              bound_factor)
{
  const std::vector<CellMass> cells =
      all_cell_masses(local_cell_masses(tria, density, bound_factor), mpi_communicator);
  std::vector<double> cumulative(cells.size());
  double              total = 0;
  for (std::size_t c = 0; c < cells.size(); ++c)
    cumulative[c] = (total += cells[c].mass);

  // Point i picks its cell with its own first uniform number; the rank that owns the
  // cell places it there by rejection with the point's next numbers.
  const unsigned int rank = Utilities::MPI::this_mpi_process(mpi_communicator);
  std::map<std::size_t, std::vector<std::uint64_t>> points_of_cell;
  for (std::uint64_t i = 0; i < n; ++i)
    {
      double u[4];
      random.uniforms(i, step, 0, u);
      const std::size_t c = std::min<std::size_t>(
          std::lower_bound(cumulative.begin(), cumulative.end(), u[0] * total) - cumulative.begin(),
          cells.size() - 1);
      if (cells[c].owner == rank)
        points_of_cell[c].push_back(i);
    }
  std::vector<Accepted<dim>> accepted;
  std::uint64_t              bound_exceeded = 0;
  for (auto &[c, pending] : points_of_cell)
    place_points<dim>(tria.create_cell_iterator(CellId(cells[c].id)),
                      cells[c],
                      pending,
                      density,
                      random,
                      step,
                      accepted,
                      bound_exceeded);
  std::sort(accepted.begin(), accepted.end(), [](const Accepted<dim> &a, const Accepted<dim> &b) {
    return a.id < b.id;
  });
  DensitySample<dim> sample;
  for (const Accepted<dim> &a : accepted)
    {
      sample.ids.push_back(a.id);
      sample.points.push_back(a.point);
      sample.cells.push_back(a.cell);
      sample.values.push_back(a.value);
    }
  sample.mass           = total;
  sample.bound_exceeded = Utilities::MPI::sum(bound_exceeded, mpi_communicator);
  return sample;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template DensitySample<dim> sample_density(const Triangulation<dim> &,                           \
                                             const CellDensity<dim> &,                             \
                                             const ParticleRandom &,                               \
                                             const std::uint64_t,                                  \
                                             const std::uint64_t,                                  \
                                             const MPI_Comm,                                       \
                                             const double);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
