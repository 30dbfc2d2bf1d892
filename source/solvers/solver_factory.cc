#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/adaptivity.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/physics/physics.h>
#include <densityflow/solvers/fokker_planck/fokker_planck_solver.h>
#include <densityflow/solvers/interaction/interaction_solver.h>
#include <densityflow/solvers/path/path_solver.h>
#include <densityflow/solvers/solver_factory.h>
#include <densityflow/solvers/transport/transport_solver.h>

#include <deal.II/distributed/tria.h>

namespace densityflow
{
namespace
{
/**
 * InputError where a cell is its own periodic neighbour (one cell across a periodic
 * direction): the DG solvers assemble a face between two cells.
 */
template <int dim>
void check_periodic_neighbours(const Mesh<dim> &mesh)
{
  bool alone = false;
  for (const auto &cell : mesh.triangulation().active_cell_iterators())
    if (cell->is_locally_owned())
      for (const unsigned int f : cell->face_indices())
        if (cell->has_periodic_neighbor(f) && cell->periodic_neighbor(f)->id() == cell->id())
          alone = true;
  throw_if_any(alone,
               "Mesh/Periodic: a periodic direction has a single cell across; the transport "
               "model's discontinuous Galerkin faces need at least two (raise Mesh/Refinement).",
               mesh.triangulation().get_communicator(),
               false);
}
} // namespace

template <int dim>
std::unique_ptr<DensitySolver<dim>>
create_density_solver(Mesh<dim>                      &mesh,
                      const Physics<dim>             &physics,
                      const DiscretizationParameters &discretization,
                      const TimeParameters           &time,
                      const LinearSolverParameters   &linear_solver,
                      const PathParameters           &path,
                      const InteractionParameters    &interaction,
                      const AbsorbingWalls<dim>      &walls,
                      const AdaptivityParameters     &adaptivity)
{
  if (adaptivity.enabled() && physics.model() != Model::fokker_planck &&
      physics.model() != Model::transport)
    throw InputError("Mesh/Adaptivity/Interval: adaptive meshes are for Physics/Model = "
                     "fokker-planck and transport only (the path and interaction solvers' "
                     "transfers are not done yet).");
  if (adaptivity.enabled() && physics.model() == Model::fokker_planck &&
      adaptivity.indicator == RefinementIndicator::jump)
    throw InputError("Mesh/Adaptivity/Indicator = jump is the transport model's (the jumps of "
                     "a discontinuous rho_h); the Fokker-Planck model's rho_h is continuous: "
                     "use kelly, log-kelly or auto.");
  parallel::distributed::Triangulation<dim, dim> *adaptive = nullptr;
  if (adaptivity.enabled())
    {
      adaptive =
          dynamic_cast<parallel::distributed::Triangulation<dim, dim> *>(&mesh.triangulation());
      if (adaptive == nullptr)
        throw InputError("Mesh/Adaptivity/Interval: adaptive meshes need p4est, which has no 1D "
                         "meshes (Dimension = 1).");
    }
  if (!walls.empty() && physics.model() != Model::fokker_planck)
    throw InputError(walls.description() +
                     ": absorbing walls are for Physics/Model = fokker-planck only.");
  if (mesh.is_periodic() && physics.model() != Model::fokker_planck &&
      physics.model() != Model::transport)
    throw InputError("Mesh/Periodic: periodic directions are for Physics/Model = fokker-planck "
                     "and transport only (the path model's Neumann problem and the interaction "
                     "model's kernel sums are those of the box, not of the torus).");
  if (mesh.is_periodic() && physics.model() == Model::transport)
    check_periodic_neighbours(mesh);
  switch (physics.model())
    {
      case Model::transport:
        {
          auto solver = std::make_unique<TransportSolver<dim>>(
              mesh, physics, discretization, time, linear_solver);
          if (adaptive != nullptr)
            solver->enable_adaptivity(adaptivity, *adaptive);
          return solver;
        }
      case Model::path:
        return std::make_unique<PathSolver<dim>>(
            mesh, physics, path, discretization, time, linear_solver);
      case Model::interaction:
        return std::make_unique<InteractionSolver<dim>>(
            mesh, physics, interaction, discretization, time, linear_solver);
      case Model::fokker_planck:
        break;
    }
  auto solver = std::make_unique<FokkerPlanckSolver<dim>>(
      mesh, physics, discretization, time, linear_solver, walls);
  if (adaptive != nullptr)
    solver->enable_adaptivity(adaptivity, *adaptive);
  return solver;
}

template std::unique_ptr<DensitySolver<1>> create_density_solver(Mesh<1> &,
                                                                 const Physics<1> &,
                                                                 const DiscretizationParameters &,
                                                                 const TimeParameters &,
                                                                 const LinearSolverParameters &,
                                                                 const PathParameters &,
                                                                 const InteractionParameters &,
                                                                 const AbsorbingWalls<1> &,
                                                                 const AdaptivityParameters &);
template std::unique_ptr<DensitySolver<2>> create_density_solver(Mesh<2> &,
                                                                 const Physics<2> &,
                                                                 const DiscretizationParameters &,
                                                                 const TimeParameters &,
                                                                 const LinearSolverParameters &,
                                                                 const PathParameters &,
                                                                 const InteractionParameters &,
                                                                 const AbsorbingWalls<2> &,
                                                                 const AdaptivityParameters &);
template std::unique_ptr<DensitySolver<3>> create_density_solver(Mesh<3> &,
                                                                 const Physics<3> &,
                                                                 const DiscretizationParameters &,
                                                                 const TimeParameters &,
                                                                 const LinearSolverParameters &,
                                                                 const PathParameters &,
                                                                 const InteractionParameters &,
                                                                 const AbsorbingWalls<3> &,
                                                                 const AdaptivityParameters &);
} // namespace densityflow
