#pragma once

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <memory>
#include <vector>

namespace densityflow
{
using namespace dealii;

struct InteractionParameters;
template <int dim>
class InteractionField;
template <int dim>
class Mesh;
template <int dim>
class Physics;

/**
 * The target nu of the interaction model (Interaction/Target) as the part of the velocity
 * it contributes at any point: -grad(W * (-nu))(x) = grad(W * nu)(x), zero without a target.
 *
 * nu is normalised to unit mass on the mesh. In 1D with the Riesz kernel and r = 1 the
 * contribution is 1 - 2 F_nu(x) with the cumulative distribution F_nu exact to quadrature
 * (cell masses and the partial cell by a 6-point Gauss rule), so that particles feel the
 * target's own CDF, not a step function of its atoms. Elsewhere nu is the atoms of a 4-point
 * Gauss rule per cell (dim-fold product), summed like the particles' measure.
 */
template <int dim>
class TargetMeasure
{
public:
  /** Collective: each rank integrates its cells, every rank holds the whole measure. */
  TargetMeasure(const Mesh<dim>             &mesh,
                const Physics<dim>          &physics,
                const InteractionParameters &interaction);
  ~TargetMeasure();

  /** Whether a target is given. */
  bool empty() const;

  /** grad(W * nu)(@p x). */
  Tensor<1, dim> velocity(const Point<dim> &x) const;

private:
  /** F_nu(@p x) in 1D. */
  double cdf(const double x) const;

  bool has_target = false;
  /** 1D, r = 1: the cells' left ends (sorted, with the last right end) and F_nu there. */
  std::vector<double> ends, cumulative;
  /** The nu expression for partial cells (1D, r = 1). */
  struct Density;
  std::unique_ptr<Density> density;
  /** Elsewhere: the atoms of -nu. */
  std::unique_ptr<InteractionField<dim>> atoms;
};
} // namespace densityflow
