#include <densityflow/base/exceptions.h>
#include <densityflow/mesh/adaptivity.h>
#include <densityflow/solvers/petsc_check.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/lac/la_parallel_vector.h>
#include <deal.II/numerics/error_estimator.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <vector>

namespace densityflow
{
std::string to_string(const RefinementIndicator indicator)
{
  switch (indicator)
    {
      case RefinementIndicator::kelly:
        return "kelly";
      case RefinementIndicator::log_kelly:
        return "log-kelly";
      case RefinementIndicator::jump:
        return "jump";
      case RefinementIndicator::automatic:
        break;
    }
  return "auto";
}

void AdaptivityParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  prm.enter_subsection("Adaptivity");
  prm.declare_entry(
      "Interval",
      "0",
      Patterns::Integer(0),
      "Steps between mesh adaptations (Fokker-Planck and transport models, 2D/3D boxes "
      "and other p4est meshes, also with Mesh/Periodic); 0 = off: the mesh stays as "
      "Mesh/Refinement made it.");
  prm.declare_entry("Minimum level",
                    "0",
                    Patterns::Anything(),
                    "No cell is coarsened below this level of the coarse mesh: a number, or "
                    "relative to Mesh/Refinement as 'Refinement', 'Refinement - 1', ... (so "
                    "that the band follows a --set Mesh/Refinement).");
  prm.declare_entry("Maximum level",
                    "0",
                    Patterns::Anything(),
                    "No cell is refined beyond this level (a number, or 'Refinement + 1', ...); "
                    "Mesh/Refinement must lie between the two levels.");
  prm.declare_entry("Refine fraction",
                    "0.3",
                    Patterns::Double(0, 1),
                    "The cells holding this fraction of the indicator's sum are refined.");
  prm.declare_entry("Coarsen fraction",
                    "0.05",
                    Patterns::Double(0, 1),
                    "The cells holding this fraction of the indicator's sum (the smallest) are "
                    "coarsened.");
  prm.declare_entry("Initial cycles",
                    "3",
                    Patterns::Integer(0),
                    "Adapt-and-project cycles on the initial density before the first step.");
  prm.declare_entry("Indicator",
                    "auto",
                    Patterns::Selection("auto|kelly|log-kelly|jump"),
                    "kelly (Fokker-Planck model): Kelly's estimator of rho_h; log-kelly "
                    "(Fokker-Planck model): of log rho_h (floored at 1e-12 of its maximum), "
                    "which resolves the decades of a density rather than its peak; jump "
                    "(transport model): the jumps of the discontinuous rho_h across faces; "
                    "auto: kelly for the Fokker-Planck model, jump for the transport model.");
  prm.declare_entry(
      "Stop time",
      "",
      Patterns::Anything(),
      "Empty (the default): the mesh is adapted to the end. A time: at the first adaptation "
      "step (a multiple of Interval) at or after it, the mesh returns to the uniform one of "
      "Mesh/Refinement (each cell coarsened or refined to that level, the solution "
      "transferred as in any adaptation, mass to round-off) and stays so to the end. A "
      "finer start for a density that is narrow only at first: Initial cycles refine where "
      "rho0 is, and once the density has spread the run goes on at the cost of the uniform "
      "mesh (problems/ou-2d.prm).");
  prm.declare_entry("Particle weight",
                    "0.1",
                    Patterns::Double(0),
                    "The repartitioning after each adaptation balances the cells' weights "
                    "over the ranks: 1 per cell plus this for every particle located in it (those "
                    "of the probability flow, which live on the owners of their cells; Langevin "
                    "and MALA particles on a box are spread over the ranks by id and weigh "
                    "nothing). 0: the cells alone.");
  prm.leave_subsection();
  prm.leave_subsection();
}

