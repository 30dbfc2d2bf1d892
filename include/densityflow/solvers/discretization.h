#pragma once

#include <deal.II/base/parameter_handler.h>

namespace densityflow
{
using namespace dealii;

enum class Model;

/** The `Discretization` subsection: polynomial degree, mass lumping, limiter. */
struct DiscretizationParameters
{
  unsigned int degree = 1;
  /** Lumped weighted mass matrix (Mass lumping = auto: for degree 1 only). */
  bool mass_lumping = true;
  /** The positivity limiter of explicit transport. */
  bool limiter = true;

  static void declare_parameters(ParameterHandler &prm);

  /**
   * Reads the subsection and checks it, the degree against the range of @p model
   * (0 to 3 for transport, 1 to 3 for Fokker-Planck): the one place it is checked.
   */
  void parse_parameters(ParameterHandler &prm, const Model model);
};
} // namespace densityflow
