#include <densityflow/base/exceptions.h>
#include <densityflow/base/mpi_gather.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/mesh_changes.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/particles/dynamics/interface.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/particles/sampling.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace densityflow
{
namespace
{
/** The step number that sampling draws its random numbers with. */
constexpr std::uint64_t sampling_step = std::numeric_limits<std::uint64_t>::max();
} // namespace

template <int dim>
ParticleEnsemble<dim>::ParticleEnsemble(const ParticleDynamics       dynamics,
                                        const unsigned int           system,
                                        const ParticleParameters    &parameters,
                                        const Mesh<dim>             &mesh,
                                        const Physics<dim>          &physics,
                                        const InteractionParameters *interaction,
                                        const AbsorbingWalls<dim>   *walls)
    : system_index(system)
    , parameters(parameters)
    , mesh(mesh)
    , physics(physics)
    , mpi_communicator(mesh.communicator())
    , random(parameters.seed + 1000003ULL * system)
    , model(create_particle_dynamics(dynamics, mesh, physics, random, interaction, walls))
    , particles(model->state_size())
{
  if (walls != nullptr)
    for (unsigned int k = 0; k < walls->n_pieces(); ++k)
      pieces.emplace_back(walls->wall_name(k), walls->window_number(k));
  // The cells die with the mesh's change; where they are needed next, the particles are
  // located afresh (locate() without hints), each handed to the owner of its new cell.
  mesh_changes = std::make_unique<MeshChangeListener>(mesh.triangulation(), [this]() {
    particles.forget_cells();
    located = false;
  });
}

template <int dim>
ParticleEnsemble<dim>::~ParticleEnsemble() = default;

template <int dim>
ParticleDynamics ParticleEnsemble<dim>::dynamics() const
{
  return model->kind();
}

template <int dim>
unsigned int ParticleEnsemble<dim>::system() const
{
  return system_index;
}

template <int dim>
void ParticleEnsemble<dim>::sample(const Expression<dim> &rho0)
{
  const CellDensity<dim> values = [&](const auto &, const auto &, const auto &points, auto &rho) {
    rho.resize(points.size());
    for (std::size_t q = 0; q < points.size(); ++q)
      rho[q] = rho0.value(points[q], 0.0);
  };
  const DensitySample<dim> s = sample_density(
      mesh.triangulation(), values, random, parameters.number, sampling_step, mpi_communicator);
  AssertThrow(s.bound_exceeded == 0,
              ExcMessage("rho0 exceeded the rejection bound of its cell " +
                         std::to_string(s.bound_exceeded) +
                         " times: refine the mesh where rho0 varies within a cell"));
  particles = ParticleStore<dim>(model->state_size());
  // The sample's cells are the hints of the first locate().
  for (std::size_t k = 0; k < s.points.size(); ++k)
    particles.push_back(s.points[k],
                        s.ids[k],
                        model->carries_log_density() ? std::log(s.values[k] / s.mass)
                                                     : std::numeric_limits<double>::quiet_NaN(),
                        s.cells[k]);
  n_global = Utilities::MPI::sum<std::uint64_t>(particles.size(), mpi_communicator);
  sampled  = n_global;
  all_exits.clear();
  current_time = 0;
  step_count   = 0;
  lost         = 0;
  located      = false;
  balance();
}

template <int dim>
std::vector<std::size_t> ParticleEnsemble<dim>::locate()
{
  if (located)
    return {};
  const std::vector<std::size_t> outside = particles.locate(mesh.point_locator());
  const std::uint64_t now = Utilities::MPI::sum<std::uint64_t>(particles.size(), mpi_communicator);
  lost += n_global - now;
  n_global = now;
  located  = true;
  return outside;
}

template <int dim>
void ParticleEnsemble<dim>::balance()
{
  if (model->needs_cells() || !mesh.is_box())
    return;
  const unsigned int        n_ranks = Utilities::MPI::n_mpi_processes(mpi_communicator);
  const std::uint64_t       n       = parameters.number;
  std::vector<unsigned int> destination(particles.size());
  for (std::size_t k = 0; k < particles.size(); ++k)
    destination[k] = std::min<std::uint64_t>(
        particles.ids()[k] * n_ranks / std::max<std::uint64_t>(n, 1), n_ranks - 1);
  particles.send(destination, mpi_communicator);
  located = false;
}

template <int dim>
void ParticleEnsemble<dim>::prepare_step(const DensitySolver<dim> *solver)
{
  if (!model->needs_cells())
    return;
  locate();
  model->prepare_step(particles, solver);
}

template <int dim>
void ParticleEnsemble<dim>::advance(const double dt, const DensitySolver<dim> *solver)
{
  // The dynamics that evaluate rho_h step with the PDE, whose solution exists at its
  // times only.
  const unsigned int substeps =
      parameters.time_step > 0 && !model->needs_cells()
          ? std::max(1u, static_cast<unsigned int>(std::ceil(dt / parameters.time_step - 1e-9)))
          : 1;
  for (unsigned int s = 0; s < substeps; ++s)
    step(dt / substeps, solver);
}

template <int dim>
void ParticleEnsemble<dim>::step(const double dt, const DensitySolver<dim> *solver)
{
  // Moves that left a domain that is not a box are found by locating the particles;
  // with the Fokker-Planck model they are undone, with transport they are outflow.
  const bool         outflow = physics.model() == Model::transport || model->leaves_through_walls();
  const bool         undo    = !model->needs_cells() && !mesh.is_box() && !outflow;
  ParticleStore<dim> before(particles.state_size());
  if (undo)
    before = particles;

  ParticleStep<dim> context;
  context.time     = current_time;
  context.dt       = dt;
  context.number   = step_count;
  context.solver   = solver;
  context.relocate = [this]() {
    located = false;
    locate();
  };
  std::vector<ParticleExit> step_exits;
  if (!pieces.empty())
    context.exits = &step_exits;
  model->step(particles, context);
  current_time += dt;
  ++step_count;
  located = false;

  if (model->needs_cells())
    return;
  if (mesh.is_periodic()) // the dynamics that do not wrap themselves (flow map)
    for (Point<dim> &p : particles.positions())
      wrap_into_box(mesh.bounding_box(), mesh.periodic_directions(), p);
  if (outflow)
    remove_outflow();
  else if (undo)
    undo_outside_moves(before);
  if (!pieces.empty())
    gather_exits(step_exits);
}

template <int dim>
void ParticleEnsemble<dim>::gather_exits(const std::vector<ParticleExit> &step_exits)
{
  // Three doubles per exit: the id's bits (copied, not converted), the time, the piece.
  std::vector<double> records;
  for (const ParticleExit &exit : step_exits)
    {
      double id;
      std::memcpy(&id, &exit.id, sizeof(id));
      records.insert(records.end(), {id, exit.time, static_cast<double>(exit.piece)});
    }
  const std::vector<double> all = all_gather_concatenated(records, mpi_communicator);
  std::vector<ParticleExit> received(all.size() / 3);
  for (std::size_t k = 0; k < received.size(); ++k)
    {
      std::memcpy(&received[k].id, &all[3 * k], sizeof(double));
      received[k].time  = all[3 * k + 1];
      received[k].piece = static_cast<unsigned int>(all[3 * k + 2]);
    }
  // This step's exits all come after the earlier steps', so sorting them keeps the whole
  // list in order, whatever the ranks.
  std::sort(received.begin(), received.end(), [](const ParticleExit &a, const ParticleExit &b) {
    return a.time < b.time || (a.time == b.time && a.id < b.id);
  });
  all_exits.insert(all_exits.end(), received.begin(), received.end());
}

template <int dim>
void ParticleEnsemble<dim>::remove_outflow()
{
  if (!mesh.is_box())
    {
      locate();
      return;
    }
  const std::vector<Point<dim>> &x = particles.positions();
  particles.keep_if([&](const std::size_t k) {
    return inside_box(mesh.bounding_box(), x[k], mesh.periodic_directions());
  });
  const std::uint64_t now = Utilities::MPI::sum<std::uint64_t>(particles.size(), mpi_communicator);
  lost += n_global - now;
  n_global = now;
}

template <int dim>
void ParticleEnsemble<dim>::undo_outside_moves(const ParticleStore<dim> &before)
{
  // Fokker-Planck on a domain that is not a box: moves that left it are undone (a
  // no-flux wall loses nothing); the particles come back at their old positions, with
  // no cell, for the global search to find them. Collective: a rank may hold none.
  for (const std::size_t k : locate())
    particles.push_back(before, k);
  const std::uint64_t returned =
      Utilities::MPI::sum<std::uint64_t>(particles.size(), mpi_communicator) - n_global;
  lost -= returned;
  n_global += returned;
  if (returned > 0)
    {
      located = false; // the returned particles have no cells yet
      locate();
    }
}

template <int dim>
std::vector<Tensor<1, dim>>
ParticleEnsemble<dim>::velocities(const DensitySolver<dim> *solver) const
{
  AssertThrow(located || !model->needs_cells(),
              ExcMessage("The probability flow's velocities need the particles located: call "
                         "locate() first."));
  return model->velocities(particles, current_time, solver);
}

template <int dim>
double ParticleEnsemble<dim>::time() const
{
  return current_time;
}

template <int dim>
const std::vector<Point<dim>> &ParticleEnsemble<dim>::positions() const
{
  return particles.positions();
}

template <int dim>
const std::vector<std::uint64_t> &ParticleEnsemble<dim>::ids() const
{
  return particles.ids();
}

template <int dim>
const std::vector<double> &ParticleEnsemble<dim>::log_densities() const
{
  return particles.log_densities();
}

template <int dim>
const std::vector<typename Triangulation<dim>::active_cell_iterator> &
ParticleEnsemble<dim>::cells() const
{
  if (!located)
    throw RunError("Particles (" + to_string(model->kind()) +
                   ") were asked for their cells without being located on the mesh as it is "
                   "now: locate() them first.");
  return particles.cells();
}

template <int dim>
bool ParticleEnsemble<dim>::is_located() const
{
  return located;
}

template <int dim>
std::uint64_t ParticleEnsemble<dim>::n_particles() const
{
  return n_global;
}

template <int dim>
std::uint64_t ParticleEnsemble<dim>::n_lost() const
{
  return lost;
}

template <int dim>
std::uint64_t ParticleEnsemble<dim>::n_sampled() const
{
  return sampled;
}

template <int dim>
bool ParticleEnsemble<dim>::absorbing() const
{
  return !pieces.empty();
}

template <int dim>
const std::vector<ParticleExit> &ParticleEnsemble<dim>::exits() const
{
  return all_exits;
}

template <int dim>
const std::pair<std::string, unsigned int> &
ParticleEnsemble<dim>::exit_piece(const unsigned int k) const
{
  return pieces.at(k);
}

template <int dim>
double ParticleEnsemble<dim>::acceptance_rate() const
{
  return model->acceptance_rate(mpi_communicator);
}

template <int dim>
ParticleMoments<dim> ParticleEnsemble<dim>::moments() const
{
  // Sums of x and x x^T in one reduction; the covariance from centred sums would need
  // two passes, and for ensembles of order one the difference is round-off.
  std::vector<double> sums(1 + dim + dim * dim, 0.0);
  sums[0] = particles.size();
  for (const Point<dim> &p : particles.positions())
    for (unsigned int i = 0; i < dim; ++i)
      {
        sums[1 + i] += p[i];
        for (unsigned int j = 0; j < dim; ++j)
          sums[1 + dim + i * dim + j] += p[i] * p[j];
      }
  Utilities::MPI::sum(sums, mpi_communicator, sums);
  ParticleMoments<dim> m;
  m.n = static_cast<std::uint64_t>(sums[0]);
  if (m.n == 0)
    return m;
  for (unsigned int i = 0; i < dim; ++i)
    m.mean[i] = sums[1 + i] / m.n;
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int j = i; j < dim; ++j)
      m.covariance[i][j] = sums[1 + dim + i * dim + j] / m.n - m.mean[i] * m.mean[j];
  return m;
}

template class ParticleEnsemble<1>;
template class ParticleEnsemble<2>;
template class ParticleEnsemble<3>;
} // namespace densityflow
