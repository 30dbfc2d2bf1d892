#pragma once

#include <deal.II/base/bounding_box.h>
#include <deal.II/base/point.h>

#include <string>
#include <utility>
#include <vector>

namespace dealii
{
class ParameterHandler;
}

namespace densityflow
{
using namespace dealii;

template <int dim>
class Mesh;

/** `Mesh/Absorbing walls`: the walls of a box where rho = 0 (the others are no-flux). */
struct AbsorbingWallParameters
{
  /** Wall names as written: x-min, x-max, y-min, y-max, z-min, z-max. */
  std::vector<std::string> walls;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * The absorbing walls of a box mesh: planes x_d = lower_d or x_d = upper_d. A face of the
 * mesh is absorbing when its centre lies on one of them.
 */
template <int dim>
class AbsorbingWalls
{
public:
  /**
   * InputError where a name is not a wall of a @p dim-dimensional box, is given twice, or
   * the mesh is not a box.
   */
  AbsorbingWalls(const AbsorbingWallParameters &parameters, const Mesh<dim> &mesh);

  bool empty() const;

  /** Whether the boundary face with centre @p centre lies on an absorbing wall. */
  bool contains(const Point<dim> &centre) const;

  /** "x-min, x-max". */
  std::string description() const;

private:
  /** (direction, upper side) of each wall. */
  std::vector<std::pair<unsigned int, bool>> walls;
  BoundingBox<dim>                           box;
  double                                     tolerance = 0;
};
} // namespace densityflow
