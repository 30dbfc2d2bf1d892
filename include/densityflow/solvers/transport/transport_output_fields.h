#pragma once

#include <densityflow/base/expression.h>

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/data_postprocessor.h>

#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The fields of density.pvd of the DG solvers (transport and interaction): rho, the drift
 * `b`, the `velocity` that moves rho (the probability flow b - eps grad log rho, or b
 * itself) and, where an exact solution is given, `exact` and `error`. A derived class
 * computes b and the velocity and writes a point's fields with fill().
 */
template <int dim>
class TransportOutputFields : public DataPostprocessor<dim>
{
public:
  /** @p exact may be null. */
  explicit TransportOutputFields(const Expression<dim> *exact)
      : exact(exact)
  {}

  std::vector<std::string> get_names() const override
  {
    std::vector<std::string> names = {"rho"};
    names.insert(names.end(), dim, "b");
    names.insert(names.end(), dim, "velocity");
    if (exact != nullptr)
      names.insert(names.end(), {"exact", "error"});
    return names;
  }

  std::vector<DataComponentInterpretation::DataComponentInterpretation>
  get_data_component_interpretation() const override
  {
    std::vector<DataComponentInterpretation::DataComponentInterpretation> kinds(
        1, DataComponentInterpretation::component_is_scalar);
    kinds.insert(kinds.end(), 2 * dim, DataComponentInterpretation::component_is_part_of_vector);
    if (exact != nullptr)
      kinds.insert(kinds.end(), 2, DataComponentInterpretation::component_is_scalar);
    return kinds;
  }

protected:
  /** The fields at @p x at @p time, in the order of get_names(). */
  void fill(Vector<double>       &computed,
            const Point<dim>     &x,
            const double          time,
            const double          rho,
            const Tensor<1, dim> &b,
            const Tensor<1, dim> &velocity) const
  {
    unsigned int k = 0;
    computed(k++)  = rho;
    for (unsigned int d = 0; d < dim; ++d)
      computed(k++) = b[d];
    for (unsigned int d = 0; d < dim; ++d)
      computed(k++) = velocity[d];
    if (exact != nullptr)
      {
        const double rho_exact = exact->value(x, time);
        computed(k++)          = rho_exact;
        computed(k++)          = rho - rho_exact;
      }
  }

  const Expression<dim> *exact;
};
} // namespace densityflow
