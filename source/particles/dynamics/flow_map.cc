#include <densityflow/particles/dynamics/flow_map.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>

namespace densityflow
{
template <int dim>
FlowMapDynamics<dim>::FlowMapDynamics(const Physics<dim> &physics)
    : physics(physics)
{}

template <int dim>
ParticleDynamics FlowMapDynamics<dim>::kind() const
{
  return ParticleDynamics::flow_map;
}

template <int dim>
bool FlowMapDynamics<dim>::carries_log_density() const
{
  return true;
}

template <int dim>
bool FlowMapDynamics<dim>::leaves_through_walls() const
{
  return true;
}

template <int dim>
void FlowMapDynamics<dim>::step(ParticleStore<dim> &particles, const ParticleStep<dim> &step)
{
  const double             t       = step.time;
  const double             dt      = step.dt;
  std::vector<Point<dim>> &x       = particles.positions();
  std::vector<double>     &log_rho = particles.log_densities();
  for (std::size_t k = 0; k < x.size(); ++k)
    {
      // RK4 for (X, log rho): dX/dt = b, d log rho / dt = -div b.
      Tensor<1, dim>   k1, k2, k3, k4;
      double           l1, l2, l3, l4;
      const Point<dim> x0 = x[k];
      physics.drift_and_divergence(x0, t, k1, l1);
      const Point<dim> x1 = x0 + dt / 2 * k1;
      physics.drift_and_divergence(x1, t + dt / 2, k2, l2);
      const Point<dim> x2 = x0 + dt / 2 * k2;
      physics.drift_and_divergence(x2, t + dt / 2, k3, l3);
      const Point<dim> x3 = x0 + dt * k3;
      physics.drift_and_divergence(x3, t + dt, k4, l4);
      x[k] = x0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      log_rho[k] -= dt / 6 * (l1 + 2 * l2 + 2 * l3 + l4);
    }
}

template <int dim>
std::vector<Tensor<1, dim>> FlowMapDynamics<dim>::velocities(const ParticleStore<dim> &particles,
                                                             const double              time,
                                                             const DensitySolver<dim> *) const
{
  return drift_velocities(physics, particles.positions(), time);
}

template class FlowMapDynamics<1>;
template class FlowMapDynamics<2>;
template class FlowMapDynamics<3>;
} // namespace densityflow
