#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace densityflow
{
using namespace dealii;

/** The interaction kernel W of Physics/Model = interaction. */
enum class InteractionKernel
{
  /** W(z) = -|z|^r, 0 < r < 2 (r = 1: the energy distance). */
  riesz,
  /** W(z) = exp(-|z|^2 / (2 s^2)), positive definite. */
  gaussian,
  /** W(z) = |z|^a / a - |z|^b / b, a > 0, 0 < b < a (or a only: no repulsive term). */
  attractive_repulsive
};

/** How -grad(W * mu) is summed over the atoms of mu. */
enum class InteractionSummation
{
  /** sorted where it is exact (1D, Riesz r = 1), else direct. */
  automatic,
  /** Over all atoms at every point: O(N M). */
  direct,
  /** 1D, Riesz r = 1: -grad(W * mu)(x) = mu(y < x) - mu(y > x) from prefix sums over the
   * sorted atoms, O(N log N). */
  sorted
};

/**
 * The `Interaction` subsection: the kernel W, the target nu (none: an aggregation flow)
 * and how the nonlocal velocity is summed.
 */
struct InteractionParameters
{
  InteractionKernel kernel   = InteractionKernel::riesz;
  double            exponent = 1.0;
  /** s of the Gaussian kernel. */
  double width = 1.0;
  /** a and b of the attractive-repulsive kernel; b = 0: no repulsive term ("none"). */
  double               attractive_exponent = 2.0;
  double               repulsive_exponent  = 1.0;
  InteractionSummation summation           = InteractionSummation::automatic;
  /** nu as an expression of x (y, z); empty: no target. */
  std::string target;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
  /** InputError naming the Kernel parameter that is out of its kernel's range. */
  void check_kernel() const;
};

/** The name of @p summation in the parameter file. */
std::string to_string(const InteractionSummation summation);
} // namespace densityflow
