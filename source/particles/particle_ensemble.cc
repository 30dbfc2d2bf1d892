#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/point_locator.h>
#include <densityflow/particles/particle_ensemble.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/grid/filtered_iterator.h>
#include <deal.II/grid/grid_tools.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace densityflow
{
namespace
{
/** The step number that sampling draws its random numbers with. */
constexpr std::uint64_t sampling_step = std::numeric_limits<std::uint64_t>::max();

ParticleDynamics parse_dynamics(const std::string &name)
{
  if (name == "flow-map")
    return ParticleDynamics::flow_map;
  if (name == "langevin")
    return ParticleDynamics::langevin;
  if (name == "mala")
    return ParticleDynamics::mala;
  if (name == "probability-flow")
    return ParticleDynamics::probability_flow;
  throw InputError("Particles/Dynamics: '" + name +
                   "' is unknown (flow-map, langevin, mala or probability-flow).");
}
} // namespace

std::string to_string(const ParticleDynamics dynamics)
{
  switch (dynamics)
    {
      case ParticleDynamics::flow_map:
        return "flow-map";
      case ParticleDynamics::langevin:
        return "langevin";
      case ParticleDynamics::mala:
        return "mala";
      case ParticleDynamics::probability_flow:
        return "probability-flow";
    }
  return "unknown";
}

void ParticleParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Particles");
  prm.declare_entry("Number",
                    "0",
                    Patterns::Integer(0),
                    "Particles per system, sampled i.i.d. from the initial density (the same "
                    "sample for every system and any number of MPI ranks). 0: no particles.");
  prm.declare_entry("Dynamics",
                    "langevin",
                    Patterns::Anything(),
                    "Comma-separated list, one particle system each: flow-map (dX/dt = b, "
                    "RK4, carrying log rho), langevin (dX = b dt + sqrt(2 eps) dW, "
                    "Euler-Maruyama), mala (Langevin proposals with a Metropolis correction "
                    "towards pi; b = -grad V only), probability-flow (dX/dt = -grad V - eps grad "
                    "log rho_h from the Fokker-Planck solution, Heun).");
  prm.declare_entry("Time step",
                    "0",
                    Patterns::Double(0),
                    "The largest particle step: each PDE step is split into as many equal "
                    "particle steps as this needs. 0: the PDE's step. (probability-flow always "
                    "steps with the PDE.)");
  prm.declare_entry("Seed", "1", Patterns::Integer(0), "Seed of the particles' random numbers.");
  prm.declare_entry("Write CSV",
                    "false",
                    Patterns::Bool(),
                    "Also write particles_NNNNN.csv (system, id, coordinates, velocity, "
                    "log_density) whenever the particles are written (Output interval).");
  prm.declare_entry("Output interval",
                    "0",
                    Patterns::Double(0),
                    "Simulated time between writing the particles (particles.pvd, CSV) and "
                    "comparing them with the density (particles-vs-pde.csv): at the first "
                    "density output (Output/Interval) at or after each multiple of it, and at "
                    "the start and the end. 0: at every density output.");
  prm.leave_subsection();
}

void ParticleParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Particles");
  number          = prm.get_integer("Number");
  time_step       = prm.get_double("Time step");
  seed            = prm.get_integer("Seed");
  write_csv       = prm.get_bool("Write CSV");
  output_interval = prm.get_double("Output interval");
  dynamics.clear();
  for (const std::string &name : Utilities::split_string_list(prm.get("Dynamics")))
    dynamics.push_back(parse_dynamics(name));
  prm.leave_subsection();
  if (number > 0 && dynamics.empty())
    throw InputError(
        "Particles/Dynamics is empty, but Particles/Number = " + std::to_string(number) + ".");
}

