#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/mesh.h>

#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <algorithm>
#include <cmath>

namespace densityflow
{
namespace
{
const char *const wall_names[] = {"x-min", "x-max", "y-min", "y-max", "z-min", "z-max"};
} // namespace

void AbsorbingWallParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  prm.declare_entry("Absorbing walls",
                    "",
                    Patterns::Anything(),
                    "Comma-separated walls of a box where rho = 0 (Fokker-Planck model): "
                    "x-min, x-max, y-min, y-max, z-min, z-max. Mass leaves through them "
                    "(diagnostics columns absorbed_mass and absorbed_flux); the other walls "
                    "stay no-flux. Empty: none.");
  prm.leave_subsection();
}

void AbsorbingWallParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  walls = Utilities::split_string_list(prm.get("Absorbing walls"));
  prm.leave_subsection();
}

template <int dim>
AbsorbingWalls<dim>::AbsorbingWalls(const AbsorbingWallParameters &parameters,
                                    const Mesh<dim>               &mesh)
    : box(mesh.bounding_box())
{
  if (parameters.walls.empty())
    return;
  if (!mesh.is_box())
    throw InputError("Mesh/Absorbing walls = " + Utilities::trim(parameters.walls.front()) +
                     "...: absorbing walls are the planes of a box; this mesh is not a box.");
  for (const std::string &name : parameters.walls)
    {
      const auto at = std::find(std::begin(wall_names), std::begin(wall_names) + 2 * dim, name);
      if (at == std::begin(wall_names) + 2 * dim)
        {
          std::string known;
          for (unsigned int k = 0; k < 2 * dim; ++k)
            known += (k ? ", " : "") + std::string(wall_names[k]);
          throw InputError("Mesh/Absorbing walls: '" + name + "' is not a wall of a " +
                           std::to_string(dim) + "D box (" + known + ").");
        }
      const unsigned int                  k = at - std::begin(wall_names);
      const std::pair<unsigned int, bool> wall(k / 2, k % 2 == 1);
      if (std::find(walls.begin(), walls.end(), wall) != walls.end())
        throw InputError("Mesh/Absorbing walls: '" + name + "' is given twice.");
      if (mesh.periodic_directions()[wall.first])
        throw InputError("Mesh/Absorbing walls: '" + name +
                         "' is a wall of a periodic direction (Mesh/Periodic): it has no wall "
                         "there to absorb at.");
      walls.push_back(wall);
    }
  double diameter = 0;
  for (unsigned int d = 0; d < dim; ++d)
    diameter = std::max(diameter, box.side_length(d));
  tolerance = 1e-10 * diameter;
}

template <int dim>
bool AbsorbingWalls<dim>::empty() const
{
  return walls.empty();
}

template <int dim>
bool AbsorbingWalls<dim>::contains(const Point<dim> &centre) const
{
  const auto &corners = box.get_boundary_points();
  for (const auto &[d, upper] : walls)
    if (std::abs(centre[d] - (upper ? corners.second[d] : corners.first[d])) <= tolerance)
      return true;
  return false;
}

template <int dim>
double AbsorbingWalls<dim>::hitting_probability(const Point<dim> &x0,
                                                const Point<dim> &x1,
                                                const double      variance) const
{
  const auto &corners = box.get_boundary_points();
  double      missed  = 1;
  for (const auto &[d, upper] : walls)
    {
      const double wall = upper ? corners.second[d] : corners.first[d];
      const double a = upper ? wall - x0[d] : x0[d] - wall, b = upper ? wall - x1[d] : x1[d] - wall;
      if (b <= 0)
        return 1;
      missed *= -std::expm1(-2 * std::max(a, 0.) * b / variance);
    }
  return 1 - missed;
}

template <int dim>
Point<dim> AbsorbingWalls<dim>::outside_point() const
{
  Assert(!walls.empty(), ExcInternalError());
  const auto &corners    = box.get_boundary_points();
  Point<dim>  p          = box.center();
  const auto &[d, upper] = walls.front();
  p[d] = upper ? corners.second[d] + box.side_length(d) : corners.first[d] - box.side_length(d);
  return p;
}

template <int dim>
std::string AbsorbingWalls<dim>::description() const
{
  std::string text;
  for (const auto &[d, upper] : walls)
    text += (text.empty() ? "" : ", ") + std::string(wall_names[2 * d + upper]);
  return text;
}

template class AbsorbingWalls<1>;
template class AbsorbingWalls<2>;
template class AbsorbingWalls<3>;
} // namespace densityflow
