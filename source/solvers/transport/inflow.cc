#include <densityflow/physics/physics.h>
#include <densityflow/solvers/transport/inflow.h>

#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/vector.h>

namespace densityflow
{
template <int dim>
void assemble_inflow(const DGDiscretization<dim> &space,
                     const Physics<dim>          &physics,
                     const double                 t,
                     PETScWrappers::MPI::Vector  &source)
{
  source = 0;
  if (physics.inflow_is_zero())
    return;
  const FiniteElement<dim>            &fe = space.dof_handler.get_fe();
  FEFaceValues<dim>                    fe_face(space.mapping,
                            fe,
                            space.face_quadrature,
                            update_values | update_quadrature_points | update_normal_vectors |
                                update_JxW_values);
  const unsigned int                   n = fe.n_dofs_per_cell();
  Vector<double>                       cell_source(n);
  std::vector<types::global_dof_index> dofs(n);
  for (const auto &cell : space.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned() && cell->at_boundary())
      {
        cell_source = 0;
        for (const unsigned int f : cell->face_indices())
          if (at_wall(cell, f))
            {
              fe_face.reinit(cell, f);
              for (unsigned int q = 0; q < fe_face.n_quadrature_points; ++q)
                {
                  const Point<dim> &x  = fe_face.quadrature_point(q);
                  const double      bn = physics.drift(x, t) * fe_face.normal_vector(q);
                  if (bn < 0)
                    {
                      const double g = physics.inflow_density().value(x, t);
                      for (unsigned int i = 0; i < n; ++i)
                        cell_source(i) -= bn * g * fe_face.shape_value(i, q) * fe_face.JxW(q);
                    }
                }
            }
        cell->get_dof_indices(dofs);
        source.add(dofs, cell_source);
      }
  source.compress(VectorOperation::add);
}

template void assemble_inflow<1>(const DGDiscretization<1> &,
                                 const Physics<1> &,
                                 const double,
                                 PETScWrappers::MPI::Vector &);
template void assemble_inflow<2>(const DGDiscretization<2> &,
                                 const Physics<2> &,
                                 const double,
                                 PETScWrappers::MPI::Vector &);
template void assemble_inflow<3>(const DGDiscretization<3> &,
                                 const Physics<3> &,
                                 const double,
                                 PETScWrappers::MPI::Vector &);
} // namespace densityflow
