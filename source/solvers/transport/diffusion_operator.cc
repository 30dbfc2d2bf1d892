#include <densityflow/solvers/transport/diffusion_operator.h>

#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/full_matrix.h>

namespace densityflow
{
namespace
{
/** eps int_K grad phi_i . grad phi_j of the cell on which @p fe_values is reinitialised. */
template <int dim>
void cell_term(const FEValues<dim> &fe_values, const double eps, FullMatrix<double> &cell_matrix)
{
  const unsigned int n = cell_matrix.m();
  cell_matrix          = 0;
  for (unsigned int q = 0; q < fe_values.n_quadrature_points; ++q)
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int j = 0; j < n; ++j)
        cell_matrix(i, j) +=
            eps * fe_values.shape_grad(i, q) * fe_values.shape_grad(j, q) * fe_values.JxW(q);
}

/** The consistency, symmetry and penalty terms of the face @p fe_interface is on. */
template <int dim>
FullMatrix<double>
face_term(const FEInterfaceValues<dim> &fe_interface, const double eps, const double penalty)
{
  const unsigned int  m = fe_interface.n_current_interface_dofs();
  FullMatrix<double>  face_matrix(m);
  std::vector<double> jump(m), normal_gradient(m);
  for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
    {
      const Tensor<1, dim> &normal = fe_interface.normal(q);
      for (unsigned int i = 0; i < m; ++i)
        {
          jump[i]            = fe_interface.jump_in_shape_values(i, q);
          normal_gradient[i] = fe_interface.average_of_shape_gradients(i, q) * normal;
        }
      const double w = eps * fe_interface.JxW(q);
      for (unsigned int i = 0; i < m; ++i)
        for (unsigned int j = 0; j < m; ++j)
          face_matrix(i, j) += w * (-normal_gradient[j] * jump[i] - jump[j] * normal_gradient[i] +
                                    penalty * jump[j] * jump[i]);
    }
  return face_matrix;
}
} // namespace

template <int dim>
DiffusionOperator<dim>::DiffusionOperator(const DGDiscretization<dim> &space, const double eps)
{
  space.reinit_flux_matrix(matrix);
  const FiniteElement<dim> &fe             = space.dof_handler.get_fe();
  const unsigned int        p              = fe.degree;
  const double              penalty_factor = std::max(1.0, 2.0 * p * (p + 1));
  FEValues<dim>             fe_values(
      space.mapping, fe, space.quadrature, update_gradients | update_JxW_values);
  FEInterfaceValues<dim>               fe_interface(space.mapping,
                                      fe,
                                      space.face_quadrature,
                                      update_values | update_gradients | update_JxW_values |
                                          update_normal_vectors);
  FullMatrix<double>                   cell_matrix(fe.n_dofs_per_cell());
  std::vector<types::global_dof_index> dofs(fe.n_dofs_per_cell());
  for (const auto &cell : space.dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        fe_values.reinit(cell);
        cell_term(fe_values, eps, cell_matrix);
        cell->get_dof_indices(dofs);
        matrix.add(dofs, cell_matrix);

        for (const unsigned int f : cell->face_indices())
          {
            if (at_wall(cell, f))
              continue;
            const FaceKind kind = face_kind(cell, f);
            if (kind == FaceKind::finer_across)
              {
                // A hanging face: each subface once, from this (coarser) side, with the
                // penalty of the finer cell.
                for (unsigned int sf = 0; sf < n_subfaces(cell, f); ++sf)
                  {
                    const auto [child, neighbor_face] = across_subface(cell, f, sf);
                    fe_interface.reinit(
                        cell, f, sf, child, neighbor_face, numbers::invalid_unsigned_int);
                    const double extent =
                        std::min(cell_extent(cell, f), cell_extent(child, neighbor_face));
                    matrix.add(fe_interface.get_interface_dof_indices(),
                               face_term(fe_interface, eps, penalty_factor / extent));
                  }
                continue;
              }
            if (kind == FaceKind::coarser_across)
              continue;
            const auto [neighbor, neighbor_face] = across_face(cell, f);
            if (!assembles_face(cell, neighbor))
              continue;
            fe_interface.reinit(cell,
                                f,
                                numbers::invalid_unsigned_int,
                                neighbor,
                                neighbor_face,
                                numbers::invalid_unsigned_int);
            const double extent =
                std::min(cell_extent(cell, f), cell_extent(neighbor, neighbor_face));
            const double penalty = std::max(1.0, 2.0 * p * (p + 1)) / extent;
            matrix.add(fe_interface.get_interface_dof_indices(),
                       face_term(fe_interface, eps, penalty));
          }
      }
  matrix.compress(VectorOperation::add);
}

template class DiffusionOperator<1>;
template class DiffusionOperator<2>;
template class DiffusionOperator<3>;
} // namespace densityflow
