#pragma once

#include <densityflow/solvers/interface.h>

#include <memory>

namespace densityflow
{
template <int dim>
class Mesh;
template <int dim>
class Physics;
template <int dim>
class AbsorbingWalls;
struct DiscretizationParameters;
struct TimeParameters;
struct LinearSolverParameters;
struct PathParameters;
struct InteractionParameters;
struct AdaptivityParameters;

/**
 * The density solver of the model of @p physics (Physics/Model): where a new model's
 * solver is added. InputError for @p walls on a model that has no absorbing walls, and for
 * @p adaptivity (Mesh/Adaptivity, which refines @p mesh) where it is not supported.
 */
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
                      const AdaptivityParameters     &adaptivity);
} // namespace densityflow
