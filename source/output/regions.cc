#include <densityflow/base/exceptions.h>
#include <densityflow/output/regions.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_nothing.h>
#include <deal.II/fe/fe_values.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace densityflow
{
namespace
{
const char *regions_parameter = "Diagnostics/Regions";

/** Sub-cells per direction of a cell cut by a region's boundary. */
constexpr unsigned int cut_subdivisions = 8;
} // namespace

void RegionParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Diagnostics");
  prm.declare_entry(
      "Regions",
      "",
      Patterns::Anything(),
      "Named regions, 'name: condition; name: condition' (e.g. 'left: x < 0; right: x > "
      "0'); a condition is a muparser expression of x (y, z) and t, the region is where it "
      "is non-zero. Each adds mass_<name> (int over the region of rho_h) to "
      "diagnostics.csv and fraction_<name>, density_fraction_<name> and "
      "fraction_<name>_stderr to particles-vs-pde.csv and compare.csv. Regions may "
      "overlap and need not cover the domain. Empty: none.");
  prm.leave_subsection();
}

void RegionParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Diagnostics");
  regions = parse(prm.get("Regions"));
  prm.leave_subsection();
}

std::vector<RegionDefinition> RegionParameters::parse(const std::string &text)
{
  std::vector<RegionDefinition> result;
  if (Utilities::trim(text).empty())
    return result;
  std::set<std::string> seen;
  for (const std::string &item : Utilities::split_string_list(text, ';'))
    {
      const std::string prefix = std::string(regions_parameter) + " = '" + text + "': ";
      // The first ':' ends the name, so that a condition may use muparser's a ? b : c.
      const auto colon = item.find(':');
      if (colon == std::string::npos)
        throw InputError(prefix + "'" + item + "' is not of the form 'name: condition'.");
      RegionDefinition region{Utilities::trim(item.substr(0, colon)),
                              Utilities::trim(item.substr(colon + 1))};
      if (region.name.empty())
        throw InputError(prefix + "the region '" + item + "' has no name.");
      bool valid = true;
      for (const char c : region.name)
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid)
        throw InputError(prefix + "the name '" + region.name +
                         "' may hold only letters, digits and '_' (it becomes a column "
                         "name, mass_" +
                         region.name + ").");
      if (!seen.insert(region.name).second)
        throw InputError(prefix + "the name '" + region.name + "' is given twice.");
      if (region.expression.empty())
        throw InputError(prefix + "the region '" + region.name + "' has no condition.");
      result.push_back(region);
    }
  return result;
}

template <int dim>
Regions<dim>::Regions(const std::vector<RegionDefinition> &definitions,
                      const Constants                     &constants,
                      const Mesh<dim>                     &mesh,
                      const unsigned int                   degree)
    : mapping(mesh.mapping())
    , n_gauss(degree + 2)
    , mpi_communicator(mesh.communicator())
{
  for (const RegionDefinition &region : definitions)
    {
      region_names.push_back(region.name);
      indicators.push_back(std::make_unique<Expression<dim>>(
          region.expression, constants, std::string(regions_parameter) + " (" + region.name + ")"));
    }
}

template <int dim>
Regions<dim>::~Regions() = default;

template <int dim>
bool Regions<dim>::empty() const
{
  return region_names.empty();
}

template <int dim>
const std::vector<std::string> &Regions<dim>::names() const
{
  return region_names;
}

template <int dim>
bool Regions<dim>::contains(const std::size_t k, const Point<dim> &p, const double t) const
{
  return indicators[k]->value(p, t) != 0;
}

