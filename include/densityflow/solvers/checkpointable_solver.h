#pragma once

#include <vector>

namespace densityflow
{
class CheckpointValues;

/**
 * A density solver whose state can be written to a checkpoint and read back on any
 * number of ranks (Checkpoint/Interval, --restart). The run loop finds it by
 * dynamic_cast: a solver that does not implement it refuses checkpoints with an
 * InputError.
 */
class CheckpointableSolver
{
public:
  virtual ~CheckpointableSolver() = default;

  /**
   * The state after the last step: clock, step-size history and accumulated columns into
   * @p values (the same on every rank), the nodal vectors as cell_records() into
   * @p records (this rank's cells). Collective.
   */
  virtual void save_state(CheckpointValues &values, std::vector<double> &records) const = 0;

  /**
   * Restores what save_state() wrote, after set-up; @p records holds the records of every
   * rank that wrote them. InputError (on all ranks) where they do not fit the mesh.
   * Collective.
   */
  virtual void load_state(const CheckpointValues                 &values,
                          const std::vector<std::vector<double>> &records) = 0;
};
} // namespace densityflow
