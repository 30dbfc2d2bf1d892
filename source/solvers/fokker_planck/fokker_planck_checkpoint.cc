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
  // The shift of V in root_pi = exp(-(V - shift) / 2 eps): the first mesh's minimum of V,
  // kept through adaptations (y = rho / root_pi refers to it).
  values.set("solver/shift", shift);
  if (adaptive_triangulation != nullptr)
    values.set("solver/last adaptation",
               {double(last_report.cells_before),
                double(last_report.cells_after),
                double(last_report.refined),
                double(last_report.coarsened),
                last_report.mass_before,
                last_report.mass_transferred,
                last_report.mass_after,
                last_report.blend,
                last_report.min_consistent});
  // The system matrix's coefficients and the projection's basis: the next guess is then
  // the one the run would have made.
  values.set("solver/system", {system_a, system_b});
  values.set("solver/previous solutions", double(projection.size()));
  // M y and K y are kept rather than recomputed: the step scales them together with y,
  // and a product computed again differs in the last bits.
  std::vector<const PETScWrappers::MPI::Vector *> vectors = {
      &solution, &old_solution, &mass_solution, &old_mass_solution, &stiffness_solution};
  for (const PETScWrappers::MPI::Vector *x : projection.basis())
    vectors.push_back(x);
  records = cell_records(dof_handler, vectors);
}

template <int dim>
void FokkerPlanckSolver<dim>::load_state(const CheckpointValues                 &values,
                                         const std::vector<std::vector<double>> &records)
{
  current_time = values.get("solver/time");
  if (adaptive_triangulation != nullptr)
    {
      // The mesh was loaded adapted (Mesh with a saved refinement): the DoFs, root_pi with
      // the run's shift (this mesh's own minimum of V may differ), the hanging-node map Q
      // and the matrices as the run's last adaptation left them.
      shift = values.get("solver/shift");
      rebuild_after_mesh_change();
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
                     report[8]};
    }
  check_checkpoint_dofs(values, dof_handler.n_dofs(), "density");
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
  std::vector<PETScWrappers::MPI::Vector *> vectors = {
      &solution, &old_solution, &mass_solution, &old_mass_solution, &stiffness_solution};
  // (Checkpoints written before the projection have neither: the restart starts its basis
  // afresh.)
  if (values.has("solver/system") && values.has("solver/previous solutions"))
    {
      const std::vector<double> system = values.get_vector("solver/system");
      if (system.size() != 2)
        throw InputError("--restart: the checkpoint's solver/system is malformed.");
      system_a = system[0];
      system_b = system[1];
      for (PETScWrappers::MPI::Vector *x : projection.resize_for_restart(
               static_cast<unsigned int>(values.get("solver/previous solutions")), solution))
        vectors.push_back(x);
    }
  restore_solver_records(dof_handler, records, vectors);
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
