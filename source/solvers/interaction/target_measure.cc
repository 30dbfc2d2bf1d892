#include <densityflow/base/exceptions.h>
#include <densityflow/base/expression.h>
#include <densityflow/base/mpi_gather.h>
#include <densityflow/distances/ensemble_reader.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>
#include <densityflow/solvers/interaction/target_measure.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace densityflow
{
template <int dim>
void read_target_samples(const std::string       &file,
                         std::vector<Point<dim>> &points,
                         std::vector<double>     &weights)
{
  if (file.empty())
    return;
  std::vector<EnsembleSnapshot<dim>> snapshots;
  try
    {
      snapshots = read_ensembles<dim>(file, 0.0, std::numeric_limits<double>::max());
    }
  catch (const InputError &error)
    {
      // The reader's messages name the file; drop the option name `compare` gives them.
      std::string message = error.what();
      if (message.rfind("--particles: ", 0) == 0)
        message.erase(0, 13);
      throw InputError("Interaction/Target/Samples: " + message);
    }
  if (snapshots.size() != 1)
    throw InputError("Interaction/Target/Samples = '" + file + "' holds " +
                     std::to_string(snapshots.size()) +
                     " ensembles (several times or systems): give one.");
  points       = snapshots[0].points;
  double total = 0;
  for (const double w : snapshots[0].weights)
    total += w;
  if (!(total > 0))
    throw InputError("Interaction/Target/Samples = '" + file + "' has no weight.");
  for (const double w : snapshots[0].weights)
    weights.push_back(-w / total);
}

template <int dim>
struct TargetMeasure<dim>::Density
{
  Expression<dim> nu;
  QGauss<1>       rule{6};
  double          mass = 1;

  /** int_a^b nu by the 6-point Gauss rule (unnormalised). */
  double integral(const double a, const double b) const
  {
    double sum = 0;
    for (unsigned int q = 0; q < rule.size(); ++q)
      {
        Point<dim> x;
        x[0] = a + (b - a) * rule.point(q)[0];
        sum += rule.weight(q) * nu.value(x, 0);
      }
    return sum * (b - a);
  }
};

namespace
{
template <int dim>
void check_value(const double value, const Point<dim> &x, const std::string &text)
{
  if (!(value >= 0) || !std::isfinite(value))
    {
      std::ostringstream out;
      out << "Interaction/Target/Density = '" << text << "' is " << value << " at " << x
          << ": it must be finite and >= 0.";
      throw InputError(out.str());
    }
}
} // namespace

template <int dim>
TargetMeasure<dim>::TargetMeasure(const Mesh<dim>             &mesh,
                                  const Physics<dim>          &physics,
                                  const InteractionParameters &interaction)
{
  if (!interaction.target_samples.empty())
    {
      read_target_samples(interaction.target_samples, atom_points, atom_weights);
      return;
    }
  if (interaction.target.empty()) // no target: no atoms, no CDF
    return;
  const MPI_Comm communicator = mesh.communicator();
  density                     = std::make_unique<Density>(Density{
      Expression<dim>(interaction.target, physics.constants(), "Interaction/Target/Density")});
  const Expression<dim> &nu   = density->nu;
  if (nu.depends_on_time())
    throw InputError("Interaction/Target/Density = '" + interaction.target +
                     "' must not depend on t.");

  // Values are checked on every rank's own cells, and the failure is shared, so that no
  // rank waits in the gathers below for one that threw.
  bool                failed = false;
  std::string         message;
  std::vector<double> local_a, local_b;
  const bool          exact_cdf = dim == 1 && interaction.exponent == 1.0;
  if (exact_cdf)
    {
      std::vector<double> local;
      for (const auto &cell : mesh.triangulation().active_cell_iterators())
        if (cell->is_locally_owned())
          {
            const double a = std::min(cell->vertex(0)[0], cell->vertex(1)[0]);
            const double b = std::max(cell->vertex(0)[0], cell->vertex(1)[0]);
            try
              {
                for (unsigned int q = 0; q < density->rule.size(); ++q)
                  {
                    Point<dim> x;
                    x[0] = a + (b - a) * density->rule.point(q)[0];
                    check_value(nu.value(x, 0), x, interaction.target);
                  }
              }
            catch (const InputError &e)
              {
                failed = true, message = e.what();
              }
            local.insert(local.end(), {a, b, density->integral(a, b)});
          }
      throw_if_any(failed, message, communicator);
      const std::vector<double> all = all_gather_concatenated(local, communicator);
      std::vector<std::size_t>  order(all.size() / 3);
      std::iota(order.begin(), order.end(), 0);
      std::sort(
          order.begin(), order.end(), [&](auto i, auto j) { return all[3 * i] < all[3 * j]; });
      cumulative.push_back(0);
      for (const std::size_t k : order)
        {
          ends.push_back(all[3 * k]);
          cumulative.push_back(cumulative.back() + all[3 * k + 2]);
        }
      ends.push_back(all[3 * order.back() + 1]);
      density->mass = cumulative.back();
      if (!(density->mass > 0))
        throw InputError("Interaction/Target/Density = '" + interaction.target +
                         "' has no mass on the mesh.");
      for (double &c : cumulative)
        c /= density->mass;
      return;
    }

  const QGauss<dim> quadrature(4);
  FE_Q<dim>         fe(1);
  FEValues<dim>     fe_values(
      mesh.mapping(), fe, quadrature, update_quadrature_points | update_JxW_values);
  std::vector<double> positions, weights;
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            const Point<dim> &x     = fe_values.quadrature_point(q);
            const double      value = nu.value(x, 0);
            if (!(value >= 0) || !std::isfinite(value))
              try
                {
                  check_value(value, x, interaction.target);
                }
              catch (const InputError &e)
                {
                  failed = true, message = e.what();
                }
            for (unsigned int d = 0; d < dim; ++d)
              positions.push_back(x[d]);
            weights.push_back(-value * fe_values.JxW(q));
          }
      }
  throw_if_any(failed, message, communicator);
  const std::vector<double> all_positions = all_gather_concatenated(positions, communicator);
  std::vector<double>       all_weights   = all_gather_concatenated(weights, communicator);
  const double              mass = -std::accumulate(all_weights.begin(), all_weights.end(), 0.0);
  if (!(mass > 0))
    throw InputError("Interaction/Target/Density = '" + interaction.target +
                     "' has no mass on the mesh.");
  atom_points.resize(all_weights.size());
  for (std::size_t j = 0; j < atom_points.size(); ++j)
    {
      for (unsigned int d = 0; d < dim; ++d)
        atom_points[j][d] = all_positions[j * dim + d];
      all_weights[j] /= mass;
    }
  atom_weights = std::move(all_weights);
}

template <int dim>
TargetMeasure<dim>::~TargetMeasure() = default;

template <int dim>
double TargetMeasure<dim>::cdf(const double x) const
{
  if (x <= ends.front())
    return 0;
  if (x >= ends.back())
    return 1;
  // The cell [ends[k], ends[k + 1]) that holds x.
  const std::size_t k = std::upper_bound(ends.begin(), ends.end(), x) - ends.begin() - 1;
  return cumulative[k] + density->integral(ends[k], x) / density->mass;
}

template <int dim>
bool TargetMeasure<dim>::has_cdf() const
{
  return density != nullptr && !ends.empty();
}

template <int dim>
Tensor<1, dim> TargetMeasure<dim>::cdf_velocity(const Point<dim> &x) const
{
  Tensor<1, dim> v;
  v[0] = 1 - 2 * cdf(x[0]);
  return v;
}

template <int dim>
const std::vector<Point<dim>> &TargetMeasure<dim>::points() const
{
  return atom_points;
}

template <int dim>
const std::vector<double> &TargetMeasure<dim>::weights() const
{
  return atom_weights;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template class TargetMeasure<dim>;                                                               \
  template void read_target_samples(                                                               \
      const std::string &, std::vector<Point<dim>> &, std::vector<double> &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