template <int dim>
std::vector<double> Regions<dim>::masses(const DensitySolver<dim> &solver) const
{
  if (empty())
    return {};
  const double                                                   t = solver.time();
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  std::vector<Point<dim>>                                        points;
  std::vector<double>                                            weights;
  solver.quadrature_measure(n_gauss, cells, points, weights);
  const std::size_t per_cell = cells.empty() ? 0 : points.size() / cells.size();

  // The sub-cell rule of cut cells; FE_Nothing: FEValues is used for the geometry only.
  const FE_Nothing<dim>   no_element;
  FEValues<dim>           sub_cells(mapping,
                          no_element,
                          QIterated<dim>(QGauss<1>(n_gauss), cut_subdivisions),
                          update_quadrature_points | update_JxW_values);
  std::vector<Point<dim>> sub_points;
  std::vector<double>     sub_rho;
  // Besides the Gauss points, a cut is looked for at the vertices moved inwards to the
  // outermost sub-cell Gauss points: a boundary along mesh lines (x < 0 with a vertex
  // at x = 0) then cuts no cell, and a boundary between the outer Gauss points and the
  // cell's edges is still seen.
  const double            inset = 2 * QGauss<1>(n_gauss).point(0)[0] / cut_subdivisions;
  std::vector<Point<dim>> corners;

  const std::size_t   n = region_names.size();
  std::vector<double> mass(n, 0.0);
  for (std::size_t c = 0; c < cells.size(); ++c)
    {
      bool       sub_cells_ready = false;
      Point<dim> centre;
      for (unsigned int v = 0; v < cells[c]->n_vertices(); ++v)
        centre += cells[c]->vertex(v) / double(cells[c]->n_vertices());
      corners.clear();
      for (unsigned int v = 0; v < cells[c]->n_vertices(); ++v)
        corners.push_back(centre + (1 - inset) * (cells[c]->vertex(v) - centre));
      for (std::size_t k = 0; k < n; ++k)
        {
          const bool first  = contains(k, points[c * per_cell], t);
          bool       is_cut = false;
          for (std::size_t q = 1; q < per_cell && !is_cut; ++q)
            is_cut = contains(k, points[c * per_cell + q], t) != first;
          for (std::size_t v = 0; v < corners.size() && !is_cut; ++v)
            is_cut = contains(k, corners[v], t) != first;
          if (!is_cut)
            {
              if (first)
                for (std::size_t q = 0; q < per_cell; ++q)
                  mass[k] += weights[c * per_cell + q];
              continue;
            }
          if (!sub_cells_ready)
            {
              sub_cells.reinit(typename Triangulation<dim>::cell_iterator(cells[c]));
              sub_points = sub_cells.get_quadrature_points();
              solver.density_at(cells[c], sub_points, sub_rho);
              sub_cells_ready = true;
            }
          for (std::size_t q = 0; q < sub_points.size(); ++q)
            if (contains(k, sub_points[q], t))
              mass[k] += sub_rho[q] * sub_cells.JxW(q);
        }
    }
  Utilities::MPI::sum(mass, mpi_communicator, mass);
  return mass;
}

template <int dim>
void Regions<dim>::add_fractions(EnsembleDistances             &d,
                                 const std::vector<Point<dim>> &points,
                                 const std::vector<double>     &weights,
                                 const std::vector<double>     &region_masses,
                                 const double                   total_mass,
                                 const double                   time) const
{
  const std::size_t n = region_names.size();
  // sum w, sum w^2, then sum w over the points in each region.
  std::vector<double> sums(2 + n, 0.0);
  for (std::size_t i = 0; i < points.size(); ++i)
    {
      sums[0] += weights[i];
      sums[1] += weights[i] * weights[i];
      for (std::size_t k = 0; k < n; ++k)
        if (contains(k, points[i], time))
          sums[2 + k] += weights[i];
    }
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  const double effective_size = sums[1] > 0 ? sums[0] * sums[0] / sums[1] : 0;
  d.region_fractions.assign(n, EnsembleDistances::undefined);
  d.region_density_fractions.assign(n, EnsembleDistances::undefined);
  d.region_fraction_errors.assign(n, EnsembleDistances::undefined);
  for (std::size_t k = 0; k < n; ++k)
    {
      const double p                = region_masses[k] / total_mass;
      d.region_density_fractions[k] = p;
      if (sums[0] > 0)
        {
          d.region_fractions[k] = sums[2 + k] / sums[0];
          // p may leave [0, 1] by round-off or a negative part of rho_h.
          const double q              = std::clamp(p, 0.0, 1.0);
          d.region_fraction_errors[k] = std::sqrt(q * (1 - q) / effective_size);
        }
    }
}

template class Regions<1>;
template class Regions<2>;
template class Regions<3>;
} // namespace densityflow
