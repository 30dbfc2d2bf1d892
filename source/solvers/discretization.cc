#include <densityflow/base/exceptions.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/discretization.h>

namespace densityflow
{
void DiscretizationParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Discretization");
  prm.declare_entry("Degree",
                    "1",
                    Patterns::Integer(),
                    "Polynomial degree p of the finite elements: 1 to 3 for Fokker-Planck "
                    "and path (continuous Q_p), 0 to 3 for transport (discontinuous Q_p).");
  prm.declare_entry("Limiter",
                    "true",
                    Patterns::Bool(),
                    "Transport with ssp-rk3: the Zhang-Shu bound-preserving limiter, which "
                    "scales each cell's polynomial towards its mean so that rho >= 0 at the "
                    "points the positivity proof needs, keeping mass and the order of accuracy.");
  prm.declare_entry("Mass lumping",
                    "auto",
                    Patterns::Selection("auto|true|false"),
                    "Lump the weighted mass matrix to its row sums (Fokker-Planck). With "
                    "degree 1 on box-shaped cells this makes backward Euler keep the density "
                    "non-negative and the free energy decreasing. Only for degree 1: the "
                    "weighted row sums of Q2/Q3 basis functions can be negative. auto: lumped "
                    "for degree 1, consistent otherwise.");
  prm.leave_subsection();
}

void DiscretizationParameters::parse_parameters(ParameterHandler &prm, const Model model)
{
  prm.enter_subsection("Discretization");
  const long        p       = prm.get_integer("Degree");
  const std::string lumping = prm.get("Mass lumping");
  limiter                   = prm.get_bool("Limiter");
  prm.leave_subsection();
  if (p < 0 || p > 3)
    throw InputError("Discretization/Degree = " + std::to_string(p) +
                     " is out of range: it must be 0 to 3 (1 to 3 for the Fokker-Planck model).");
  if (p == 0 && model == Model::fokker_planck)
    throw InputError("Discretization/Degree = 0 is out of range for the Fokker-Planck model: it "
                     "must be 1, 2 or 3.");
  if (p == 0 && model == Model::path)
    throw InputError("Discretization/Degree = 0 is out of range for the path model (its velocity "
                     "is the gradient of a continuous potential): it must be 1, 2 or 3.");
  degree       = p;
  mass_lumping = lumping == "true" || (lumping == "auto" && degree == 1);
  if (lumping == "true" && degree != 1)
    throw InputError("Discretization/Mass lumping = true needs Degree = 1: the weighted row sums "
                     "of Q" +
                     std::to_string(degree) +
                     " basis functions can be negative. Use auto or false.");
}
} // namespace densityflow
