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

  /**
   * The probability that a Brownian path from @p x0 to @p x1 (inside the box or beyond its
   * walls), whose increment has the variance @p variance per coordinate (2 eps dt), has hit
   * an absorbing wall: 1 where @p x1 is beyond one; else, from the Brownian bridge,
   * 1 - prod over the walls of (1 - exp(-2 a b / variance)), a and b the distances of x0
   * and x1 from the wall.
   */
  double
  hitting_probability(const Point<dim> &x0, const Point<dim> &x1, const double variance) const;

  /** A point well outside the box, beyond its first absorbing wall (an absorbed particle). */
  Point<dim> outside_point() const;

  /** "x-min, x-max". */
  std::string description() const;

private:
  /** (direction, upper side) of each wall. */
  std::vector<std::pair<unsigned int, bool>> walls;
  BoundingBox<dim>                           box;
  double                                     tolerance = 0;
};
} // namespace densityflow
