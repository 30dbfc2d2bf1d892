#include <densityflow/base/exceptions.h>
#include <densityflow/base/time_schedule.h>
#include <densityflow/simulation/particle_systems.h>

#include <deal.II/distributed/tria.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace densityflow
{
template <int dim>
ParticleSystems<dim>::ParticleSystems(const ParticleParameters    &parameters,
                                      const Mesh<dim>             &mesh,
                                      const Physics<dim>          &physics,
                                      const Expression<dim>       &rho0,
                                      const InteractionParameters *interaction,
                                      const AbsorbingWalls<dim>   *walls)
    : parameters(parameters)
{
  for (unsigned int k = 0; k < parameters.dynamics.size() && parameters.number > 0; ++k)
    {
      ensembles.push_back(std::make_unique<ParticleEnsemble<dim>>(
          parameters.dynamics[k], k, parameters, mesh, physics, interaction, walls));
      ensembles.back()->sample(rho0);
    }
}

template <int dim>
void ParticleSystems<dim>::set_up_steps(const double        pde_step,
                                        const bool          variable,
                                        const TimeSchedule &schedule,
                                        ConditionalOStream &log)
{
  const double wanted        = parameters.time_step;
  unsigned int larger_stride = 1;
  if (!ensembles.empty() && wanted > pde_step * (1 + 1e-9))
    {
      std::ostringstream message;
      message << std::setprecision(10) << "Particles/Time step = " << wanted
              << " is larger than the PDE step " << pde_step;
      if (variable)
        {
          message << ", which varies (CFL-limited, Time/Scheme = ssp-rk3): particle steps "
                     "larger than the PDE's need a fixed PDE step.";
          throw InputError(message.str());
        }
      const double ratio = wanted / pde_step;
      larger_stride      = static_cast<unsigned int>(std::lround(ratio));
      if (std::abs(ratio - larger_stride) > 1e-9 * ratio)
        {
          message << " (Time/End time / ceil(End time / Time/Time step)) and not a multiple of "
                     "it: a larger particle step must be a whole number of PDE steps, e.g. "
                  << std::floor(ratio) * pde_step << " or " << std::ceil(ratio) * pde_step << ".";
          throw InputError(message.str());
        }
      // The particles are written (and compared) only between their steps.
      const auto [step, time] = schedule.first_particle_output_off_stride(pde_step, larger_stride);
      if (step > 0)
        {
          message << " (" << larger_stride << " PDE steps), but the particles are due for output"
                  << " at t = " << time << " (PDE step " << step
                  << "), between two particle steps: make Output/Interval, Particles/"
                     "Output interval and Time/End time multiples of the particle step.";
          throw InputError(message.str());
        }
    }

  for (const auto &ensemble : ensembles)
    {
      std::ostringstream line;
      line << std::setprecision(6) << "  particles: system " << ensemble->system() << " = "
           << to_string(ensemble->dynamics()) << ", " << ensemble->n_particles()
           << " particles from the initial density, ";
      const bool with_pde = ensemble->dynamics() == ParticleDynamics::probability_flow;
      stride.push_back(with_pde ? 1 : larger_stride);
      if (with_pde)
        line << "step " << pde_step << (variable ? " (at most; " : " (")
             << "the PDE's, as the probability flow needs rho_h)";
      else if (larger_stride > 1)
        line << "step " << larger_stride * pde_step << " (" << larger_stride << " PDE steps)";
      else if (wanted > 0 && wanted < pde_step * (1 - 1e-9))
        {
          if (variable)
            line << "steps of at most " << wanted << " within each PDE step";
          else
            {
              const unsigned int n = static_cast<unsigned int>(std::ceil(pde_step / wanted - 1e-9));
              line << "step " << pde_step / n << " (" << n << " per PDE step)";
            }
        }
      else
        line << "step " << pde_step << (variable ? " (at most; the PDE's)" : " (the PDE's)");
      log << line.str() << std::endl;
    }
  pending_steps.assign(ensembles.size(), 0);
  pending_time.assign(ensembles.size(), 0);
}

template <int dim>
bool ParticleSystems<dim>::empty() const
{
  return ensembles.empty();
}

template <int dim>
void ParticleSystems<dim>::prepare_step(const DensitySolver<dim> &solver)
{
  for (unsigned int k = 0; k < ensembles.size(); ++k)
    if (stride[k] == 1)
      ensembles[k]->prepare_step(&solver);
}

template <int dim>
void ParticleSystems<dim>::advance(const double dt, const DensitySolver<dim> &solver)
{
  for (unsigned int k = 0; k < ensembles.size(); ++k)
    {
      pending_time[k] += dt;
      if (++pending_steps[k] == stride[k])
        {
          ensembles[k]->advance(pending_time[k], &solver);
          pending_steps[k] = 0;
          pending_time[k]  = 0;
        }
    }
}

template <int dim>
void ParticleSystems<dim>::print_progress(ConditionalOStream &log) const
{
  for (const auto &ensemble : ensembles)
    {
      const ParticleMoments<dim> m = ensemble->moments();
      std::ostringstream         line;
      line << "         " << std::setw(16) << std::left << to_string(ensemble->dynamics())
           << std::right << std::setprecision(4) << std::scientific << " N = " << m.n
           << "  mean = (" << m.mean << ")";
      if (ensemble->n_lost() > 0)
        line << "  left the domain: " << ensemble->n_lost();
      if (ensemble->dynamics() == ParticleDynamics::mala)
        line << std::fixed << std::setprecision(3) << "  acceptance "
             << ensemble->acceptance_rate();
      log << line.str() << std::endl;
    }
}

template <int dim>
std::vector<double> ParticleSystems<dim>::pending() const
{
  std::vector<double> values;
  for (std::size_t k = 0; k < ensembles.size(); ++k)
    values.insert(values.end(), {double(pending_steps[k]), pending_time[k]});
  return values;
}

template <int dim>
void ParticleSystems<dim>::restore_pending(const std::vector<double> &values)
{
  if (values.size() != 2 * ensembles.size())
    throw InputError("--restart: the checkpoint has " + std::to_string(values.size() / 2) +
                     " particle systems, this run " + std::to_string(ensembles.size()) + ".");
  for (std::size_t k = 0; k < ensembles.size(); ++k)
    {
      pending_steps[k] = static_cast<unsigned int>(values[2 * k]);
      pending_time[k]  = values[2 * k + 1];
    }
}

template <int dim>
const std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &ParticleSystems<dim>::systems() const
{
  return ensembles;
}

template <int dim>
std::vector<std::unique_ptr<ParticleEnsemble<dim>>> &ParticleSystems<dim>::systems()
{
  return ensembles;
}

template <int dim>
ParticleSystems<dim>::~ParticleSystems()
{
  for (auto &connection : weight_connections)
    connection.disconnect();
}

template <int dim>
void ParticleSystems<dim>::weigh_cells(const Mesh<dim> &mesh, const double weight)
{
  const auto *tria =
      dynamic_cast<const parallel::distributed::Triangulation<dim> *>(&mesh.triangulation());
  if (tria == nullptr || !(weight > 0) || ensembles.empty())
    return;
  using Cell       = typename Triangulation<dim>::cell_iterator;
  using CellStatus = typename Triangulation<dim>::CellStatus;
  // p4est asks for the weights after it has refined its forest and before the cells of the
  // triangulation change: the particles' cells are still those counted here.
  weight_connections.push_back(
      tria->signals.pre_distributed_refinement.connect([this]() { count_particles_in_cells(); }));
  weight_connections.push_back(tria->signals.weight.connect(
      [this, weight](const Cell &cell, const CellStatus status) -> unsigned int {
        const auto in = [this](const Cell &c) {
          const auto found = particles_in_cell.find({c->level(), c->index()});
          return found == particles_in_cell.end() ? 0u : found->second;
        };
        double n = 0;
        if (status == Triangulation<dim>::CELL_COARSEN)
          for (unsigned int c = 0; c < cell->n_children(); ++c)
            n += in(cell->child(c));
        else if (status == Triangulation<dim>::CELL_REFINE)
          n = in(cell) / double(GeometryInfo<dim>::max_children_per_cell);
        else if (status == Triangulation<dim>::CELL_PERSIST)
          n = in(cell);
        // deal.II's unit of a cell's weight is 1000.
        return 1000 + static_cast<unsigned int>(std::lround(1000 * weight * n));
      }));
}

template <int dim>
void ParticleSystems<dim>::count_particles_in_cells()
{
  particles_in_cell.clear();
  for (const auto &ensemble : ensembles)
    if (ensemble->is_located())
      for (const auto &cell : ensemble->cells())
        ++particles_in_cell[{cell->level(), cell->index()}];
}

template class ParticleSystems<1>;
template class ParticleSystems<2>;
template class ParticleSystems<3>;
} // namespace densityflow
