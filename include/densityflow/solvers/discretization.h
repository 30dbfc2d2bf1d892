#pragma once

#include <deal.II/base/parameter_handler.h>

namespace densityflow
{
using namespace dealii;

/** The `Discretization` subsection: polynomial degree, mass lumping, limiter. */
struct DiscretizationParameters
{
  unsigned int degree = 1;
  /** Lumped weighted mass matrix (Mass lumping = auto: for degree 1 only). */
  bool mass_lumping = true;
  /** The positivity limiter of explicit transport. */
  bool limiter = true;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};
} // namespace densityflow
