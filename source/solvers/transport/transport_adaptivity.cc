#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/transport/time_integrators.h>
#include <densityflow/solvers/transport/transport_operator.h>
#include <densityflow/solvers/transport/transport_solver.h>
#include <densityflow/solvers/transport/zhang_shu_limiter.h>

#include <deal.II/distributed/solution_transfer.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>

#include <cmath>
#include <limits>
#include <tuple>

// Mesh adaptation of the transport solver (Mesh/Adaptivity).
//
// rho_h is discontinuous, so the transfer is deal.II's SolutionTransfer on the solver's own
// FE_DGQ: a refined cell's children take the parent's polynomial (prolongation, exact), a
// coarsened family's parent the L2 projection of the children's polynomials (FE_DGQ's
// restriction matrices are projections), which keeps every moment against the parent's Q_p
// functions, 1 among them: the mass is kept to round-off with nothing to correct. BDF2's
// rho^{n-1} goes the same way, so BDF2 goes on at its order. The projection of a coarsened
// family, and a child of a refined cell, may be negative at the limiter's points where the
// scheme kept rho >= 0 only there: the Zhang-Shu limiter scales each such cell towards its
// mean (kept), as after every explicit stage.

namespace densityflow
{
template <int dim>
void TransportSolver<dim>::enable_adaptivity(
    const AdaptivityParameters                     &parameters,
    parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  AssertThrow(&triangulation == &this->mesh.triangulation(),
              ExcMessage("enable_adaptivity() needs the solver's own triangulation."));
  if (!parameters.enabled())
    return;
  if (parameters.indicator == RefinementIndicator::kelly ||
      parameters.indicator == RefinementIndicator::log_kelly)
    throw InputError("Mesh/Adaptivity/Indicator = " + to_string(parameters.indicator) +
                     " is the Fokker-Planck model's (Kelly's estimator sees the jumps of a "
                     "continuous rho_h's gradient); the transport model's rho_h is "
                     "discontinuous: use jump (or auto).");
  adaptivity             = parameters;
  adaptive_triangulation = &triangulation;
  // The limiter needs the subface points once the mesh has hanging faces; a limiter made
  // for a conforming mesh would not have them.
  build_operators();
}

template <int dim>
void TransportSolver<dim>::distribute_dofs()
{
  dof_handler.distribute_dofs(fe);
  locally_owned_dofs = dof_handler.locally_owned_dofs();
  DoFTools::extract_locally_relevant_dofs(dof_handler, this->locally_relevant_dofs);
  ghosted_solution.reinit(locally_owned_dofs, this->locally_relevant_dofs, mpi_communicator);
  solution.reinit(locally_owned_dofs, mpi_communicator);
}

template <int dim>
Vector<float> TransportSolver<dim>::jump_indicator() const
{
  // eta_K^2 = sum_F (|K| / |F|) int_F [rho_h]^2 over K's interior faces (on a hanging face,
  // over its subfaces, or over the part of the coarser neighbour's face that K's face is).
  // For a smooth rho the jumps are O(h^{p+1}) like the L2 error on K, and h int_F jump^2
  // has its scaling: eta estimates the cell's L2 error.
  Vector<float>          indicator(this->mesh.triangulation().n_active_cells());
  FEInterfaceValues<dim> fe_interface(
      mapping, fe, face_quadrature, update_values | update_JxW_values);
  std::vector<double> u;
  const auto          add_jumps = [&](double &sum) {
    const auto &dofs = fe_interface.get_interface_dof_indices();
    u.resize(dofs.size());
    for (unsigned int i = 0; i < dofs.size(); ++i)
      u[i] = ghosted_solution(dofs[i]);
    for (unsigned int q = 0; q < fe_interface.n_quadrature_points; ++q)
      {
        double jump = 0;
        for (unsigned int i = 0; i < dofs.size(); ++i)
          jump += fe_interface.jump_in_shape_values(i, q) * u[i];
        sum += jump * jump * fe_interface.JxW(q);
      }
  };
  const unsigned int invalid = numbers::invalid_unsigned_int;
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        double eta2 = 0;
        for (const unsigned int f : cell->face_indices())
          {
            if (at_wall(cell, f))
              continue;
            double sum = 0;
            switch (face_kind(cell, f))
              {
                case FaceKind::finer_across:
                  for (unsigned int sf = 0; sf < n_subfaces(cell, f); ++sf)
                    {
                      const auto [child, child_face] = across_subface(cell, f, sf);
                      fe_interface.reinit(cell, f, sf, child, child_face, invalid);
                      add_jumps(sum);
                    }
                  break;
                case FaceKind::coarser_across:
                  {
                    const auto [coarser, face, subface] = across_coarser(cell, f);
                    fe_interface.reinit(cell, f, invalid, coarser, face, subface);
                    add_jumps(sum);
                    break;
                  }
                case FaceKind::conforming:
                  {
                    const auto [neighbor, neighbor_face] = across_face(cell, f);
                    fe_interface.reinit(cell, f, invalid, neighbor, neighbor_face, invalid);
                    add_jumps(sum);
                    break;
                  }
              }
            eta2 += cell_extent(cell, f) * sum;
          }
        indicator(cell->active_cell_index()) = static_cast<float>(std::sqrt(eta2));
      }
  return indicator;
}

