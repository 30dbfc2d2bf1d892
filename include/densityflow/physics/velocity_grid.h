#pragma once

#include <densityflow/physics/velocity_field.h>

#include <deal.II/base/bounding_box.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace dealii
{
class ParameterHandler;
}

namespace densityflow
{
using namespace dealii;

/**
 * The `Physics/Velocity grid` subsection: a velocity w written by another code on a
 * regular space-time grid, one .npy file of shape (n_t, n_1, .., n_dim, dim).
 */
struct VelocityGridParameters
{
  /** The .npy file as written in the .prm (empty: none), and resolved against its folder. */
  std::string         file;
  std::string         resolved_file;
  std::vector<double> lower_corner;
  std::vector<double> upper_corner;
  double              start_time = 0;
  /** The time of the last slice; NaN: the problem's Time/End time. */
  double end_time = 0;

  static void declare_parameters(ParameterHandler &prm);
  /** @param base_directory the folder relative to which `File` is resolved. */
  void parse_parameters(ParameterHandler &prm, const std::string &base_directory);
};

/**
 * A velocity field given at the nodes of a regular grid in space and time, interpolated
 * multilinearly in space and linearly in time; its divergence is the exact derivative
 * of that interpolant in the grid cell that holds x (piecewise, discontinuous across
 * grid faces). Outside the grid, x and t are moved to the nearest point of the grid
 * (constant extension), so particles that leave the mesh see finite values.
 */
template <int dim>
class VelocityGrid : public VelocityField<dim>
{
public:
  /**
   * @param values w at the nodes, C order, shape (n_t, n_1, .., n_dim, dim):
   *   values[((k n_1 + i_1) n_2 + i_2 ..) dim + d] = w_d(t_k, x_{i_1}, ..).
   * @param n_t, n the numbers of times (1: steady) and of nodes per axis (>= 2).
   * @param lower, upper the grid's corners; nodes at lower + i (upper - lower) / (n - 1).
   * @param start_time, end_time the times of the first and last slice (n_t >= 2).
   */
  VelocityGrid(std::vector<double>                  values,
               const unsigned int                   n_t,
               const std::array<unsigned int, dim> &n,
               const Point<dim>                    &lower,
               const Point<dim>                    &upper,
               const double                         start_time,
               const double                         end_time);

  Tensor<1, dim> value(const Point<dim> &x, const double t) const override;

  double divergence(const Point<dim> &x, const double t) const override;
  void   value_and_divergence(const Point<dim> &x,
                              const double      t,
                              Tensor<1, dim>   &w,
                              double           &div) const override;

  bool depends_on_time() const override;

private:
  /**
   * Puts w at t at the corners of x's cell into `corner` and x's local coordinates into
   * `local`, unless they are there for this (x, t) already: flow-map particles ask for
   * the value and the divergence at the same point in turn.
   */
  void gather(const Point<dim> &x, const double t) const;

  std::vector<double>               values;
  unsigned int                      n_t;
  std::array<unsigned int, dim>     n;
  Point<dim>                        lower;
  Tensor<1, dim>                    inverse_spacing;
  double                            start_time, inverse_time_step;
  std::array<std::size_t, dim>      stride;
  std::size_t                       slice_size;
  std::array<std::size_t, 1 << dim> corner_offset;

  mutable Point<dim>                                    cached_x;
  mutable double                                        cached_t;
  mutable std::array<double, dim>                       local;
  mutable std::array<std::array<double, dim>, 1 << dim> corner;
};

/**
 * Reads the grid of @p parameters and checks it against the problem: InputError naming
 * `Physics/Velocity grid/File` and the file for a missing or unreadable file, a dtype
 * other than float64/float32, a shape other than (n_t, n_1, .., n_dim, dim) with n_t >= 1
 * and n_d >= 2, a value that is not finite (with its index), corners that do not hold
 * @p domain, or (n_t >= 2) times that do not cover [0, @p end_time].
 */
template <int dim>
std::shared_ptr<VelocityGrid<dim>> read_velocity_grid(const VelocityGridParameters &parameters,
                                                      const BoundingBox<dim>       &domain,
                                                      const double                  end_time);
} // namespace densityflow
