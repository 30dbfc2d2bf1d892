#include <densityflow/output/column_descriptions.h>
#include <densityflow/output/exit_times.h>
#include <densityflow/particles/particle_ensemble.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>

namespace densityflow
{
template <int dim>
ExitTimes<dim>::ExitTimes(const Systems &all)
{
  for (const auto &system : all)
    if (system->absorbing())
      {
        systems.push_back(system.get());
        unsigned int same = 0;
        for (const auto &other : all)
          same += other->dynamics() == system->dynamics();
        names.push_back(to_string(system->dynamics()) +
                        (same > 1 ? "_" + std::to_string(system->system()) : ""));
      }
}

template <int dim>
bool ExitTimes<dim>::empty() const
{
  return systems.empty();
}

template <int dim>
std::vector<std::string> ExitTimes<dim>::columns() const
{
  std::vector<std::string> result;
  for (const std::string &name : names)
    for (const char *column :
         {"absorbed_fraction_", "mean_exit_time_", "mean_exit_time_se_", "survival_integral_"})
      result.push_back(column + name);
  return result;
}

template <int dim>
std::vector<double> ExitTimes<dim>::values() const
{
  const double        nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> result;
  for (const ParticleEnsemble<dim> *system : systems)
    {
      const auto  &exits = system->exits();
      const double n = exits.size(), n0 = system->n_sampled(), t = system->time();
      double       sum = 0;
      for (const ParticleExit &exit : exits)
        sum += exit.time;
      const double mean    = n > 0 ? sum / n : nan;
      double       squares = 0;
      for (const ParticleExit &exit : exits)
        squares += (exit.time - mean) * (exit.time - mean);
      result.insert(result.end(),
                    {n0 > 0 ? n / n0 : nan,
                     mean,
                     n > 1 ? std::sqrt(squares / (n - 1) / n) : nan,
                     n0 > 0 ? (sum + (n0 - n) * t) / n0 : nan});
    }
  return result;
}

template <int dim>
void ExitTimes<dim>::write(const std::string &path, const MPI_Comm communicator) const
{
  const std::vector<std::string> columns = {
      "system", "dynamics", "id", "exit_time", "wall", "window"};
  const std::string descriptions = column_descriptions(columns);
  if (Utilities::MPI::this_mpi_process(communicator) != 0)
    return;
  write_column_descriptions(path, descriptions);
  std::ofstream file(path);
  for (std::size_t c = 0; c < columns.size(); ++c)
    file << (c > 0 ? "," : "") << columns[c];
  file << '\n' << std::setprecision(16);
  for (const ParticleEnsemble<dim> *system : systems)
    for (const ParticleExit &exit : system->exits())
      {
        const auto &[wall, window] = system->exit_piece(exit.piece);
        file << system->system() << ',' << to_string(system->dynamics()) << ',' << exit.id << ','
             << exit.time << ',' << wall << ',' << window << '\n';
      }
}

template class ExitTimes<1>;
template class ExitTimes<2>;
template class ExitTimes<3>;
} // namespace densityflow