namespace
{
/** 1^T M u: the mass of the DG density @p u. */
double dg_mass(const PETScWrappers::MPI::SparseMatrix &mass, const PETScWrappers::MPI::Vector &u)
{
  PETScWrappers::MPI::Vector product(u);
  mass.vmult(product, u);
  return compensated_sum(product);
}
} // namespace

template <int dim>
TransportAdaptationReport TransportSolver<dim>::adapt_mesh(const bool estimate_and_mark)
{
  AssertThrow(adaptive_triangulation != nullptr, ExcMessage("enable_adaptivity() first."));
  TransportAdaptationReport report;
  if constexpr (dim == 1)
    {
      (void)estimate_and_mark;
      AssertThrow(false, ExcMessage("Adaptivity needs p4est (2D, 3D)."));
    }
  else
    {
      auto &tria          = *adaptive_triangulation;
      report.cells_before = tria.n_global_active_cells();
      report.mass_before  = dg_mass(op->mass_matrix(), solution);
      if (estimate_and_mark)
        mark_fixed_fraction(adaptivity, jump_indicator(), tria);
      prepare_adaptation(tria);
      std::tie(report.refined, report.coarsened) = count_flagged_cells(tria);
      const bool limited_scheme = scheme == TimeScheme::ssp_rk3 || scheme == TimeScheme::imex_ssp3;
      if (limited_scheme)
        {
          // A child of a Q2/Q3 cell >= 0 at the cell's own points could have a negative
          // mean, which no limiter lifts: the cells to refine are first limited at their
          // children's points (mass kept).
          std::vector<bool> refine;
          for (const auto &cell : dof_handler.active_cell_iterators())
            if (cell->is_locally_owned())
              refine.push_back(cell->refine_flag_set());
          report.limited = Utilities::MPI::sum(static_cast<types::global_cell_index>(
                                                   limiter->limit_for_refinement(solution, refine)),
                                               mpi_communicator);
        }

      // rho_h and the integrator's history, ghosted as the transfer reads them.
      const std::vector<PETScWrappers::MPI::Vector *> history = integrator->history();
      const double                                    state   = integrator->state();
      std::vector<PETScWrappers::MPI::Vector>         inputs(1 + history.size());
      inputs[0].reinit(locally_owned_dofs, this->locally_relevant_dofs, mpi_communicator);
      inputs[0] = solution;
      for (std::size_t k = 0; k < history.size(); ++k)
        {
          inputs[k + 1].reinit(locally_owned_dofs, this->locally_relevant_dofs, mpi_communicator);
          inputs[k + 1] = *history[k];
        }
      std::vector<const PETScWrappers::MPI::Vector *> input_pointers;
      for (const auto &v : inputs)
        input_pointers.push_back(&v);
      parallel::distributed::SolutionTransfer<dim, PETScWrappers::MPI::Vector> transfer(
          dof_handler);
      transfer.prepare_for_coarsening_and_refinement(input_pointers);
      tria.execute_coarsening_and_refinement();
      distribute_dofs();
      std::vector<PETScWrappers::MPI::Vector>   outputs(inputs.size());
      std::vector<PETScWrappers::MPI::Vector *> output_pointers;
      for (auto &v : outputs)
        {
          v.reinit(locally_owned_dofs, mpi_communicator);
          output_pointers.push_back(&v);
        }
      transfer.interpolate(output_pointers);

      build_operators();
      solution                = outputs[0];
      report.cells_after      = tria.n_global_active_cells();
      report.mass_transferred = dg_mass(op->mass_matrix(), solution);
      if (limited_scheme)
        report.limited += Utilities::MPI::sum(
            static_cast<types::global_cell_index>(limiter->limit(solution)), mpi_communicator);
      std::vector<const PETScWrappers::MPI::Vector *> carried;
      for (std::size_t k = 1; k < outputs.size(); ++k)
        carried.push_back(&outputs[k]);
      integrator->resume(solution, current_time, carried, state);
      report.mass_after = dg_mass(op->mass_matrix(), solution);
      ghosted_solution  = solution;
      report.min_after  = statistics(nullptr).min_density;
      last_report       = report;
    }
  return report;
}

template <int dim>
const TransportAdaptationReport &TransportSolver<dim>::last_adaptation() const
{
  return last_report;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void TransportSolver<dim>::enable_adaptivity(                                           \
      const AdaptivityParameters &, parallel::distributed::Triangulation<dim, dim> &);             \
  template void                             TransportSolver<dim>::distribute_dofs();               \
  template Vector<float>                    TransportSolver<dim>::jump_indicator() const;          \
  template TransportAdaptationReport        TransportSolver<dim>::adapt_mesh(const bool);          \
  template const TransportAdaptationReport &TransportSolver<dim>::last_adaptation() const;
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
