// A particle system's part of a checkpoint (Checkpoint/Interval, --restart).
#include <densityflow/base/exceptions.h>
#include <densityflow/base/word_bits.h>
#include <densityflow/particles/dynamics/interface.h>
#include <densityflow/particles/particle_ensemble.h>

#include <algorithm>

namespace densityflow
{
namespace
{
constexpr double record_version = 1;
} // namespace

template <int dim>
std::vector<double> ParticleEnsemble<dim>::checkpoint_record() const
{
  std::vector<double> r = {record_version,
                           double(particles.state_size()),
                           current_time,
                           word_as_double(step_count),
                           word_as_double(n_global),
                           word_as_double(lost),
                           word_as_double(sampled),
                           double(all_exits.size())};
  for (const ParticleExit &exit : all_exits)
    r.insert(r.end(), {word_as_double(exit.id), exit.time, double(exit.piece)});
  r.push_back(particles.size());
  for (std::size_t k = 0; k < particles.size(); ++k)
    {
      for (unsigned int d = 0; d < dim; ++d)
        r.push_back(particles.positions()[k][d]);
      r.push_back(word_as_double(particles.ids()[k]));
      r.push_back(particles.log_densities()[k]);
      r.insert(r.end(), particles.state(k), particles.state(k) + particles.state_size());
    }
  return r;
}

template <int dim>
void ParticleEnsemble<dim>::restore(const std::vector<std::vector<double>> &records)
{
  const unsigned int n_ranks = Utilities::MPI::n_mpi_processes(mpi_communicator);
  const unsigned int rank    = Utilities::MPI::this_mpi_process(mpi_communicator);
  const unsigned int n_state = particles.state_size();
  const std::string  what    = "--restart: the checkpoint's particles of system " +
                           std::to_string(system_index) + " (" + to_string(dynamics()) + ") ";
  const std::size_t length = dim + 2 + n_state;
  // Where the particles start in a record, or 0 where it is malformed.
  const auto particles_at = [&](const std::vector<double> &r) -> std::size_t {
    if (r.size() < 9 || r[0] != record_version || r[1] != n_state)
      return 0;
    const std::size_t at = 8 + 3 * static_cast<std::size_t>(r[7]);
    if (r.size() < at + 1 || r.size() != at + 1 + length * static_cast<std::size_t>(r[at]))
      return 0;
    return at + 1;
  };
  // On as many ranks as wrote them, the other ranks' records are not read (empty).
  bool                       malformed = false;
  const std::vector<double> *first     = nullptr;
  for (const std::vector<double> &r : records)
    if (!r.empty())
      {
        malformed = malformed || particles_at(r) == 0;
        first     = first ? first : &r;
      }
  throw_if_any(malformed || first == nullptr,
               what + "are malformed (another version or a corrupt file).",
               mpi_communicator);
  const std::vector<double> &head = *first;
  current_time                    = head[2];
  step_count                      = double_as_word(head[3]);
  n_global                        = double_as_word(head[4]);
  lost                            = double_as_word(head[5]);
  sampled                         = double_as_word(head[6]);
  all_exits.resize(static_cast<std::size_t>(head[7]));
  for (std::size_t k = 0; k < all_exits.size(); ++k)
    {
      all_exits[k].id    = double_as_word(head[8 + 3 * k]);
      all_exits[k].time  = head[9 + 3 * k];
      all_exits[k].piece = static_cast<unsigned int>(head[10 + 3 * k]);
    }

  // The same ranks: each its own, in order. Others: a share by id, as balance() does.
  const bool          same_ranks = records.size() == n_ranks;
  const std::uint64_t n          = std::max<std::uint64_t>(parameters.number, 1);
  particles                      = ParticleStore<dim>(n_state);
  for (unsigned int r = 0; r < records.size(); ++r)
    {
      if (same_ranks && r != rank)
        continue;
      const std::vector<double> &record = records[r];
      if (record.empty())
        continue;
      for (std::size_t at = particles_at(record); at < record.size(); at += length)
        {
          const std::uint64_t id = double_as_word(record[at + dim]);
          if (!same_ranks && std::min<std::uint64_t>(id * n_ranks / n, n_ranks - 1) != rank)
            continue;
          Point<dim> x;
          for (unsigned int d = 0; d < dim; ++d)
            x[d] = record[at + d];
          particles.push_back(x, id, record[at + dim + 1]);
          std::copy(record.begin() + at + dim + 2,
                    record.begin() + at + length,
                    particles.state(particles.size() - 1));
        }
    }
  const std::uint64_t held = Utilities::MPI::sum<std::uint64_t>(particles.size(), mpi_communicator);
  if (held != n_global)
    throw InputError(what + "number " + std::to_string(held) + ", not " + std::to_string(n_global) +
                     ": the checkpoint is incomplete.");
  located = false;
}

template std::vector<double> ParticleEnsemble<1>::checkpoint_record() const;
template void                ParticleEnsemble<1>::restore(const std::vector<std::vector<double>> &);
template std::vector<double> ParticleEnsemble<2>::checkpoint_record() const;
template void                ParticleEnsemble<2>::restore(const std::vector<std::vector<double>> &);
template std::vector<double> ParticleEnsemble<3>::checkpoint_record() const;
template void                ParticleEnsemble<3>::restore(const std::vector<std::vector<double>> &);
} // namespace densityflow