void AdaptivityParameters::parse_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Mesh");
  prm.enter_subsection("Adaptivity");
  interval               = prm.get_integer("Interval");
  minimum_text           = Utilities::trim(prm.get("Minimum level"));
  maximum_text           = Utilities::trim(prm.get("Maximum level"));
  refine_fraction        = prm.get_double("Refine fraction");
  coarsen_fraction       = prm.get_double("Coarsen fraction");
  initial_cycles         = prm.get_integer("Initial cycles");
  particle_weight        = prm.get_double("Particle weight");
  const std::string stop = Utilities::trim(prm.get("Stop time"));
  const std::string word = prm.get("Indicator");
  indicator              = word == "kelly"       ? RefinementIndicator::kelly
                           : word == "log-kelly" ? RefinementIndicator::log_kelly
                           : word == "jump"      ? RefinementIndicator::jump
                                                 : RefinementIndicator::automatic;
  prm.leave_subsection();
  prm.leave_subsection();
  stop_time = std::numeric_limits<double>::infinity();
  if (!stop.empty())
    {
      char        *end   = nullptr;
      const double value = std::strtod(stop.c_str(), &end);
      if (end == stop.c_str() || *end != '\0' || !std::isfinite(value) || value < 0)
        throw InputError("Mesh/Adaptivity/Stop time = '" + stop +
                         "' is not a time >= 0 (leave it empty for none).");
      stop_time = value; // (unused where Interval = 0: nothing adapts)
    }
  // The levels' syntax now; their values once Mesh/Refinement is known (set_refinement()).
  level("Minimum level", minimum_text, 0);
  level("Maximum level", maximum_text, 0);
  if (!enabled())
    return;
  if (refine_fraction + coarsen_fraction > 1)
    throw InputError("Mesh/Adaptivity/Refine fraction + Coarsen fraction must not exceed 1.");
}

int AdaptivityParameters::level(const std::string &name,
                                const std::string &text,
                                const int          refinement)
{
  const auto digits = [](const std::string &t) {
    return !t.empty() && t.size() <= 3 &&
           std::all_of(t.begin(), t.end(), [](const char c) { return c >= '0' && c <= '9'; });
  };
  const std::string word     = "Refinement";
  const bool        relative = text.compare(0, word.size(), word) == 0;
  const std::string rest     = Utilities::trim(relative ? text.substr(word.size()) : text);
  if (!relative && digits(rest))
    return std::stoi(rest);
  if (relative && rest.empty())
    return refinement;
  if (relative && (rest[0] == '+' || rest[0] == '-') && digits(Utilities::trim(rest.substr(1))))
    return refinement + (rest[0] == '-' ? -1 : 1) * std::stoi(Utilities::trim(rest.substr(1)));
  throw InputError("Mesh/Adaptivity/" + name + " = '" + text +
                   "' is not a level: a number >= 0, or 'Refinement', 'Refinement + 1', "
                   "'Refinement - 1', ...");
}

void AdaptivityParameters::set_refinement(const unsigned int refinement)
{
  this->refinement  = refinement;
  const int minimum = level("Minimum level", minimum_text, refinement),
            maximum = level("Maximum level", maximum_text, refinement);
  if (enabled() && minimum < 0)
    throw InputError("Mesh/Adaptivity/Minimum level = '" + minimum_text + "' is below 0 for " +
                     "Mesh/Refinement = " + std::to_string(refinement) + ".");
  minimum_level = std::max(minimum, 0);
  maximum_level = std::max(maximum, 0);
  if (enabled() && maximum_level < minimum_level)
    throw InputError("Mesh/Adaptivity/Maximum level = " + std::to_string(maximum_level) +
                     " is below Minimum level = " + std::to_string(minimum_level) + ".");
  if (enabled() && (refinement < minimum_level || refinement > maximum_level))
    throw InputError("Mesh/Adaptivity/Maximum level and Minimum level: Mesh/Refinement = " +
                     std::to_string(refinement) + " must lie between them (" +
                     std::to_string(minimum_level) + " and " + std::to_string(maximum_level) +
                     ").");
}

template <int dim>
double mark_cells(const AdaptivityParameters                     &parameters,
                  const Mapping<dim, dim>                        &mapping,
                  const DoFHandler<dim, dim>                     &dof_handler,
                  const PETScWrappers::MPI::Vector               &rho,
                  parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  const MPI_Comm             communicator = triangulation.get_communicator();
  PETScWrappers::MPI::Vector field(rho);
  if (parameters.indicator == RefinementIndicator::log_kelly)
    {
      // Below the floor log rho is flat: the far field, where rho_h is at the level of
      // the solver's tolerance, asks for no cells.
      const double floor = 1e-12 * Utilities::MPI::max(rho.linfty_norm(), communicator);
      PETScWrappers::MPI::Vector owned(rho.locally_owned_elements(), communicator);
      for (const auto j : rho.locally_owned_elements())
        owned(j) = std::log(std::max(static_cast<double>(rho(j)), floor));
      owned.compress(VectorOperation::insert);
      field = owned;
    }
  // Kelly reads the field cell by cell; from a PETSc vector each value is a separate call
  // into PETSc (a tenth of an adaptation), so the values are copied once into a deal.II
  // vector with the same ghosts.
  IndexSet relevant;
  DoFTools::extract_locally_relevant_dofs(dof_handler, relevant);
  LinearAlgebra::distributed::Vector<double> values(
      field.locally_owned_elements(), relevant, communicator);
  {
    const PetscScalar *local;
    DENSITYFLOW_PETSC(VecGetArrayRead(static_cast<const Vec &>(field), &local));
    std::copy(local, local + values.locally_owned_size(), values.begin());
    DENSITYFLOW_PETSC(VecRestoreArrayRead(static_cast<const Vec &>(field), &local));
  }
  values.update_ghost_values();
  Vector<float> indicator(triangulation.n_active_cells());
  KellyErrorEstimator<dim>::estimate(mapping,
                                     dof_handler,
                                     QGauss<dim - 1>(dof_handler.get_fe().degree + 1),
                                     {},
                                     values,
                                     indicator);
  mark_fixed_fraction(parameters, indicator, triangulation);
  return Utilities::MPI::max(static_cast<double>(indicator.linfty_norm()), communicator);
}

