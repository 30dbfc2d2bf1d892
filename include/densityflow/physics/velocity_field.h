#pragma once

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

namespace densityflow
{
using namespace dealii;

/**
 * A velocity w(x, t) given from outside the density: the `Physics/Velocity` expression,
 * a velocity grid written by another code, or a field computed by a solver. Physics adds
 * it (times its time factor) to -grad V to make the transport drift b, and flow-map
 * particles carry log-density with its divergence.
 *
 * Evaluation need not be thread-safe; densityflow runs one thread per MPI rank.
 */
template <int dim>
class VelocityField
{
public:
  virtual ~VelocityField() = default;

  /** w(x, t). */
  virtual Tensor<1, dim> value(const Point<dim> &x, const double t) const = 0;

  /** div w(x, t), as the field defines it (differences of an expression, the exact
   * derivative of an interpolant). */
  virtual double divergence(const Point<dim> &x, const double t) const = 0;

  /**
   * value() into @p w and divergence() into @p div, the same numbers, in one call: a field
   * whose two share work (the grid: the cell, the corners and the weights) overrides it.
   * Flow-map particles ask for both at every stage.
   */
  virtual void
  value_and_divergence(const Point<dim> &x, const double t, Tensor<1, dim> &w, double &div) const
  {
    w   = value(x, t);
    div = divergence(x, t);
  }

  /** Whether w changes with t (else the transport operator is assembled once). */
  virtual bool depends_on_time() const = 0;
};
} // namespace densityflow
