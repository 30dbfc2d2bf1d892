#include <densityflow/mesh/point_locator.h>
#include <densityflow/particles/particle_store.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>

namespace densityflow
{
template <int dim>
ParticleStore<dim>::ParticleStore(const unsigned int state_size)
    : n_state(state_size)
{}

template <int dim>
std::size_t ParticleStore<dim>::size() const
{
  return x.size();
}

template <int dim>
unsigned int ParticleStore<dim>::state_size() const
{
  return n_state;
}

template <int dim>
void ParticleStore<dim>::push_back(const Point<dim>   &position,
                                   const std::uint64_t particle_id,
                                   const double        log_density,
                                   const CellIterator &particle_cell)
{
  x.push_back(position);
  id.push_back(particle_id);
  log_rho.push_back(log_density);
  state_values.resize(state_values.size() + n_state, 0.0);
  cell.push_back(particle_cell);
}

template <int dim>
void ParticleStore<dim>::push_back(const ParticleStore &other, const std::size_t k)
{
  Assert(other.n_state == n_state, ExcInternalError());
  push_back(other.x[k], other.id[k], other.log_rho[k]);
  std::copy(other.state(k), other.state(k) + n_state, state(size() - 1));
}

template <int dim>
void ParticleStore<dim>::forget_cells()
{
  cell.assign(size(), CellIterator());
}

template <int dim>
void ParticleStore<dim>::keep_if(const std::function<bool(std::size_t)> &keep)
{
  std::size_t kept = 0;
  for (std::size_t k = 0; k < size(); ++k)
    if (keep(k))
      {
        move_down(k, kept);
        ++kept;
      }
  resize(kept);
  cell.assign(kept, CellIterator());
}

template <int dim>
void ParticleStore<dim>::move_down(const std::size_t from, const std::size_t to)
{
  if (from == to)
    return;
  x[to] = x[from], id[to] = id[from], log_rho[to] = log_rho[from];
  std::copy(state(from), state(from) + n_state, state(to));
}

template <int dim>
unsigned int ParticleStore<dim>::record_size() const
{
  return dim + 2 + n_state;
}

template <int dim>
void ParticleStore<dim>::pack(const std::size_t k, std::vector<double> &records) const
{
  for (unsigned int d = 0; d < dim; ++d)
    records.push_back(x[k][d]);
  double id_bits;
  static_assert(sizeof(id_bits) == sizeof(std::uint64_t));
  std::memcpy(&id_bits, &id[k], sizeof(id_bits));
  records.push_back(id_bits);
  records.push_back(log_rho[k]);
  records.insert(records.end(), state(k), state(k) + n_state);
}

template <int dim>
void ParticleStore<dim>::unpack(const double *record)
{
  Point<dim> position;
  for (unsigned int d = 0; d < dim; ++d)
    position[d] = record[d];
  std::uint64_t particle_id;
  std::memcpy(&particle_id, record + dim, sizeof(particle_id));
  push_back(position, particle_id, record[dim + 1]);
  std::copy(record + dim + 2, record + dim + 2 + n_state, state(size() - 1));
}

template <int dim>
void ParticleStore<dim>::resize(const std::size_t n)
{
  x.resize(n), id.resize(n), log_rho.resize(n), state_values.resize(n * n_state), cell.resize(n);
}

template <int dim>
std::vector<std::size_t> ParticleStore<dim>::locate(PointLocator<dim> &locator)
{
  std::vector<CellIterator> found = locator.find_locally(x, cell);
  if (locator.found_everywhere(found))
    {
      // The common case: every particle stays on its rank. Only the order changes (grouped
      // by cell, as the general path below gives it), array by array, without records.
      const std::vector<std::size_t> order = PointLocator<dim>::grouping_order(found);
      if (!std::is_sorted(order.begin(), order.end()))
        {
          permute(order);
          for (std::size_t i = 0; i < order.size(); ++i)
            cell[i] = found[order[i]];
        }
      else
        cell = std::move(found);
      return {};
    }
  const unsigned int  stride = record_size();
  std::vector<double> records;
  records.reserve(size() * stride);
  for (std::size_t k = 0; k < size(); ++k)
    pack(k, records);
  std::vector<CellIterator>      located;
  const std::vector<std::size_t> outside =
      locator.locate(x, records, stride, std::move(found), located);
  resize(0);
  for (std::size_t k = 0; k < records.size(); k += stride)
    unpack(&records[k]);
  cell = std::move(located);
  return outside;
}

template <int dim>
void ParticleStore<dim>::permute(const std::vector<std::size_t> &order)
{
  // An element-wise loop: std::copy of a run of a few doubles is a call to memmove each.
  const auto gather = [&](auto &values, const unsigned int width) {
    std::remove_reference_t<decltype(values)> permuted(values.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      for (unsigned int w = 0; w < width; ++w)
        permuted[i * width + w] = values[order[i] * width + w];
    values.swap(permuted);
  };
  gather(x, 1), gather(id, 1), gather(log_rho, 1), gather(state_values, n_state);
  cell.resize(order.size());
}

template <int dim>
void ParticleStore<dim>::send(const std::vector<unsigned int> &destination,
                              const MPI_Comm                   communicator)
{
  const unsigned int                          rank = Utilities::MPI::this_mpi_process(communicator);
  std::map<unsigned int, std::vector<double>> outgoing;
  std::size_t                                 kept = 0;
  for (std::size_t k = 0; k < size(); ++k)
    if (destination[k] == rank)
      {
        move_down(k, kept);
        ++kept;
      }
    else
      pack(k, outgoing[destination[k]]);
  resize(kept);
  const unsigned int stride = record_size();
  for (const auto &[sender, records] : Utilities::MPI::some_to_some(communicator, outgoing))
    for (std::size_t k = 0; k < records.size(); k += stride)
      unpack(&records[k]);
  cell.assign(size(), CellIterator());
}

template <int dim>
std::vector<Point<dim>> &ParticleStore<dim>::positions()
{
  return x;
}

template <int dim>
const std::vector<Point<dim>> &ParticleStore<dim>::positions() const
{
  return x;
}

template <int dim>
const std::vector<std::uint64_t> &ParticleStore<dim>::ids() const
{
  return id;
}

template <int dim>
std::vector<double> &ParticleStore<dim>::log_densities()
{
  return log_rho;
}

template <int dim>
const std::vector<double> &ParticleStore<dim>::log_densities() const
{
  return log_rho;
}

template <int dim>
double *ParticleStore<dim>::state(const std::size_t k)
{
  return state_values.data() + k * n_state;
}

template <int dim>
const double *ParticleStore<dim>::state(const std::size_t k) const
{
  return state_values.data() + k * n_state;
}

template <int dim>
const std::vector<typename ParticleStore<dim>::CellIterator> &ParticleStore<dim>::cells() const
{
  return cell;
}

template class ParticleStore<1>;
template class ParticleStore<2>;
template class ParticleStore<3>;
} // namespace densityflow
