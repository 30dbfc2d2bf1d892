#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <filesystem>
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
  prm.declare_entry("Samples",
                    "",
                    Patterns::Anything(),
                    "Instead of Density: nu as the empirical measure of a sample file (relative "
                    "to the folder of the .prm file), in the formats `densityflow compare` "
                    "reads: CSV with columns x (y, z) and optionally weight, or .npy of shape "
                    "(N, dim). Each sample is an atom of weight -1/N in rho_h - nu (or its "
                    "normalised weight).");
  prm.leave_subsection();
  prm.declare_entry("Velocity summation",
                    "automatic",
                    Patterns::Selection("automatic|direct|sorted|sliced"),
                    "How -grad(W * (rho_h - nu)) is summed over the quadrature atoms of rho_h "
                    "and nu. direct: over all atoms at each point, O(N M). sorted (1D, r = 1 "
                    "only): mu(y < x) - mu(y > x) from prefix sums of the sorted atoms, O(N log "
                    "N), the same to round-off. sliced (2D/3D, r = 1 only): |z| = c_d E_theta "
                    "|<theta, z>| averaged over `Sliced directions` directions, O(P N log N), "
                    "with a Monte-Carlo error. automatic: sorted in 1D, sliced in 2D/3D above "
                    "16384 atoms (r = 1), else direct.");
  prm.declare_entry("Sliced directions",
                    "100",
                    Patterns::Integer(1),
                    "sliced: the number P of directions, a multiple of `Sliced direction sets`.");
  prm.declare_entry("Sliced direction sets",
                    "5",
                    Patterns::Integer(2),
                    "sliced: the directions are this many sets of P / sets evenly spread "
                    "directions (2D: equally spaced angles; 3D: a spherical Fibonacci lattice), "
                    "each rotated at random; the spread of the sets' estimates is the "
                    "reported standard error.");
  prm.declare_entry("Sliced seed",
                    "1",
                    Patterns::Integer(0),
                    "sliced: the seed of the sets' rotations (the same directions on every rank "
                    "and at every stage).");
  prm.leave_subsection();
}

void InteractionParameters::parse_parameters(ParameterHandler  &prm,
                                             const std::string &base_directory)
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
  target                    = Utilities::trim(prm.get("Density"));
  const std::string samples = Utilities::trim(prm.get("Samples"));
  target_samples            = samples.empty() || std::filesystem::path(samples).is_absolute()
                                  ? samples
                                  : (std::filesystem::path(base_directory) / samples).string();
  prm.leave_subsection();
  const std::string name = prm.get("Velocity summation");
  summation              = name == "direct"   ? InteractionSummation::direct
                           : name == "sorted" ? InteractionSummation::sorted
                           : name == "sliced" ? InteractionSummation::sliced
                                              : InteractionSummation::automatic;
  slicing.directions     = prm.get_integer("Sliced directions");
  slicing.sets           = prm.get_integer("Sliced direction sets");
  slicing.seed           = prm.get_integer("Sliced seed");
  prm.leave_subsection();
  if (!target.empty() && !target_samples.empty())
    throw InputError("Interaction/Target/Density = '" + target +
                     "' and Interaction/Target/Samples = '" + samples +
                     "' both give the target nu: set one of them.");
  if (slicing.directions % slicing.sets != 0)
    {
      std::ostringstream message;
      message << "Interaction/Sliced directions = " << slicing.directions
              << " is not a multiple of Interaction/Sliced direction sets = " << slicing.sets
              << ".";
      throw InputError(message.str());
    }
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
      case InteractionSummation::sliced:
        return "sliced";
      case InteractionSummation::automatic:
        break;
    }
  return "automatic";
}

InteractionSummation resolve_summation(const unsigned int         dim,
                                       const double               r,
                                       const InteractionSummation requested,
                                       const std::size_t          n_atoms)
{
  const bool sortable = dim == 1 && r == 1, sliceable = dim > 1 && r == 1;
  if (requested == InteractionSummation::automatic)
    return sortable                                        ? InteractionSummation::sorted
           : sliceable && n_atoms > automatic_sliced_atoms ? InteractionSummation::sliced
                                                           : InteractionSummation::direct;
  if ((requested == InteractionSummation::sorted && !sortable) ||
      (requested == InteractionSummation::sliced && !sliceable))
    {
      std::ostringstream message;
      message << "Interaction/Velocity summation = " << to_string(requested)
              << (requested == InteractionSummation::sorted ? " is exact only in 1D"
                                                            : " applies only in 2D/3D")
              << " with Interaction/Kernel/Type = riesz and Exponent = 1 (here dimension " << dim
              << ", "
              << (std::isnan(r) ? std::string("another kernel") : "exponent " + std::to_string(r))
              << "): use direct or automatic.";
      throw InputError(message.str());
    }
  return requested;
}
} // namespace densityflow