template <int dim>
ParticleEnsemble<dim>::ParticleEnsemble(const ParticleDynamics    dynamics,
                                        const unsigned int        system,
                                        const ParticleParameters &parameters,
                                        const Mesh<dim>          &mesh,
                                        const Physics<dim>       &physics)
    : kind(dynamics)
    , system_index(system)
    , parameters(parameters)
    , mesh(mesh)
    , physics(physics)
    , mpi_communicator(mesh.communicator())
    , random(parameters.seed + 1000003ULL * system)
{
  if (kind == ParticleDynamics::mala &&
      (physics.model() != Model::fokker_planck || !(physics.diffusion() > 0)))
    throw InputError(
        "Particles/Dynamics = mala targets pi = exp(-V/eps)/Z: it needs the Fokker-Planck "
        "model (drift -grad V, eps > 0).");
  if (kind == ParticleDynamics::probability_flow && physics.model() != Model::fokker_planck)
    throw InputError(
        "Particles/Dynamics = probability-flow follows the Fokker-Planck solution; with the "
        "transport model use flow-map (eps = 0) or langevin.");

  locator = &mesh.point_locator();
}

template <int dim>
ParticleEnsemble<dim>::~ParticleEnsemble() = default;

template <int dim>
ParticleDynamics ParticleEnsemble<dim>::dynamics() const
{
  return kind;
}

template <int dim>
unsigned int ParticleEnsemble<dim>::system() const
{
  return system_index;
}

namespace
{
/** A cell's multilinear map from the unit cell through its vertices (MappingQ(1)). */
template <int dim>
class MultilinearMap
{
public:
  explicit MultilinearMap(const typename Triangulation<dim>::active_cell_iterator &cell)
  {
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      vertex[v] = cell->vertex(v);
  }

  Point<dim> point(const Point<dim> &xi) const
  {
    Point<dim> x;
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      {
        double weight = 1;
        for (unsigned int d = 0; d < dim; ++d)
          weight *= (v >> d) & 1 ? xi[d] : 1 - xi[d];
        x += weight * vertex[v];
      }
    return x;
  }

  /** |det J| at @p xi. */
  double jacobian(const Point<dim> &xi) const
  {
    Tensor<2, dim> J;
    for (unsigned int v = 0; v < GeometryInfo<dim>::vertices_per_cell; ++v)
      for (unsigned int d = 0; d < dim; ++d)
        {
          double derivative = 1;
          for (unsigned int e = 0; e < dim; ++e)
            derivative *= e == d ? ((v >> e) & 1 ? 1.0 : -1.0) : ((v >> e) & 1 ? xi[e] : 1 - xi[e]);
          for (unsigned int i = 0; i < dim; ++i)
            J[i][d] += derivative * vertex[v][i];
        }
    return std::abs(determinant(J));
  }

private:
  std::array<Point<dim>, GeometryInfo<dim>::vertices_per_cell> vertex;
};
} // namespace

