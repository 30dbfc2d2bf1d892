#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
void InteractionParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Interaction");
  prm.enter_subsection("Kernel");
  prm.declare_entry("Type",
                    "riesz",
                    Patterns::Selection("riesz|gaussian|attractive-repulsive"),
                    "Physics/Model = interaction: the kernel W. riesz: W(z) = -|z|^r, 0 < r < 2 "
                    "(r = 1 gives the energy distance). gaussian: W(z) = exp(-|z|^2 / (2 s^2)) "
                    "(positive definite: E = 1/2 MMD^2 >= 0). attractive-repulsive: W(z) = "
                    "|z|^a / a - |z|^b / b (attraction at long range, repulsion at short).");
  prm.declare_entry(
      "Exponent", "1", Patterns::Double(), "The exponent r of the Riesz kernel, 0 < r < 2.");
  prm.declare_entry("Width", "1", Patterns::Double(), "The width s > 0 of the Gaussian kernel.");
  prm.declare_entry("Attractive exponent",
                    "2",
                    Patterns::Double(),
                    "a > 0 of the attractive-repulsive kernel (a = 2: -grad W(z) = -z, so "
                    "grad(W * rho)(x) = x - mean(rho) for unit mass).");
  prm.declare_entry("Repulsive exponent",
                    "1",
                    Patterns::Anything(),
                    "b of the attractive-repulsive kernel: 0 < b < a, or none (no repulsive "
                    "term: W(z) = |z|^a / a). b <= 0 (the log kernel at b = 0, Newtonian-like "
                    "below) is not offered: -grad W has the singularity |z|^{b-1}, which the "
                    "sum over quadrature atoms does not integrate (not at all in 1D).");
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
  const std::string type      = prm.get("Type");
  kernel                      = type == "gaussian"               ? InteractionKernel::gaussian
                                : type == "attractive-repulsive" ? InteractionKernel::attractive_repulsive
                                                                 : InteractionKernel::riesz;
  exponent                    = prm.get_double("Exponent");
  width                       = prm.get_double("Width");
  attractive_exponent         = prm.get_double("Attractive exponent");
  const std::string repulsive = Utilities::trim(prm.get("Repulsive exponent"));
  prm.leave_subsection();
  if (repulsive == "none")
    repulsive_exponent = 0;
  else
    {
      std::size_t used = 0;
      try
        {
          repulsive_exponent = std::stod(repulsive, &used);
        }
      catch (const std::exception &)
        {
          used = 0;
        }
      if (repulsive.empty() || used != repulsive.size() ||
          (kernel == InteractionKernel::attractive_repulsive && !(repulsive_exponent > 0)))
        throw InputError("Interaction/Kernel/Repulsive exponent = '" + repulsive +
                         "': it must be a number 0 < b < a or none (no repulsive term).");
    }
  prm.enter_subsection("Target");
  target = Utilities::trim(prm.get("Density"));
  prm.leave_subsection();
  const std::string name = prm.get("Velocity summation");
  summation              = name == "direct"   ? InteractionSummation::direct
                           : name == "sorted" ? InteractionSummation::sorted
                                              : InteractionSummation::automatic;
  prm.leave_subsection();
  check_kernel();
}

void InteractionParameters::check_kernel() const
{
  std::ostringstream message;
  if (kernel == InteractionKernel::gaussian && !(width > 0 && std::isfinite(width)))
    message << "Interaction/Kernel/Width = " << width << ": the Gaussian kernel needs s > 0.";
  if (kernel == InteractionKernel::attractive_repulsive &&
      !(attractive_exponent > 0 && std::isfinite(attractive_exponent)))
    message << "Interaction/Kernel/Attractive exponent = " << attractive_exponent
            << ": the attractive-repulsive kernel needs a > 0.";
  else if (kernel == InteractionKernel::attractive_repulsive &&
           !(repulsive_exponent >= 0 && repulsive_exponent < attractive_exponent))
    message << "Interaction/Kernel/Repulsive exponent = " << repulsive_exponent
            << ": the attractive-repulsive kernel needs 0 < b < a = " << attractive_exponent
            << " (or none: no repulsive term).";
  if (!message.str().empty())
    throw InputError(message.str());
  if (kernel == InteractionKernel::riesz && !(exponent > 0 && exponent < 2))
    {
      std::ostringstream riesz;
      riesz << "Interaction/Kernel/Exponent = " << exponent
            << " is out of range: the Riesz kernel -|z|^r needs 0 < r < 2.";
      throw InputError(riesz.str());
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
