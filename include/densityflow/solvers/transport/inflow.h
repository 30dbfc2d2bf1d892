#pragma once

#include <densityflow/solvers/transport/dg_discretization.h>

#include <deal.II/lac/petsc_vector.h>

namespace densityflow
{
using namespace dealii;

template <int dim>
class Physics;

/**
 * The inflow source s_i = int_{b.n < 0} -(b.n) g phi_i of the inflow density g at
 * time @p t over the boundary, into @p source (overwritten; 0 where g is zero).
 */
template <int dim>
void assemble_inflow(const DGDiscretization<dim> &space,
                     const Physics<dim>          &physics,
                     const double                 t,
                     PETScWrappers::MPI::Vector  &source);
} // namespace densityflow
