#include <densityflow/base/exceptions.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/path/density_path.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
namespace
{
/**
 * df/dt by fourth-order central differences with step h: error h^4 f^(5)/30, about
 * 1e-13 for h = 1e-3 and functions of t of unit scale.
 */
template <typename F>
double time_difference(const F &f, const double t)
{
  const double h = 1e-3;
  return (8 * (f(t + h) - f(t - h)) - (f(t + 2 * h) - f(t - 2 * h))) / (12 * h);
}
} // namespace

void PathParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Path");
  prm.declare_entry("Log density",
                    "",
                    Patterns::Anything(),
                    "Physics/Model = path: U(x, t) with rho_t proportional to exp(-U), an "
                    "expression of x (y, z), t and the Constants (any constant in x may be "
                    "added). Its density at t = 0 must be the Initial density. Empty: the "
                    "geometric path U = (1 - beta(t)) U0 + beta(t) V/eps from rho0 = exp(-U0) "
                    "(Initial density, > 0 on the mesh) to pi proportional to exp(-V/eps).");
  prm.declare_entry("Time derivative",
                    "",
                    Patterns::Anything(),
                    "dU/dt of Log density as an expression. Empty: fourth-order differences "
                    "in t of Log density (step 1e-3).");
  prm.declare_entry("Schedule",
                    "t",
                    Patterns::Anything(),
                    "The geometric path's beta(t), an expression of t with beta(0) = 0 "
                    "(beta = 1 is pi).");
  prm.declare_entry("Schedule derivative",
                    "",
                    Patterns::Anything(),
                    "beta'(t) as an expression. Empty: fourth-order differences of Schedule.");
  prm.declare_entry("Weight floor",
                    "1e-14",
                    Patterns::Double(0, 1),
                    "The weight of the Neumann operator -div(w grad phi) is w = max(rho_t, "
                    "floor * max rho_t): where rho_t underflows the matrix stays regular and "
                    "phi extends harmonically; the right-hand side is not changed.");
  prm.leave_subsection();
}

void PathParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Path");
  log_density         = Utilities::trim(prm.get("Log density"));
  time_derivative     = Utilities::trim(prm.get("Time derivative"));
  schedule            = Utilities::trim(prm.get("Schedule"));
  schedule_derivative = Utilities::trim(prm.get("Schedule derivative"));
  weight_floor        = prm.get_double("Weight floor");
  prm.leave_subsection();
  if (log_density.empty() && !time_derivative.empty())
    throw InputError("Path/Time derivative is the derivative of Path/Log density, which is "
                     "empty (the geometric path takes Path/Schedule derivative instead).");
  if (schedule.empty())
    throw InputError("Path/Schedule must not be empty (default: t).");
}

template <int dim>
DensityPath<dim>::DensityPath(const PathParameters  &parameters,
                              const Physics<dim>    &physics,
                              const Expression<dim> &rho0)
    : physics(physics)
    , rho0(rho0)
{
  const Constants &constants = physics.constants();
  if (!parameters.log_density.empty())
    {
      log_density =
          std::make_unique<Expression<dim>>(parameters.log_density, constants, "Path/Log density");
      if (!parameters.time_derivative.empty())
        log_density_rate = std::make_unique<Expression<dim>>(
            parameters.time_derivative, constants, "Path/Time derivative");
      return;
    }
  beta = std::make_unique<Expression<dim>>(parameters.schedule, constants, "Path/Schedule");
  if (beta->depends_on_space())
    throw InputError("Path/Schedule = '" + parameters.schedule + "' must depend on t only.");
  if (!parameters.schedule_derivative.empty())
    {
      beta_rate = std::make_unique<Expression<dim>>(
          parameters.schedule_derivative, constants, "Path/Schedule derivative");
      if (beta_rate->depends_on_space())
        throw InputError("Path/Schedule derivative = '" + parameters.schedule_derivative +
                         "' must depend on t only.");
    }
  const double beta0 = schedule(0);
  if (!(std::abs(beta0) <= 1e-12))
    {
      std::ostringstream out;
      out << "Path/Schedule = '" << parameters.schedule << "' is " << beta0
          << " at t = 0; the geometric path starts at the Initial density, beta(0) = 0.";
      throw InputError(out.str());
    }
}

template <int dim>
DensityPath<dim>::~DensityPath() = default;

template <int dim>
double DensityPath<dim>::schedule(const double t) const
{
  return beta->value(Point<dim>(), t);
}

template <int dim>
double DensityPath<dim>::schedule_rate(const double t) const
{
  if (beta_rate)
    return beta_rate->value(Point<dim>(), t);
  return time_difference([this](const double s) { return schedule(s); }, t);
}

template <int dim>
double DensityPath<dim>::value(const Point<dim> &x, const double t) const
{
  if (log_density)
    return log_density->value(x, t);
  // -log rho0 is +inf where rho0 = 0 and NaN where it is negative: the solver reports it.
  const double U0 = -std::log(rho0.value(x, 0.0));
  const double b  = schedule(t);
  return (1 - b) * U0 + b * physics.potential().value(x, t) / physics.diffusion();
}

template <int dim>
bool DensityPath<dim>::has_fixed_endpoints() const
{
  return !log_density && !physics.potential().depends_on_time();
}

template <int dim>
std::pair<double, double> DensityPath<dim>::endpoints(const Point<dim> &x) const
{
  return {-std::log(rho0.value(x, 0.0)), physics.potential().value(x, 0.0)};
}

template <int dim>
std::pair<double, double> DensityPath<dim>::from_endpoints(const std::pair<double, double> &e,
                                                           const double                     b,
                                                           const double b_rate) const
{
  const auto [U0, V] = e;
  return {(1 - b) * U0 + b * V / physics.diffusion(), b_rate * (V / physics.diffusion() - U0)};
}

template <int dim>
double DensityPath<dim>::time_derivative(const Point<dim> &x, const double t) const
{
  if (log_density_rate)
    return log_density_rate->value(x, t);
  if (log_density || physics.potential().depends_on_time())
    return time_difference([&](const double s) { return value(x, s); }, t);
  const double U0 = -std::log(rho0.value(x, 0.0));
  return schedule_rate(t) * (physics.potential().value(x, t) / physics.diffusion() - U0);
}

template <int dim>
bool DensityPath<dim>::is_geometric() const
{
  return !log_density;
}

template <int dim>
std::string DensityPath<dim>::parameter_name() const
{
  return log_density ? "Path/Log density" : "Initial density/Expression";
}

template <int dim>
std::string DensityPath<dim>::description() const
{
  if (log_density)
    return "path rho_t ~ exp(-U), U = " + log_density->text() +
           (log_density_rate ? "" : " (dU/dt by differences)");
  return "geometric path from rho0 to pi ~ exp(-V/eps), beta(t) = " + beta->text();
}

template class DensityPath<1>;
template class DensityPath<2>;
template class DensityPath<3>;
} // namespace densityflow
