#include <densityflow/exceptions.h>
#include <densityflow/physics.h>

namespace densityflow
{
void PhysicsParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Physics");
  prm.declare_entry(
      "Potential",
      "0",
      Patterns::Anything(),
      "The potential V as an expression of x (y, z) and t and the Constants; "
      "the drift is -grad V and the stationary density pi = exp(-V/eps)/Z.");
  prm.declare_entry("Potential gradient",
                    "",
                    Patterns::Anything(),
                    "grad V as dim expressions separated by ';'. Empty: computed from "
                    "Potential by fourth-order central differences.");
  prm.declare_entry("Diffusion",
                    "1",
                    Patterns::Double(),
                    "The diffusion eps (temperature); expressions can use it as eps.");
  prm.leave_subsection();
}

void PhysicsParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Physics");
  potential          = prm.get("Potential");
  potential_gradient = prm.get("Potential gradient");
  diffusion          = prm.get_double("Diffusion");
  prm.leave_subsection();
}

Constants constants_with_diffusion(const Constants &constants, const double diffusion)
{
  if (constants.count("eps") > 0)
    throw InputError(
        "Constants: 'eps' is reserved for Physics/Diffusion; choose another name.");
  Constants all = constants;
  all["eps"]    = diffusion;
  return all;
}

template <int dim>
Physics<dim>::Physics(const PhysicsParameters &parameters, const Constants &constants)
    : all_constants(constants_with_diffusion(constants, parameters.diffusion))
    , eps(parameters.diffusion)
    , potential_field(parameters.potential,
                      parameters.potential_gradient,
                      all_constants,
                      "Physics/Potential")
{
}

template <int dim>
const ScalarField<dim> &Physics<dim>::potential() const
{
  return potential_field;
}

template <int dim>
double Physics<dim>::diffusion() const
{
  return eps;
}

template <int dim>
const Constants &Physics<dim>::constants() const
{
  return all_constants;
}

template class Physics<1>;
template class Physics<2>;
template class Physics<3>;
} // namespace densityflow
