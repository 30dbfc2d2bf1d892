#pragma once

#include <deal.II/base/mpi.h>

#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
template <int dim>
class ParticleEnsemble;

/**
 * The exit times of particle systems absorbed at walls (Mesh/Absorbing walls, windows):
 * diagnostics.csv's columns for them and exit_times.csv. Every number is a sum over the
 * exits in the order of ParticleEnsemble::exits() (by time, then id), the same on any
 * number of ranks.
 */
template <int dim>
class ExitTimes
{
public:
  using Systems = std::vector<std::unique_ptr<ParticleEnsemble<dim>>>;

  /** The systems of @p systems that absorb particles (none: empty()). */
  explicit ExitTimes(const Systems &systems);

  bool empty() const;

  /**
   * Four columns per absorbing system s (its dynamics' name, with _<system> where two
   * systems have the same dynamics): absorbed_fraction_s, mean_exit_time_s,
   * mean_exit_time_se_s, survival_integral_s.
   */
  std::vector<std::string> columns() const;

  /**
   * The values of columns() now: the fraction absorbed, the mean exit time of those absorbed
   * and its standard error (sample standard deviation / sqrt(n); NaN below two), and the
   * mean of min(exit time, t) over all particles sampled, t the system's time: int_0^t of
   * the surviving fraction, the particles' counterpart of the solver's survival_integral.
   */
  std::vector<double> values() const;

  /**
   * Writes exit_times.csv (rank 0): one row per absorbed particle, system, dynamics, id,
   * exit_time, wall, window, by system, then exit time and id; and its .columns.csv.
   */
  void write(const std::string &path, const MPI_Comm communicator) const;

private:
  std::vector<const ParticleEnsemble<dim> *> systems;
  std::vector<std::string>                   names;
};
} // namespace densityflow
