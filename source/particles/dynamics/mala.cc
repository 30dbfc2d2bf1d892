#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/mesh.h>
#include <densityflow/particles/dynamics/mala.h>
#include <densityflow/particles/particle_store.h>
#include <densityflow/physics/physics.h>

namespace densityflow
{
template <int dim>
MalaDynamics<dim>::MalaDynamics(const Mesh<dim>      &mesh,
                                const Physics<dim>   &physics,
                                const ParticleRandom &random)
    : mesh(mesh)
    , physics(physics)
    , random(random)
{
  if (physics.model() != Model::fokker_planck || !(physics.diffusion() > 0))
    throw InputError(
        "Particles/Dynamics = mala targets pi = exp(-V/eps)/Z: it needs the Fokker-Planck "
        "model (drift -grad V, eps > 0).");
}

template <int dim>
ParticleDynamics MalaDynamics<dim>::kind() const
{
  return ParticleDynamics::mala;
}

template <int dim>
void MalaDynamics<dim>::step(ParticleStore<dim> &particles, const ParticleStep<dim> &step)
{
  // Proposal y = x - dt grad V(x) + sqrt(2 eps dt) z, accepted with probability
  // min(1, pi(y) q(x | y) / (pi(x) q(y | x))), q Gaussian of variance 2 eps dt.
  const double             t     = step.time;
  const double             dt    = step.dt;
  const double             eps   = physics.diffusion();
  const double             noise = std::sqrt(2 * eps * dt);
  std::vector<Point<dim>> &x     = particles.positions();
  const auto              &ids   = particles.ids();
  constexpr std::size_t    batch = 256; // normals made a batch at a time (vectorised)
  double                   z[batch * dim], u[4];
  for (std::size_t start = 0; start < x.size(); start += batch)
    {
      const std::size_t end = std::min(x.size(), start + batch);
      random.normals(ids.data() + start, end - start, step.number, 0, dim, z);
      for (std::size_t k = start; k < end; ++k)
        {
          const double *zk = z + (k - start) * dim;
          random.uniforms(ids[k], step.number, 1, u);
          const Tensor<1, dim> bx = physics.drift(x[k], t);
          Point<dim>           y  = x[k];
          for (unsigned int d = 0; d < dim; ++d)
            y[d] += dt * bx[d] + noise * zk[d];
          ++proposed;
          // On a periodic direction the unwrapped y is compared with x: the reverse move of
          // x -> y + n L is y -> x - n L, so the single Gaussians of this pair of images give
          // detailed balance on the torus (with V and b periodic), and y is wrapped when
          // taken.
          if (mesh.is_box() && !inside_box(mesh.bounding_box(), y, mesh.periodic_directions()))
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
              wrap_into_box(mesh.bounding_box(), mesh.periodic_directions(), x[k]);
              ++accepted;
            }
        }
    }
}

template <int dim>
std::vector<Tensor<1, dim>> MalaDynamics<dim>::velocities(const ParticleStore<dim> &particles,
                                                          const double              time,
                                                          const DensitySolver<dim> *) const
{
  return drift_velocities(physics, particles.positions(), time);
}

template <int dim>
double MalaDynamics<dim>::acceptance_rate(const MPI_Comm communicator) const
{
  const double p = Utilities::MPI::sum(double(proposed), communicator);
  const double a = Utilities::MPI::sum(double(accepted), communicator);
  return p > 0 ? a / p : std::numeric_limits<double>::quiet_NaN();
}

template class MalaDynamics<1>;
template class MalaDynamics<2>;
template class MalaDynamics<3>;
} // namespace densityflow