template <int dim>
DensitySample<dim> sample_density(const Triangulation<dim> &tria,
                                  const CellDensity<dim>   &density,
                                  const ParticleRandom     &random,
                                  const std::uint64_t       n,
                                  const std::uint64_t       step,
                                  const MPI_Comm            mpi_communicator,
                                  const double              bound_factor)
{
  // 1. The mass of the density in each cell and a bound of density |det J| on the unit
  //    cell, for rejection sampling inside it.
  const QGauss<dim>    quadrature(4);
  const QIterated<dim> grid(QTrapezoid<1>(), 4);
  struct CellMass
  {
    std::string  id;
    double       mass, bound;
    unsigned int owner;
  };
  std::vector<CellMass> local;
  // The density is asked once per cell (and below once per round of candidates): a
  // finite-element density pays for setting up its evaluation per call.
  std::vector<Point<dim>> unit_points = quadrature.get_points(), real_points;
  unit_points.insert(unit_points.end(), grid.get_points().begin(), grid.get_points().end());
  std::vector<double> values;
  for (const auto &cell : tria.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const MultilinearMap<dim> map(cell);
        real_points.clear();
        for (const Point<dim> &xi : unit_points)
          real_points.push_back(map.point(xi));
        density(cell, unit_points, real_points, values);
        double mass = 0, bound = 0;
        for (unsigned int q = 0; q < unit_points.size(); ++q)
          {
            const double g = values[q] * map.jacobian(unit_points[q]);
            if (q < quadrature.size())
              mass += g * quadrature.weight(q);
            bound = std::max(bound, g);
          }
        local.push_back({cell->id().to_string(), mass, bound_factor * bound, cell->subdomain_id()});
      }

  // 2. All cells' masses on every rank, in the order of their CellIds: the same list
  //    (and the same rounding) whatever the partition.
  std::vector<std::string>  local_ids;
  std::vector<double>       local_values;
  std::vector<unsigned int> local_owner;
  for (const CellMass &c : local)
    {
      local_ids.push_back(c.id);
      local_values.push_back(c.mass);
      local_values.push_back(c.bound);
      local_owner.push_back(c.owner);
    }
  const auto            all_ids    = Utilities::MPI::all_gather(mpi_communicator, local_ids);
  const auto            all_values = Utilities::MPI::all_gather(mpi_communicator, local_values);
  const auto            all_owners = Utilities::MPI::all_gather(mpi_communicator, local_owner);
  std::vector<CellMass> cells;
  for (unsigned int r = 0; r < all_ids.size(); ++r)
    for (unsigned int k = 0; k < all_ids[r].size(); ++k)
      cells.push_back(
          {all_ids[r][k], all_values[r][2 * k], all_values[r][2 * k + 1], all_owners[r][k]});
  std::sort(cells.begin(), cells.end(), [](const CellMass &a, const CellMass &b) {
    return CellId(a.id) < CellId(b.id);
  });
  std::vector<double> cumulative(cells.size());
  double              total = 0;
  for (std::size_t c = 0; c < cells.size(); ++c)
    cumulative[c] = (total += cells[c].mass);

  // 3. Point i picks its cell with its own first uniform number; the rank that owns
  //    the cell places it there by rejection with the point's next numbers. The
  //    candidates of one cell are tried together, round by round.
  const unsigned int rank = Utilities::MPI::this_mpi_process(mpi_communicator);
  std::map<std::size_t, std::vector<std::uint64_t>> points_of_cell;
  for (std::uint64_t i = 0; i < n; ++i)
    {
      double u[4];
      random.uniforms(i, step, 0, u);
      const std::size_t c = std::min<std::size_t>(
          std::lower_bound(cumulative.begin(), cumulative.end(), u[0] * total) - cumulative.begin(),
          cells.size() - 1);
      if (cells[c].owner == rank)
        points_of_cell[c].push_back(i);
    }
  struct Accepted
  {
    std::uint64_t                                     id;
    Point<dim>                                        point;
    typename Triangulation<dim>::active_cell_iterator cell;
    double                                            value;
  };
  std::vector<Accepted>   accepted;
  std::uint64_t           bound_exceeded = 0;
  std::vector<Point<dim>> xis;
  std::vector<double>     u3;
  for (auto &[c, pending] : points_of_cell)
    {
      const typename Triangulation<dim>::active_cell_iterator cell =
          tria.create_cell_iterator(CellId(cells[c].id));
      const MultilinearMap<dim> map(cell);
      for (std::uint64_t attempt = 1; !pending.empty(); ++attempt)
        {
          xis.clear(), real_points.clear(), u3.clear();
          for (const std::uint64_t i : pending)
            {
              double u[4];
              random.uniforms(i, step, attempt, u);
              Point<dim> xi;
              for (unsigned int d = 0; d < dim; ++d)
                xi[d] = u[d];
              xis.push_back(xi);
              real_points.push_back(map.point(xi));
              u3.push_back(u[3]);
            }
          density(cell, xis, real_points, values);
          std::vector<std::uint64_t> rejected;
          for (std::size_t k = 0; k < pending.size(); ++k)
            {
              const double g = values[k] * map.jacobian(xis[k]);
              if (g > cells[c].bound)
                ++bound_exceeded;
              if (u3[k] * cells[c].bound <= g)
                accepted.push_back({pending[k], real_points[k], cell, values[k]});
              else
                rejected.push_back(pending[k]);
            }
          pending.swap(rejected);
        }
    }
  std::sort(accepted.begin(), accepted.end(), [](const Accepted &a, const Accepted &b) {
    return a.id < b.id;
  });
  DensitySample<dim> sample;
  for (const Accepted &a : accepted)
    {
      sample.ids.push_back(a.id);
      sample.points.push_back(a.point);
      sample.cells.push_back(a.cell);
      sample.values.push_back(a.value);
    }
  sample.mass           = total;
  sample.bound_exceeded = Utilities::MPI::sum(bound_exceeded, mpi_communicator);
  return sample;
}

