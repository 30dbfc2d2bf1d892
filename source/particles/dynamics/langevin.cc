#include <densityflow/mesh/absorbing_walls.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/dynamics/langevin.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>

namespace densityflow
{
template <int dim>
LangevinDynamics<dim>::LangevinDynamics(const Mesh<dim>           &mesh,
                                        const Physics<dim>        &physics,
                                        const ParticleRandom      &random,
                                        const AbsorbingWalls<dim> *walls)
    : mesh(mesh)
    , physics(physics)
    , random(random)
    , walls(walls != nullptr && !walls->empty() ? std::make_unique<AbsorbingWalls<dim>>(*walls)
                                                : nullptr)
{}

template <int dim>
LangevinDynamics<dim>::~LangevinDynamics() = default;

template <int dim>
bool LangevinDynamics<dim>::leaves_through_walls() const
{
  return walls != nullptr;
}

template <int dim>
ParticleDynamics LangevinDynamics<dim>::kind() const
{
  return ParticleDynamics::langevin;
}

template <int dim>
void LangevinDynamics<dim>::step(ParticleStore<dim> &particles, const ParticleStep<dim> &step)
{
  const double             t        = step.time;
  const double             dt       = step.dt;
  const double             eps      = physics.diffusion();
  const bool               reflect  = physics.model() == Model::fokker_planck && mesh.is_box();
  const double             noise    = std::sqrt(2 * eps * dt);
  const bool               periodic = mesh.is_periodic();
  std::vector<Point<dim>> &x        = particles.positions();
  const auto              &ids      = particles.ids();
  // The normals are made a batch at a time (vectorised), then used particle by particle.
  constexpr std::size_t batch = 256;
  double                z[batch * dim];
  for (std::size_t start = 0; start < x.size(); start += batch)
    {
      const std::size_t end = std::min(x.size(), start + batch);
      random.normals(ids.data() + start, end - start, step.number, 0, dim, z);
      for (std::size_t k = start; k < end; ++k)
        {
          const double        *zk = z + (k - start) * dim;
          const Tensor<1, dim> b  = physics.drift(x[k], t);
          const Point<dim>     x0 = x[k];
          for (unsigned int d = 0; d < dim; ++d)
            x[k][d] += dt * b[d] + noise * zk[d];
          if (walls)
            {
              double u[4];
              random.uniforms(ids[k], step.number, 1, u);
              const WallHit hit = walls->hit(x0, x[k], noise * noise);
              if (u[0] < hit.probability)
                {
                  // The other three numbers of the draw place the exit within the step.
                  if (step.exits != nullptr)
                    step.exits->push_back(
                        {ids[k],
                         t + bridge_hitting_time(hit.a, hit.b, noise * noise, dt, u[1], u[2], u[3]),
                         static_cast<unsigned int>(hit.piece)});
                  x[k] = walls->outside_point();
                  continue;
                }
            }
          if (reflect && periodic)
            fold_into_box(mesh.bounding_box(), mesh.periodic_directions(), x[k]);
          else if (reflect)
            reflect_into_box(mesh.bounding_box(), x[k]);
          else if (periodic)
            wrap_into_box(mesh.bounding_box(), mesh.periodic_directions(), x[k]);
        }
    }
}

template <int dim>
std::vector<Tensor<1, dim>> LangevinDynamics<dim>::velocities(const ParticleStore<dim> &particles,
                                                              const double              time,
                                                              const DensitySolver<dim> *) const
{
  return drift_velocities(physics, particles.positions(), time);
}

template class LangevinDynamics<1>;
template class LangevinDynamics<2>;
template class LangevinDynamics<3>;
} // namespace densityflow
