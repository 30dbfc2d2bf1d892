#pragma once

#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <string>

namespace densityflow
{
/**
 * A radial interaction kernel W(z) = f(|z|) of Physics/Model = interaction
 * (Interaction/Kernel), as the two numbers direct summation needs at a distance n = |z|:
 * W itself and the factor g(n) of -grad W(z) = g(|z|) z. An atom at the evaluation point
 * itself contributes g = 0 (every kernel here has grad W(0) = 0 or a singular one whose
 * principal value is 0), but W(0) enters the energy:
 * - riesz: W = -|z|^r, g = r |z|^{r-2} (0 < r < 2; W(0) = 0);
 * - gaussian: W = exp(-|z|^2 / (2 s^2)), g = W / s^2 (positive definite; W(0) = 1);
 * - attractive-repulsive: W = |z|^a / a - |z|^b / b, g = |z|^{b-2} - |z|^{a-2}
 *   (a > 0, 0 < b < a, or no repulsive term; W(0) = 0).
 */
class RadialKernel
{
public:
  /** The kernel of the Interaction/Kernel parameters (already checked by their parser). */
  explicit RadialKernel(const InteractionParameters &parameters);

  /** The Riesz kernel -|z|^@p r. */
  static RadialKernel riesz(const double r);

  InteractionKernel type() const;

  /** r for the Riesz kernel; NaN for the others (no r = 1 shortcut applies to them). */
  double riesz_exponent() const;

  /** W at distance @p n >= 0. */
  double value(const double n) const;

  /** g(@p n) with -grad W(z) = g(|z|) z, for n > 0. */
  double velocity_factor(const double n) const;

  /** The formula with its parameters, for the log. */
  std::string description() const;

private:
  RadialKernel() = default;

  InteractionKernel kind = InteractionKernel::riesz;
  /** r (riesz), s (gaussian), a (attractive-repulsive). */
  double first = 1;
  /** b (attractive-repulsive; 0: no repulsive term). */
  double second = 0;
};
} // namespace densityflow
