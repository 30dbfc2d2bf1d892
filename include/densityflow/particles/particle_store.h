#pragma once

#include <deal.II/base/mpi.h>
#include <deal.II/base/point.h>
#include <deal.II/grid/tria.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace densityflow
{
using namespace dealii;

template <int dim>
class PointLocator;

/**
 * One rank's particles of a system: positions, stable global ids, the log-density a
 * flow map carries (NaN for the other dynamics), a fixed number of doubles of state
 * per particle that the dynamics keep between the stages of a step, and the cell of
 * each particle (an invalid iterator where it is not known).
 *
 * The arrays change length together only here, and a particle travels between ranks
 * only as one record, pack() and unpack(), in locate() and send(): its position, its
 * id's 64 bits (copied, not converted, into a double: ids above 2^53 travel exactly),
 * its log-density and its state.
 */
template <int dim>
class ParticleStore
{
public:
  using CellIterator = typename Triangulation<dim>::active_cell_iterator;

  /** @param state_size the doubles of state per particle (ParticleDynamicsModel). */
  explicit ParticleStore(const unsigned int state_size = 0);

  std::size_t  size() const;
  unsigned int state_size() const;

  /** Appends a particle with zero state in no known cell. */
  void push_back(const Point<dim>   &position,
                 const std::uint64_t id,
                 const double        log_density,
                 const CellIterator &cell = CellIterator());

  /** Appends particle @p k of @p other (with its state), in no known cell. */
  void push_back(const ParticleStore &other, const std::size_t k);

  /** Forgets the cells of all particles (the mesh has changed: they may be gone). */
  void forget_cells();

  /** Keeps the particles for which @p keep is true, in their order; forgets all cells. */
  void keep_if(const std::function<bool(std::size_t)> &keep);

  /**
   * Puts every particle into its cell on the rank that owns it, with the cells known
   * so far as hints (PointLocator::locate). Collective. Returns the indices (before
   * the call) of the particles in no cell, which are gone.
   */
  std::vector<std::size_t> locate(PointLocator<dim> &locator);

  /**
   * Sends particle k to rank @p destination[k] (collective): those that stay keep
   * their order, those received follow in the order of their senders. Forgets all
   * cells.
   */
  void send(const std::vector<unsigned int> &destination, const MPI_Comm communicator);

  std::vector<Point<dim>>          &positions();
  const std::vector<Point<dim>>    &positions() const;
  const std::vector<std::uint64_t> &ids() const;
  std::vector<double>              &log_densities();
  const std::vector<double>        &log_densities() const;
  /** The state_size() doubles of particle @p k. */
  double                          *state(const std::size_t k);
  const double                    *state(const std::size_t k) const;
  const std::vector<CellIterator> &cells() const;

private:
  /** The doubles of one particle's record. */
  unsigned int record_size() const;
  /** Appends particle @p k's record to @p records. */
  void pack(const std::size_t k, std::vector<double> &records) const;
  /** Appends the particle of @p record, in no known cell. */
  void unpack(const double *record);
  /** Copies particle @p from to the place @p to <= @p from (compacting the arrays). */
  void move_down(const std::size_t from, const std::size_t to);
  /** Keeps the first @p n particles. */
  void resize(const std::size_t n);
  /** Reorders the particles: the new k-th is the old order[k]; the cells are left to the caller. */
  void permute(const std::vector<std::size_t> &order);

  unsigned int               n_state;
  std::vector<Point<dim>>    x;
  std::vector<std::uint64_t> id;
  std::vector<double>        log_rho;
  std::vector<double>        state_values;
  std::vector<CellIterator>  cell;
};
} // namespace densityflow
