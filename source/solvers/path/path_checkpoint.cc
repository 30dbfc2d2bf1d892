// The path solver's part of a checkpoint (Checkpoint/Interval, --restart).
#include <densityflow/base/exceptions.h>
#include <densityflow/output/checkpoint.h>
#include <densityflow/solvers/path/path_solver.h>

namespace densityflow
{
template <int dim>
void PathSolver<dim>::save_state(CheckpointValues &values, std::vector<double> &records) const
{
  values.set("solver/time", current_time);
  values.set("solver/step", this->step_number);
  values.set("solver/previous step", this->previous_step);
  // The trapezoidal sums and what the next step's trapezoid starts from.
  values.set("solver/path",
             {accumulated_action, accumulated_length, energy, largest_speed, largest_speed_so_far});
  values.set("solver/dofs", double(dof_handler.n_dofs()));
  // phi and the solution before it make the next solve's initial guess: CG from another
  // guess ends elsewhere within its tolerance.
  values.set("solver/guess times", {guess_times[0], guess_times[1]});
  records = cell_records(dof_handler, {&phi, &phi_before});
}

template <int dim>
void PathSolver<dim>::load_state(const CheckpointValues                 &values,
                                 const std::vector<std::vector<double>> &records)
{
  check_checkpoint_dofs(values, dof_handler.n_dofs(), "potential");
  current_time                    = values.get("solver/time");
  this->step_number               = static_cast<unsigned int>(values.get("solver/step"));
  this->previous_step             = values.get("solver/previous step");
  const std::vector<double> state = values.get_vector("solver/path");
  if (state.size() != 5)
    throw InputError("--restart: the checkpoint's solver/path is malformed.");
  accumulated_action   = state[0];
  accumulated_length   = state[1];
  energy               = state[2];
  largest_speed        = state[3];
  largest_speed_so_far = state[4];
  // rho_t at the checkpoint's time and the pin it chooses, as the step to it left them;
  // phi is not solved again (that would start from another guess).
  evaluate_path(current_time);
  pin_largest_density();
  const std::vector<double> times = values.get_vector("solver/guess times");
  if (times.size() != 2)
    throw InputError("--restart: the checkpoint's solver/guess times is malformed.");
  guess_times = {{times[0], times[1]}};
  restore_solver_records(dof_handler, records, {&phi, &phi_before});
  ghosted_solution = phi;
}

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template void PathSolver<dim>::save_state(CheckpointValues &, std::vector<double> &) const;      \
  template void PathSolver<dim>::load_state(const CheckpointValues &,                              \
                                            const std::vector<std::vector<double>> &);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE
} // namespace densityflow
