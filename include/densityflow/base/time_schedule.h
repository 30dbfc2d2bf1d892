#pragma once

#include <utility>
#include <vector>

namespace densityflow
{
/**
 * The clock of a run: which step to take next, where the run must land exactly
 * (the end time, the times of ensembles to compare, the output times of schemes whose
 * steps vary), when the density and the particles are due for output, and the exact
 * time after every step, so that the time columns hold the schedule's values (1.37,
 * not 1.3699999999999906). Modelled on deal.II's DiscreteTime, which it does not use:
 * the step is the solver's (CFL-limited, or fixed for BDF2), not the clock's.
 *
 * Two kinds of runs:
 * - fixed steps (implicit schemes): the N equal steps of T / N lie on the grid
 *   t_n = n T / N; a step shortened to land on a stop is followed by one back to the
 *   grid, so that outputs and the end time stay where a run without stops has them.
 *   The density is written at the first grid point at or after each output time;
 * - variable steps (explicit schemes): steps are shortened to land on every output
 *   time k Interval as well.
 *
 * Times within 1e-9 of the nominal step of a stop, output time or grid point are
 * taken to be there.
 */
class TimeSchedule
{
public:
  /**
   * A run to @p end_time with output every @p output_interval (0: only at 0 and at the
   * end) and particle output at the first density output at or after every multiple of
   * @p particle_interval (0: at every density output; always at the end).
   * @p n_fixed_steps > 0: the run takes that many equal steps; 0: steps vary, of at
   * most @p nominal_step.
   */
  TimeSchedule(const double       end_time,
               const double       nominal_step,
               const unsigned int n_fixed_steps,
               const double       output_interval,
               const double       particle_interval);

  /** Adds times the run must land on exactly (in any order, within [0, end time]). */
  void add_stops(const std::vector<double> &times);

  /** The current time: exactly a stop, output time or grid point where it is one. */
  double       time() const;
  unsigned int step_number() const;
  double       end_time() const;
  bool         at_end() const;

  /** Whether the clock has reached @p t (up to the schedule's tolerance). */
  bool reached(const double t) const;

  /**
   * The step to take from time(): @p wanted, shortened to land on the next stop, the
   * end time, the grid (fixed steps) or the next output time (variable steps). A step
   * that lands there up to round-off is @p wanted itself: BDF2 restarts with backward
   * Euler after a step of another size, even one shorter by 1e-17.
   */
  double step(const double wanted) const;

  /** Moves the clock on by @p dt (from step()). */
  void advance(const double dt);

  /** Whether the density is due for output at time(). */
  bool output_due() const;

  /** Whether the particles are due too (meaningful when output_due()). */
  bool particle_output_due() const;

  /** Records the output at time() (and the particles', if they were due). */
  void output_written();

  /**
   * For particles that take one step per @p stride steps of size @p step, from time()
   * on (its output counted as written): the first step after which they are due for
   * output between two of their steps, and its time; step 0 if there is none.
   */
  std::pair<unsigned int, double> first_particle_output_off_stride(const double       step,
                                                                   const unsigned int stride) const;

  /**
   * For a checkpoint: the time, the steps taken and the outputs and particle outputs
   * written so far.
   */
  std::vector<double> position() const;
  /** Continues from a position() (the stops and the run's parameters are the constructor's). */
  void restore_position(const std::vector<double> &position);

private:
  /** The grid point n T / N of fixed steps. */
  double grid_point(const unsigned long n) const;
  double next_output_time() const;
  double next_particle_time() const;

  double              final_time;
  unsigned int        n_fixed;
  double              output_interval;
  double              particle_interval;
  double              tolerance;
  std::vector<double> stops;
  double              current     = 0;
  unsigned int        steps_taken = 0;
  unsigned long       outputs     = 0;
  unsigned long       particles   = 0;
};
} // namespace densityflow
