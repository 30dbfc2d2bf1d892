// The Fokker-Planck solver's part of a checkpoint (Checkpoint/Interval, --restart).
#include <densityflow/base/exceptions.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

namespace densityflow
{
template <int dim>
void FokkerPlanckSolver<dim>::save_state(CheckpointValues    &values,
                                         std::vector<double> &records) const
{
  values.set("solver/time", current_time);
  values.set("solver/step", step_number);
  // The step BDF2 compares the next one with (bdf2_step()).
  values.set("solver/previous step", this->previous_step);
  values.set("solver/absorbed", {absorbed_mass, absorbed_flux, survival_integral});
  values.set("solver/dofs", double(dof_handler.n_dofs()));
  // M y and K y are kept rather than recomputed: the step scales them together with y,
  // and a product computed again differs in the last bits.
  records = cell_records(
      dof_handler,
      {&solution, &old_solution, &mass_solution, &old_mass_solution, &stiffness_solution});
}

template <int dim>
void FokkerPlanckSolver<dim>::load_state(const CheckpointValues                 &values,
                                         const std::vector<std::vector<double>> &records)
{
  const double dofs = values.get("solver/dofs");
  if (dofs != dof_handler.n_dofs())
    throw InputError("--restart: the checkpoint's density has " + std::to_string(long(dofs)) +
                     " DoFs, this mesh " + std::to_string(dof_handler.n_dofs()) +
                     ": it was written for another mesh or degree.");
  current_time                       = values.get("solver/time");
  step_number                        = static_cast<unsigned int>(values.get("solver/step"));
  this->previous_step                = values.get("solver/previous step");
  const std::vector<double> absorbed = values.get_vector("solver/absorbed");
  if (absorbed.size() != 3)
    throw InputError("--restart: the checkpoint's solver/absorbed is malformed.");
  absorbed_mass     = absorbed[0];
  absorbed_flux     = absorbed[1];
  survival_integral = absorbed[2];
  if (physics.potential().depends_on_time())
    {
      // V, pi and the matrices of the checkpoint's time, before the vectors (which
      // update_potential() would rescale) are read.
      update_potential(current_time);
      assemble_matrices();
    }
  const std::size_t missing = restore_cell_records(
      dof_handler,
      records,
      {&solution, &old_solution, &mass_solution, &old_mass_solution, &stiffness_solution});
  throw_if_any(
      missing > 0,
      "--restart: " + std::to_string(missing) +
          " cells of this mesh are not in the checkpoint: it was written for another mesh.",
      mpi_communicator);
  matrices_changed = true; // the preconditioner is set up again for the next step
  ghosted_solution = solution;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void FokkerPlanckSolver<dim>::save_state(CheckpointValues &, std::vector<double> &)     \
      const;                                                                                       \
  template void FokkerPlanckSolver<dim>::load_state(const CheckpointValues &,                      \
                                                    const std::vector<std::vector<double>> &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