template <int dim>
void ParticleEnsemble<dim>::sample(const Expression<dim> &rho0)
{
  const CellDensity<dim> values = [&](const auto &, const auto &, const auto &points, auto &rho) {
    rho.resize(points.size());
    for (std::size_t q = 0; q < points.size(); ++q)
      rho[q] = rho0.value(points[q], 0.0);
  };
  DensitySample<dim> s = sample_density(
      mesh.triangulation(), values, random, parameters.number, sampling_step, mpi_communicator);
  AssertThrow(s.bound_exceeded == 0,
              ExcMessage("rho0 exceeded the rejection bound of its cell " +
                         std::to_string(s.bound_exceeded) +
                         " times: refine the mesh where rho0 varies within a cell"));
  x             = std::move(s.points);
  id            = std::move(s.ids);
  located_cells = std::move(s.cells); // a hint for the first locate()
  log_rho.resize(x.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    log_rho[k] = kind == ParticleDynamics::flow_map ? std::log(s.values[k] / s.mass)
                                                    : std::numeric_limits<double>::quiet_NaN();
  start.assign(x.size(), Point<dim>());
  start_velocity.assign(x.size(), Tensor<1, dim>());
  n_global     = Utilities::MPI::sum<std::uint64_t>(x.size(), mpi_communicator);
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
  // The data that travel with a particle: id, log rho, start, start velocity.
  constexpr unsigned int stride = 2 + 2 * dim;
  std::vector<double>    data;
  data.reserve(x.size() * stride);
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      data.push_back(static_cast<double>(id[k]));
      data.push_back(log_rho[k]);
      for (unsigned int d = 0; d < dim; ++d)
        data.push_back(start[k][d]);
      for (unsigned int d = 0; d < dim; ++d)
        data.push_back(start_velocity[k][d]);
    }
  const std::vector<std::size_t> outside = locator->locate(x, data, stride, located_cells);
  id.resize(x.size()), log_rho.resize(x.size()), start.resize(x.size()),
      start_velocity.resize(x.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      const double *values = &data[k * stride];
      id[k]                = static_cast<std::uint64_t>(values[0]);
      log_rho[k]           = values[1];
      for (unsigned int d = 0; d < dim; ++d)
        {
          start[k][d]          = values[2 + d];
          start_velocity[k][d] = values[2 + dim + d];
        }
    }
  const std::uint64_t now = Utilities::MPI::sum<std::uint64_t>(x.size(), mpi_communicator);
  lost += n_global - now;
  n_global = now;
  located  = true;
  return outside;
}

template <int dim>
void ParticleEnsemble<dim>::balance()
{
  if (kind == ParticleDynamics::probability_flow || !mesh.is_box())
    return;
  const unsigned int  n_ranks = Utilities::MPI::n_mpi_processes(mpi_communicator);
  const unsigned int  rank    = Utilities::MPI::this_mpi_process(mpi_communicator);
  const std::uint64_t n       = parameters.number;
  // id, log rho, x: the data that the dynamics without cells carry.
  constexpr unsigned int                      stride = 2 + dim;
  std::map<unsigned int, std::vector<double>> outgoing;
  std::size_t                                 kept = 0;
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      const unsigned int target =
          std::min<std::uint64_t>(id[k] * n_ranks / std::max<std::uint64_t>(n, 1), n_ranks - 1);
      if (target == rank)
        {
          x[kept] = x[k], id[kept] = id[k], log_rho[kept] = log_rho[k];
          ++kept;
          continue;
        }
      std::vector<double> &out = outgoing[target];
      out.push_back(static_cast<double>(id[k]));
      out.push_back(log_rho[k]);
      for (unsigned int d = 0; d < dim; ++d)
        out.push_back(x[k][d]);
    }
  x.resize(kept), id.resize(kept), log_rho.resize(kept);
  for (const auto &[sender, values] : Utilities::MPI::some_to_some(mpi_communicator, outgoing))
    for (std::size_t k = 0; k < values.size(); k += stride)
      {
        id.push_back(static_cast<std::uint64_t>(values[k]));
        log_rho.push_back(values[k + 1]);
        Point<dim> p;
        for (unsigned int d = 0; d < dim; ++d)
          p[d] = values[k + 2 + d];
        x.push_back(p);
      }
  start.assign(x.size(), Point<dim>());
  start_velocity.assign(x.size(), Tensor<1, dim>());
  located_cells.clear();
  located = false;
}

