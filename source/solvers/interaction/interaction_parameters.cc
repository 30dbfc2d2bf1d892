#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <sstream>

namespace densityflow
{
void InteractionParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Interaction");
  prm.enter_subsection("Kernel");
  prm.declare_entry("Type",
                    "riesz",
                    Patterns::Selection("riesz"),
                    "Physics/Model = interaction: the kernel W. riesz: W(z) = -|z|^r, 0 < r < 2 "
                    "(r = 1 gives the energy distance).");
  prm.declare_entry(
      "Exponent", "1", Patterns::Double(), "The exponent r of the Riesz kernel, 0 < r < 2.");
  prm.leave_subsection();
  prm.enter_subsection("Target");
  prm.declare_entry("Density",
                    "",
                    Patterns::Anything(),
                    "The target nu as an expression of x (y, z), normalised to unit mass on the "
                    "mesh: the flow is then the MMD flow of 1/2 MMD_W^2(rho, nu). Empty: no "
                    "target (an aggregation flow of int V rho + 1/2 int int W(x - y) rho rho).");
  prm.leave_subsection();
  prm.declare_entry("Velocity summation",
                    "automatic",
                    Patterns::Selection("automatic|direct|sorted"),
                    "How -grad(W * (rho_h - nu)) is summed over the quadrature atoms of rho_h "
                    "and nu. direct: over all atoms at each point, O(N M). sorted (1D, r = 1 "
                    "only): mu(y < x) - mu(y > x) from prefix sums of the sorted atoms, O(N log "
                    "N), the same to round-off. automatic: sorted where it applies, else direct.");
  prm.leave_subsection();
}

void InteractionParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Interaction");
  prm.enter_subsection("Kernel");
  kernel   = InteractionKernel::riesz;
  exponent = prm.get_double("Exponent");
  prm.leave_subsection();
  prm.enter_subsection("Target");
  target = Utilities::trim(prm.get("Density"));
  prm.leave_subsection();
  const std::string name = prm.get("Velocity summation");
  summation              = name == "direct"   ? InteractionSummation::direct
                           : name == "sorted" ? InteractionSummation::sorted
                                              : InteractionSummation::automatic;
  prm.leave_subsection();
  if (!(exponent > 0 && exponent < 2))
    {
      std::ostringstream message;
      message << "Interaction/Kernel/Exponent = " << exponent
              << " is out of range: the Riesz kernel -|z|^r needs 0 < r < 2.";
      throw InputError(message.str());
    }
}

std::string to_string(const InteractionSummation summation)
{
  switch (summation)
    {
      case InteractionSummation::direct:
        return "direct";
      case InteractionSummation::sorted:
        return "sorted";
      case InteractionSummation::automatic:
        break;
    }
  return "automatic";
}
} // namespace densityflow
