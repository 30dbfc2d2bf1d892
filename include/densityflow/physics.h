#pragma once

#include <deal.II/base/parameter_handler.h>
#include <densityflow/expression.h>
#include <string>

namespace densityflow
{
using namespace dealii;

/** The `Physics` subsection: the potential V, its gradient and the diffusion eps. */
struct PhysicsParameters
{
  std::string potential          = "0";
  std::string potential_gradient = "";
  double      diffusion          = 1.0;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * What drives the density: the potential V(x, t) of the drift -grad V and the
 * diffusion eps, whose balance is the Boltzmann density pi = exp(-V/eps) / Z.
 */
template <int dim>
class Physics
{
public:
  /** @param constants the problem's named constants; `eps` is added here. */
  Physics(const PhysicsParameters &parameters, const Constants &constants);

  const ScalarField<dim> &potential() const;

  double diffusion() const;

  /** The constants every expression of the problem sees (the user's and eps). */
  const Constants &constants() const;

private:
  Constants        all_constants;
  double           eps;
  ScalarField<dim> potential_field;
};

/** The user's constants plus eps = @p diffusion; InputError if the user took `eps`. */
Constants constants_with_diffusion(const Constants &constants, const double diffusion);
} // namespace densityflow
