#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/physics/likelihood_parameters.h>
#include <densityflow/physics/velocity_field.h>

#include <deal.II/base/parameter_handler.h>

#include <memory>
#include <string>

namespace densityflow
{
using namespace dealii;

/** Which equation a problem solves. */
enum class Model
{
  /** d/dt rho = div(eps grad rho + rho grad V), eps > 0: the symmetric CG solver. */
  fokker_planck,
  /** d/dt rho + div(rho b) = eps Laplace rho, b = -grad V + f(t) w, eps >= 0: DG. */
  transport,
  /** A prescribed density path rho_t ∝ exp(-U(x, t)) and its least-kinetic-energy
   * velocity (the `Path` subsection); V, eps give pi ∝ exp(-V/eps). */
  path,
  /** d/dt rho = div(rho grad(V + W * (rho - nu))), eps = 0: the Wasserstein gradient flow
   * of an interaction energy or MMD (the `Interaction` subsection); DG and SSP-RK3. */
  interaction
};

/**
 * The `Physics` subsection: the model, the potential V, the velocity w with its time
 * factor f, the diffusion eps and the inflow density.
 */
struct PhysicsParameters
{
  Model       model              = Model::fokker_planck;
  std::string potential          = "0";
  std::string potential_gradient = "";
  std::string velocity           = "";
  std::string velocity_factor    = "1";
  std::string inflow_density     = "0";
  double      diffusion          = 1.0;
  /** `Physics/Likelihood`: data whose negative log-likelihood is added to V. */
  LikelihoodParameters likelihood;

  static void declare_parameters(ParameterHandler &prm);
  /** @param base_directory the .prm's folder, where relative data files start */
  void parse_parameters(ParameterHandler &prm, const std::string &base_directory = ".");
};

/**
 * What drives the density: the potential V(x, t), the diffusion eps and, for the
 * transport model, the drift b(x, t) = -grad V(x, t) + f(t) w(x, t) and the density
 * that flows in where b.n < 0. Without diffusion, pi = exp(-V/eps)/Z balances -grad V.
 */
template <int dim>
class Physics
{
public:
  /** @param constants the problem's named constants; `eps` is added here. */
  Physics(const PhysicsParameters &parameters, const Constants &constants);

  Model model() const;

  /**
   * V: Physics/Potential plus, with a Physics/Likelihood data file, the sum of the
   * rows' negative log-likelihoods (then Physics/Potential is the negative log-prior).
   */
  const ScalarField<dim> &potential() const;

  double diffusion() const;

  /** b(x, t) = -grad V(x, t) + f(t) w(x, t). */
  Tensor<1, dim> drift(const Point<dim> &x, const double t) const;

  /** div b(x, t) = f(t) div w - Laplace V, by differences where no expression gives it. */
  double drift_divergence(const Point<dim> &x, const double t) const;

  /**
   * drift() into @p b and drift_divergence() into @p div, the same numbers, with f(t) and
   * the velocity field asked once (VelocityField::value_and_divergence()).
   */
  void
  drift_and_divergence(const Point<dim> &x, const double t, Tensor<1, dim> &b, double &div) const;

  /** The part of b that the time factor multiplies: w(x, t) (zero without Velocity). */
  Tensor<1, dim> velocity(const Point<dim> &x, const double t) const;

  /**
   * Replaces w by @p field (or removes it where null): a velocity that is not an
   * expression. Call before the solvers and particles are made from this Physics.
   */
  void set_velocity(std::shared_ptr<const VelocityField<dim>> field);

  /** f(t). */
  double velocity_factor(const double t) const;

  /** Whether b depends on t at all. */
  bool drift_depends_on_time() const;

  /** Whether b(x, t) = f(t) w(x): no potential gradient, w independent of t. */
  bool drift_is_separable() const;

  /** The density flowing in where b.n < 0 (transport, eps = 0 or not). */
  const Expression<dim> &inflow_density() const;

  /** Whether the inflow density is identically zero (its text is a zero constant). */
  bool inflow_is_zero() const;

  /** The constants every expression of the problem sees (the user's and eps). */
  const Constants &constants() const;

private:
  Model                                     physics_model;
  Constants                                 all_constants;
  double                                    eps;
  ScalarField<dim>                          potential_field;
  std::shared_ptr<const VelocityField<dim>> velocity_field;
  Expression<dim>                           factor;
  Expression<dim>                           inflow;
  bool                                      zero_inflow;
};

/** The user's constants plus eps = @p diffusion; InputError if the user took `eps`. */
Constants constants_with_diffusion(const Constants &constants, const double diffusion);
} // namespace densityflow