template <int dim>
bool ParticleEnsemble<dim>::inside_box(const Point<dim> &p) const
{
  const auto &box = mesh.bounding_box().get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    if (p[d] < box.first[d] || p[d] > box.second[d])
      return false;
  return true;
}

template <int dim>
bool ParticleEnsemble<dim>::reflect(Point<dim> &p) const
{
  if (!mesh.is_box())
    return false;
  const auto &box = mesh.bounding_box().get_boundary_points();
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double lower = box.first[d], upper = box.second[d], width = upper - lower;
      // Mirror images repeat with period 2 width: fold, then reflect the upper half.
      double s = std::fmod(p[d] - lower, 2 * width);
      if (s < 0)
        s += 2 * width;
      p[d] = lower + (s <= width ? s : 2 * width - s);
    }
  return true;
}

template <int dim>
std::vector<Tensor<1, dim>>
ParticleEnsemble<dim>::probability_flow_velocities(const DensitySolver<dim> *solver) const
{
  Assert(located, ExcInternalError());
  const auto *fp = dynamic_cast<const FokkerPlanckSolver<dim> *>(solver);
  AssertThrow(fp != nullptr, ExcMessage("The probability flow needs the Fokker-Planck solver."));
  std::vector<Tensor<1, dim>> velocity(x.size());
  // Particles come cell by cell from the handler: evaluate a cell's particles at once.
  std::size_t k = 0;
  while (k < x.size())
    {
      std::size_t end = k + 1;
      while (end < x.size() && located_cells[end] == located_cells[k])
        ++end;
      const typename DoFHandler<dim>::active_cell_iterator cell(&mesh.triangulation(),
                                                                located_cells[k]->level(),
                                                                located_cells[k]->index(),
                                                                &fp->get_dof_handler());
      std::vector<Point<dim>>                              points(x.begin() + k, x.begin() + end);
      std::vector<double>                                  rho;
      std::vector<Tensor<1, dim>>                          v;
      fp->evaluate(cell, points, rho, &v);
      std::copy(v.begin(), v.end(), velocity.begin() + k);
      k = end;
    }
  return velocity;
}

template <int dim>
void ParticleEnsemble<dim>::prepare_step(const DensitySolver<dim> *solver)
{
  if (kind != ParticleDynamics::probability_flow)
    return;
  locate();
  const std::vector<Tensor<1, dim>> v = probability_flow_velocities(solver);
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      start[k]          = x[k];
      start_velocity[k] = v[k];
    }
}

template <int dim>
void ParticleEnsemble<dim>::advance(const double dt, const DensitySolver<dim> *solver)
{
  if (kind == ParticleDynamics::probability_flow)
    {
      // Heun: predictor with the velocity at t (prepare_step), corrector with the one
      // at the predicted point and t + dt (the solver has stepped there).
      for (std::size_t k = 0; k < x.size(); ++k)
        {
          x[k] = start[k] + dt * start_velocity[k];
          reflect(x[k]);
        }
      located = false;
      locate();
      const std::vector<Tensor<1, dim>> v = probability_flow_velocities(solver);
      for (std::size_t k = 0; k < x.size(); ++k)
        {
          x[k] = start[k] + dt / 2 * (start_velocity[k] + v[k]);
          reflect(x[k]);
        }
      located = false;
      current_time += dt;
      ++step_count;
      return;
    }
  const unsigned int substeps =
      parameters.time_step > 0
          ? std::max(1u, static_cast<unsigned int>(std::ceil(dt / parameters.time_step - 1e-9)))
          : 1;
  for (unsigned int s = 0; s < substeps; ++s)
    step(dt / substeps);
}