template <int dim>
void mark_fixed_fraction(const AdaptivityParameters                     &parameters,
                         const Vector<float>                            &indicator,
                         parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  const MPI_Comm communicator = triangulation.get_communicator();
  // The fixed fraction's thresholds from all indicators, sorted and summed in one order on
  // every rank: the marking does not depend on the partition (deal.II's parallel version
  // bisects with sums over the ranks, whose round-off moved a few cells between 1 and 2
  // ranks). Ties are refined (or coarsened) together.
  std::vector<float> local;
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned())
      local.push_back(indicator(cell->active_cell_index()));
  std::vector<float> all;
  for (const auto &part : Utilities::MPI::all_gather(communicator, local))
    all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end(), std::greater<float>());
  double total = 0;
  for (const float value : all)
    total += value;
  double refine_threshold = std::numeric_limits<double>::infinity(), sum = 0;
  for (std::size_t k = 0; k < all.size() && parameters.refine_fraction > 0; ++k)
    {
      sum += all[k];
      if (sum >= parameters.refine_fraction * total)
        {
          refine_threshold = all[k];
          break;
        }
    }
  double coarsen_threshold = -std::numeric_limits<double>::infinity();
  sum                      = 0;
  for (std::size_t k = all.size(); k-- > 0 && parameters.coarsen_fraction > 0;)
    {
      sum += all[k];
      if (sum > parameters.coarsen_fraction * total)
        break;
      coarsen_threshold = all[k];
    }
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        const double value = indicator(cell->active_cell_index());
        if (value >= refine_threshold && value > 0)
          cell->set_refine_flag();
        else if (value <= coarsen_threshold)
          cell->set_coarsen_flag();
      }
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        if (cell->level() >= static_cast<int>(parameters.maximum_level))
          cell->clear_refine_flag();
        if (cell->level() <= static_cast<int>(parameters.minimum_level))
          cell->clear_coarsen_flag();
      }
}

template <int dim>
bool mark_for_level(const unsigned int                              level,
                    parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  bool any = false;
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        cell->clear_refine_flag();
        cell->clear_coarsen_flag();
        if (cell->level() > static_cast<int>(level))
          cell->set_coarsen_flag();
        else if (cell->level() < static_cast<int>(level))
          cell->set_refine_flag();
        any |= cell->level() != static_cast<int>(level);
      }
  return Utilities::MPI::logical_or(any, triangulation.get_communicator());
}

