#pragma once

#include <densityflow/base/time_parameters.h>
#include <densityflow/solvers/interface.h>

#include <deal.II/base/index_set.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/vector.h>

#include <memory>
#include <string>

namespace dealii
{
template <int dim, int spacedim>
class FiniteElement;
template <int dim, int spacedim>
class FEValues;
template <int dim>
class DataPostprocessor;
} // namespace dealii

namespace densityflow
{
using namespace dealii;

template <int dim>
class Mesh;
template <int dim>
class Physics;

/**
 * What the finite-element density solvers share: the mesh, the physics, one finite
 * element on the mesh's mapping with its DoFHandler and index sets, the quadrature,
 * the ghosted density vector, the clock with the one BDF2 start-up rule, the
 * quadrature measure, the output's subdomain field and the check that the density
 * stayed finite. A derived solver says how rho_h is evaluated on a cell.
 */
template <int dim>
class FiniteElementSolver : public DensitySolver<dim>
{
public:
  ~FiniteElementSolver() override;

  types::global_dof_index n_dofs() const override;
  double                  time() const override;
  void                    set_time(const double t) override;
  void                    quadrature_measure(const unsigned int                                              n,
                                             std::vector<typename Triangulation<dim>::active_cell_iterator> &cells,
                                             std::vector<Point<dim>>                                        &points,
                                             std::vector<double> &weights) const override;

  /** The DoFHandler of the unknowns (for tests that look at the discretisation). */
  const DoFHandler<dim> &get_dof_handler() const;

protected:
  /**
   * Distributes the dofs of @p fe on the mesh; the quadrature is the @p n_gauss-point
   * Gauss rule. @p scheme is the time scheme the derived solver has resolved.
   */
  FiniteElementSolver(const Mesh<dim>                         &mesh,
                      const Physics<dim>                      &physics,
                      const TimeScheme                         scheme,
                      std::unique_ptr<FiniteElement<dim, dim>> fe,
                      const unsigned int                       n_gauss);

  /**
   * rho_h at the points of @p fe_values, reinitialised on the locally owned @p cell
   * with at least values and quadrature points.
   */
  virtual void density_on_cell(const typename DoFHandler<dim>::active_cell_iterator &cell,
                               const FEValues<dim, dim>                             &fe_values,
                               std::vector<double>                                  &rho) const = 0;

  /**
   * Whether a BDF2 step of size @p dt may use the previous step: only with a previous
   * step of the same size. The first step, a step shortened to land on a comparison
   * time and the one after it are backward Euler.
   */
  bool bdf2_step(const double dt) const;

  /** The clock at t = 0, before the first step. */
  void reset_clock();

  /**
   * Ends a step of size @p dt to @p solution: RunError (with @p advice on what to check)
   * if the density is no longer finite, else the clock moves on and the ghosted copy
   * is updated.
   */
  void complete_step(const PETScWrappers::MPI::Vector &solution,
                     const double                      dt,
                     const std::string                &advice);

  /** The DoFHandler's cell of a cell of the triangulation. */
  typename DoFHandler<dim>::active_cell_iterator
  dof_cell(const typename Triangulation<dim>::active_cell_iterator &cell) const;

  /**
   * Adds the ghosted density through @p postprocessor, the MPI subdomain and the cell
   * field `rho_cell_mean` (the mean of rho_h over the cell by the solver's quadrature) to @p
   * data_out and builds patches of @p subdivisions. Both stay alive in the solver until the next
   * output, since DataOut keeps pointers to them until it has written.
   */
  void attach_output(DataOut<dim>                           &data_out,
                     std::unique_ptr<DataPostprocessor<dim>> postprocessor,
                     const unsigned int                      subdivisions) const;

  const Mesh<dim>    &mesh;
  const Physics<dim> &physics;
  const TimeScheme    scheme;
  MPI_Comm            mpi_communicator;
  const Mapping<dim> &mapping;

private:
  std::unique_ptr<const FiniteElement<dim, dim>> fe_pointer;

protected:
  const FiniteElement<dim, dim> &fe;
  QGauss<dim>                    quadrature;
  DoFHandler<dim>                dof_handler;
  IndexSet                       locally_owned_dofs;
  IndexSet                       locally_relevant_dofs;
  /** The nodal values with ghosts, as evaluation and output read them. */
  PETScWrappers::MPI::Vector ghosted_solution;

  double       current_time  = 0;
  unsigned int step_number   = 0;
  double       previous_step = 0;

private:
  mutable std::unique_ptr<DataPostprocessor<dim>> output_postprocessor;
  mutable Vector<float>                           output_subdomain;
  mutable Vector<double>                          output_cell_mean;
};
} // namespace densityflow