template <int dim>
void ParticleEnsemble<dim>::step(const double dt)
{
  const double t             = current_time;
  const double eps           = physics.diffusion();
  const bool   fokker_planck = physics.model() == Model::fokker_planck;
  // Moves that left a domain that is not a box are found by locating the particles;
  // with the Fokker-Planck model they are undone, with transport they are outflow.
  const bool undo_outside_moves =
      !mesh.is_box() && fokker_planck && kind != ParticleDynamics::flow_map;
  std::vector<Point<dim>> before;
  if (undo_outside_moves)
    before = x;

  switch (kind)
    {
      case ParticleDynamics::flow_map:
        for (std::size_t k = 0; k < x.size(); ++k)
          {
            // RK4 for (X, log rho): dX/dt = b, d log rho / dt = -div b.
            const Point<dim>     x0 = x[k];
            const Tensor<1, dim> k1 = physics.drift(x0, t);
            const double         l1 = -physics.drift_divergence(x0, t);
            const Point<dim>     x1 = x0 + dt / 2 * k1;
            const Tensor<1, dim> k2 = physics.drift(x1, t + dt / 2);
            const double         l2 = -physics.drift_divergence(x1, t + dt / 2);
            const Point<dim>     x2 = x0 + dt / 2 * k2;
            const Tensor<1, dim> k3 = physics.drift(x2, t + dt / 2);
            const double         l3 = -physics.drift_divergence(x2, t + dt / 2);
            const Point<dim>     x3 = x0 + dt * k3;
            const Tensor<1, dim> k4 = physics.drift(x3, t + dt);
            const double         l4 = -physics.drift_divergence(x3, t + dt);
            x[k]                    = x0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
            log_rho[k] += dt / 6 * (l1 + 2 * l2 + 2 * l3 + l4);
          }
        break;

      case ParticleDynamics::langevin:
        {
          const double noise = std::sqrt(2 * eps * dt);
          double       z[4];
          for (std::size_t k = 0; k < x.size(); ++k)
            {
              random.normals(id[k], step_count, 0, z, dim);
              const Tensor<1, dim> b = physics.drift(x[k], t);
              for (unsigned int d = 0; d < dim; ++d)
                x[k][d] += dt * b[d] + noise * z[d];
              if (fokker_planck)
                reflect(x[k]);
            }
          break;
        }

      case ParticleDynamics::mala:
        {
          // Proposal y = x - dt grad V(x) + sqrt(2 eps dt) z, accepted with probability
          // min(1, pi(y) q(x | y) / (pi(x) q(y | x))), q Gaussian of variance 2 eps dt.
          const double noise = std::sqrt(2 * eps * dt);
          double       z[4], u[4];
          for (std::size_t k = 0; k < x.size(); ++k)
            {
              random.normals(id[k], step_count, 0, z, dim);
              random.uniforms(id[k], step_count, 1, u);
              const Tensor<1, dim> bx = physics.drift(x[k], t);
              Point<dim>           y  = x[k];
              for (unsigned int d = 0; d < dim; ++d)
                y[d] += dt * bx[d] + noise * z[d];
              ++proposed;
              if (mesh.is_box() && !inside_box(y))
                continue; // pi = 0 outside
              const Tensor<1, dim> by       = physics.drift(y, t);
              const Tensor<1, dim> forward  = y - x[k] - dt * bx;
              const Tensor<1, dim> backward = x[k] - y - dt * by;
              const double         log_ratio =
                  -(physics.potential().value(y, t) - physics.potential().value(x[k], t)) / eps -
                  (backward.norm_square() - forward.norm_square()) / (4 * eps * dt);
              if (std::log(u[0]) <= log_ratio)
                {
                  x[k] = y;
                  ++accepted;
                }
            }
          break;
        }

      case ParticleDynamics::probability_flow:
        Assert(false, ExcInternalError());
        break;
    }

  current_time += dt;
  ++step_count;
  located = false;

  if (physics.model() == Model::transport || kind == ParticleDynamics::flow_map)
    {
      // Outflow: particles outside the domain have left it.
      if (mesh.is_box())
        {
          std::size_t kept = 0;
          for (std::size_t k = 0; k < x.size(); ++k)
            if (inside_box(x[k]))
              {
                x[kept] = x[k], id[kept] = id[k], log_rho[kept] = log_rho[k];
                start[kept] = start[k], start_velocity[kept] = start_velocity[k];
                ++kept;
              }
          x.resize(kept), id.resize(kept), log_rho.resize(kept), start.resize(kept),
              start_velocity.resize(kept);
          located_cells.clear();
          const std::uint64_t now = Utilities::MPI::sum<std::uint64_t>(kept, mpi_communicator);
          lost += n_global - now;
          n_global = now;
        }
      else
        locate();
    }
  else if (undo_outside_moves) // (collective: a rank may hold no particles)
    {
      // Fokker-Planck on a domain that is not a box: moves that left it are undone
      // (a no-flux wall loses nothing); the particles come back at their old positions.
      const std::vector<std::uint64_t> ids_before = id;
      const std::vector<std::size_t>   outside    = locate();
      for (const std::size_t k : outside)
        {
          x.push_back(before[k]);
          id.push_back(ids_before[k]);
          log_rho.push_back(std::numeric_limits<double>::quiet_NaN());
          start.push_back(before[k]);
          start_velocity.push_back(Tensor<1, dim>());
          located_cells.emplace_back(); // no hint: the global search finds them
        }
      const std::uint64_t returned =
          Utilities::MPI::sum<std::uint64_t>(outside.size(), mpi_communicator);
      lost -= returned;
      n_global += returned;
      if (returned > 0)
        {
          located = false; // the returned particles have no cells yet
          locate();
        }
    }
}