template <int dim>
void prepare_adaptation(parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  using Tria = parallel::distributed::Triangulation<dim, dim>;
  enum : std::uint8_t
  {
    refine         = 1,
    coarsen        = 2,
    family_coarsen = 4
  };
  const auto flags_of = [](const typename Tria::active_cell_iterator &cell) -> std::uint8_t {
    return (cell->refine_flag_set() ? refine : 0) | (cell->coarsen_flag_set() ? coarsen : 0);
  };
  // p4est partitions a family onto one rank, so its owner sees whether all its children
  // are flagged to coarsen.
  const auto family_coarsens = [](const typename Tria::active_cell_iterator &cell) {
    if (cell->level() == 0)
      return false;
    const auto parent = cell->parent();
    for (unsigned int c = 0; c < parent->n_children(); ++c)
      if (!parent->child(c)->is_active() || !parent->child(c)->coarsen_flag_set())
        return false;
    return true;
  };
  const auto show_owners_flags = [&]() {
    for (const auto &cell : triangulation.active_cell_iterators())
      if (cell->is_artificial())
        {
          cell->clear_refine_flag();
          cell->clear_coarsen_flag();
        }
    GridTools::exchange_cell_data_to_ghosts<std::uint8_t, Tria>(
        triangulation,
        [&](const typename Tria::active_cell_iterator &cell) -> std_cxx17::optional<std::uint8_t> {
          return flags_of(cell) | (family_coarsens(cell) ? family_coarsen : 0);
        },
        [&](const typename Tria::active_cell_iterator &cell, const std::uint8_t flags) {
          cell->clear_refine_flag();
          cell->clear_coarsen_flag();
          if ((flags & refine) != 0)
            cell->set_refine_flag();
          if ((flags & coarsen) != 0)
            cell->set_coarsen_flag();
          if ((flags & family_coarsen) != 0)
            for (unsigned int c = 0; c < cell->parent()->n_children(); ++c)
              if (const auto child = cell->parent()->child(c);
                  child->is_active() && child->is_artificial())
                child->set_coarsen_flag();
        });
  };
  const auto own_flags = [&]() {
    std::vector<std::uint8_t> flags;
    for (const auto &cell : triangulation.active_cell_iterators())
      if (cell->is_locally_owned())
        flags.push_back(flags_of(cell));
    return flags;
  };
  // A rank's decisions change its neighbours' ghosts; deal.II's rules only add refine
  // flags and remove coarsen flags, so the rounds end.
  for (unsigned int round = 0;; ++round)
    {
      AssertThrow(round < 100,
                  ExcMessage("The mesh adaptation's flags did not settle in 100 rounds."));
      show_owners_flags();
      const std::vector<std::uint8_t> before = own_flags();
      triangulation.prepare_coarsening_and_refinement();
      if (!Utilities::MPI::logical_or(own_flags() != before, triangulation.get_communicator()))
        break;
    }
  // execute_coarsening_and_refinement() prepares once more: from the same view.
  show_owners_flags();
}

template <int dim>
std::pair<types::global_cell_index, types::global_cell_index>
count_flagged_cells(const parallel::distributed::Triangulation<dim, dim> &triangulation)
{
  types::global_cell_index refined = 0, coarsened = 0;
  for (const auto &cell : triangulation.active_cell_iterators())
    if (cell->is_locally_owned())
      {
        refined += cell->refine_flag_set() ? 1 : 0;
        coarsened += cell->coarsen_flag_set() ? 1 : 0;
      }
  const MPI_Comm communicator = triangulation.get_communicator();
  return {Utilities::MPI::sum(refined, communicator),
          Utilities::MPI::sum(coarsened, communicator) / GeometryInfo<dim>::max_children_per_cell};
}

// 1D: p4est has none, but the solvers of every dimension call adapt_after_step().
template bool   mark_for_level(const unsigned int, parallel::distributed::Triangulation<1, 1> &);
template bool   mark_for_level(const unsigned int, parallel::distributed::Triangulation<2, 2> &);
template bool   mark_for_level(const unsigned int, parallel::distributed::Triangulation<3, 3> &);
template void   mark_fixed_fraction(const AdaptivityParameters &,
                                    const Vector<float> &,
                                    parallel::distributed::Triangulation<2, 2> &);
template void   mark_fixed_fraction(const AdaptivityParameters &,
                                    const Vector<float> &,
                                    parallel::distributed::Triangulation<3, 3> &);
template double mark_cells(const AdaptivityParameters &,
                           const Mapping<2, 2> &,
                           const DoFHandler<2, 2> &,
                           const PETScWrappers::MPI::Vector &,
                           parallel::distributed::Triangulation<2, 2> &);
template double mark_cells(const AdaptivityParameters &,
                           const Mapping<3, 3> &,
                           const DoFHandler<3, 3> &,
                           const PETScWrappers::MPI::Vector &,
                           parallel::distributed::Triangulation<3, 3> &);
template void   prepare_adaptation(parallel::distributed::Triangulation<2, 2> &);
template void   prepare_adaptation(parallel::distributed::Triangulation<3, 3> &);
template std::pair<types::global_cell_index, types::global_cell_index>
count_flagged_cells(const parallel::distributed::Triangulation<2, 2> &);
template std::pair<types::global_cell_index, types::global_cell_index>
count_flagged_cells(const parallel::distributed::Triangulation<3, 3> &);
} // namespace densityflow
