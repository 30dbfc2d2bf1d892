// The transport solver's part of a checkpoint (Checkpoint/Interval, --restart).
#include <densityflow/base/exceptions.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/solvers/transport/time_integrators.h>
#include <densityflow/solvers/transport/transport_solver.h>

namespace densityflow
{
template <int dim>
void TransportSolver<dim>::save_state(CheckpointValues &values, std::vector<double> &records) const
{
  values.set("solver/time", current_time);
  values.set("solver/step", this->step_number);
  // The step BDF2 compares the next one with (bdf2_step()).
  values.set("solver/previous step", this->previous_step);
  values.set("solver/outflow", outflow);
  // BDF2's outflow of the last step, which its quadrature of the next one's outflow uses.
  values.set("solver/integrator state", integrator->state());
  values.set("solver/dofs", double(dof_handler.n_dofs()));
  std::vector<const PETScWrappers::MPI::Vector *> vectors = {&solution};
  for (const PETScWrappers::MPI::Vector *v : integrator->checkpoint_vectors())
    vectors.push_back(v);
  values.set("solver/vectors", double(vectors.size()));
  if (adaptive_triangulation != nullptr)
    values.set("solver/last adaptation",
               {double(last_report.cells_before),
                double(last_report.cells_after),
                double(last_report.refined),
                double(last_report.coarsened),
                last_report.mass_before,
                last_report.mass_transferred,
                last_report.mass_after,
                last_report.min_after,
                double(last_report.limited)});
  records = cell_records(dof_handler, vectors);
}

template <int dim>
void TransportSolver<dim>::load_state(const CheckpointValues                 &values,
                                      const std::vector<std::vector<double>> &records)
{
  check_checkpoint_dofs(values, dof_handler.n_dofs(), "density");
  current_time        = values.get("solver/time");
  this->step_number   = static_cast<unsigned int>(values.get("solver/step"));
  this->previous_step = values.get("solver/previous step");
  outflow             = values.get("solver/outflow");
  // resume() sizes the integrator's vectors and sets its scalar state; the vectors it
  // recomputes are then overwritten by the ones the checkpoint kept.
  integrator->resume(solution, current_time, {}, values.get("solver/integrator state"));
  std::vector<PETScWrappers::MPI::Vector *> vectors = {&solution};
  for (PETScWrappers::MPI::Vector *v : integrator->checkpoint_vectors())
    vectors.push_back(v);
  if (values.get("solver/vectors") != vectors.size())
    throw InputError("--restart: the checkpoint keeps " +
                     std::to_string(long(values.get("solver/vectors"))) +
                     " transport vectors, this time scheme " + std::to_string(vectors.size()) +
                     ": it was written for another scheme.");
  restore_solver_records(dof_handler, records, vectors);
  ghosted_solution = solution;
  if (adaptive_triangulation != nullptr)
    {
      // The mesh itself was loaded adapted (Mesh with a saved refinement), and the
      // operators were built on it; the report is for the log and the tests.
      const std::vector<double> report = values.get_vector("solver/last adaptation");
      if (report.size() != 9)
        throw InputError("--restart: the checkpoint's solver/last adaptation is malformed.");
      last_report = {types::global_cell_index(report[0]),
                     types::global_cell_index(report[1]),
                     types::global_cell_index(report[2]),
                     types::global_cell_index(report[3]),
                     report[4],
                     report[5],
                     report[6],
                     report[7],
                     types::global_cell_index(report[8])};
    }
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void TransportSolver<dim>::save_state(CheckpointValues &, std::vector<double> &) const; \
  template void TransportSolver<dim>::load_state(const CheckpointValues &,                         \
                                                 const std::vector<std::vector<double>> &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
