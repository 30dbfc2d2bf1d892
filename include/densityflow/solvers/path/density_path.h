#pragma once

#include <densityflow/base/expression.h>

#include <deal.II/base/parameter_handler.h>

#include <memory>
#include <string>
#include <utility>

namespace densityflow
{
using namespace dealii;

template <int dim>
class Physics;

/**
 * The `Path` subsection (Physics/Model = path): the density path rho_t ∝ exp(-U(x, t)),
 * either U given (`Log density`, optionally its `Time derivative`) or, when it is
 * empty, the geometric path U = (1 - beta(t)) U0 + beta(t) V/eps from
 * rho0 = exp(-U0) (Initial density) to pi ∝ exp(-V/eps) with the `Schedule` beta(t).
 */
struct PathParameters
{
  std::string log_density;
  std::string time_derivative;
  std::string schedule = "t";
  std::string schedule_derivative;
  /** The weight of the Neumann operator is max(rho_t, floor max rho_t): where rho_t
   * underflows, phi is still defined (harmonic there) and the matrix stays regular. */
  double weight_floor = 1e-14;

  static void declare_parameters(ParameterHandler &prm);
  void        parse_parameters(ParameterHandler &prm);
};

/**
 * U(x, t) and dU/dt of a density path rho_t ∝ exp(-U(x, t)): the user's expression, or
 * the geometric path between the initial density rho0 and pi ∝ exp(-V/eps). U may be
 * +inf or NaN where rho0 = 0: the solver checks U at its quadrature points and names
 * the parameter (collectively).
 */
template <int dim>
class DensityPath
{
public:
  /**
   * @param rho0 the initial density (Initial density/Expression), needed by the
   * geometric path only. InputError where the schedule depends on x or beta(0) != 0.
   */
  DensityPath(const PathParameters  &parameters,
              const Physics<dim>    &physics,
              const Expression<dim> &rho0);
  ~DensityPath();

  /** U(x, t), up to a constant in x. */
  double value(const Point<dim> &x, const double t) const;

  /** dU/dt(x, t): the expression, beta'(t) (V/eps - U0) or differences in t. */
  double time_derivative(const Point<dim> &x, const double t) const;

  /** Whether U is the built-in geometric path. */
  bool is_geometric() const;

  /**
   * Whether U = (1 - beta(t)) U0 + beta(t) V/eps with U0 = -log rho0 and V independent
   * of t: then U at fixed points follows from endpoints() there, computed once, and the
   * schedule at each time (V may be costly: a sum over a data file's rows).
   */
  bool has_fixed_endpoints() const;

  /** U0 = -log rho0 and V at @p x (has_fixed_endpoints()). */
  std::pair<double, double> endpoints(const Point<dim> &x) const;

  /**
   * U and dU/dt from the @p endpoints at a point, beta(t) = @p b and beta'(t) =
   * @p b_rate: the same numbers as value() and time_derivative() there.
   */
  std::pair<double, double> from_endpoints(const std::pair<double, double> &endpoints,
                                           const double                     b,
                                           const double                     b_rate) const;

  /** beta(t) of the geometric path. */
  double schedule(const double t) const;
  /** beta'(t): the expression, or fourth-order differences. */
  double schedule_rate(const double t) const;

  /** The parameter U comes from, for messages. */
  std::string parameter_name() const;

  /** One line for the log. */
  std::string description() const;

private:
  const Physics<dim>              &physics;
  const Expression<dim>           &rho0;
  std::unique_ptr<Expression<dim>> log_density;
  std::unique_ptr<Expression<dim>> log_density_rate;
  std::unique_ptr<Expression<dim>> beta;
  std::unique_ptr<Expression<dim>> beta_rate;
};
} // namespace densityflow