template <int dim>
std::vector<Tensor<1, dim>> ParticleEnsemble<dim>::velocities(const DensitySolver<dim> *solver)
{
  if (kind == ParticleDynamics::probability_flow)
    {
      if (!located)
        locate();
      return probability_flow_velocities(solver);
    }
  std::vector<Tensor<1, dim>> v(x.size());
  for (std::size_t k = 0; k < x.size(); ++k)
    v[k] = physics.drift(x[k], current_time);
  return v;
}

template <int dim>
double ParticleEnsemble<dim>::time() const
{
  return current_time;
}

template <int dim>
const std::vector<Point<dim>> &ParticleEnsemble<dim>::positions() const
{
  return x;
}

template <int dim>
const std::vector<std::uint64_t> &ParticleEnsemble<dim>::ids() const
{
  return id;
}

template <int dim>
const std::vector<double> &ParticleEnsemble<dim>::log_densities() const
{
  return log_rho;
}

template <int dim>
const std::vector<typename Triangulation<dim>::active_cell_iterator> &
ParticleEnsemble<dim>::cells() const
{
  Assert(located, ExcMessage("locate() the particles first"));
  return located_cells;
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
double ParticleEnsemble<dim>::acceptance_rate() const
{
  if (kind != ParticleDynamics::mala)
    return std::numeric_limits<double>::quiet_NaN();
  const double p = Utilities::MPI::sum(double(proposed), mpi_communicator);
  const double a = Utilities::MPI::sum(double(accepted), mpi_communicator);
  return p > 0 ? a / p : std::numeric_limits<double>::quiet_NaN();
}

template <int dim>
ParticleMoments<dim> ParticleEnsemble<dim>::moments() const
{
  // Sums of x and x x^T in one reduction; the covariance from centred sums would need
  // two passes, and for ensembles of order one the difference is round-off.
  std::vector<double> sums(1 + dim + dim * dim, 0.0);
  sums[0] = x.size();
  for (const Point<dim> &p : x)
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

#define DENSITYFLOW_INSTANTIATE(dim)                                                               \
  template DensitySample<dim> sample_density(const Triangulation<dim> &,                           \
                                             const CellDensity<dim> &,                             \
                                             const ParticleRandom &,                               \
                                             const std::uint64_t,                                  \
                                             const std::uint64_t,                                  \
                                             const MPI_Comm,                                       \
                                             const double);
DENSITYFLOW_INSTANTIATE(1)
DENSITYFLOW_INSTANTIATE(2)
DENSITYFLOW_INSTANTIATE(3)
#undef DENSITYFLOW_INSTANTIATE

template class ParticleEnsemble<1>;
template class ParticleEnsemble<2>;
template class ParticleEnsemble<3>;
} // namespace densityflow
