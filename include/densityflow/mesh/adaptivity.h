#pragma once

#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/types.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/vector.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace dealii
{
template <int dim, int spacedim>
class DoFHandler;
template <int dim, int spacedim>
class Mapping;
namespace parallel::distributed
{
template <int dim, int spacedim>
class Triangulation;
}
} // namespace dealii

namespace densityflow
{
using namespace dealii;

/** What the refinement indicator of `Mesh/Adaptivity/Indicator` looks at. */
enum class RefinementIndicator
{
  /** Kelly's estimator (jumps of the normal gradient across faces) of rho_h. */
  kelly,
  /**
   * Kelly's estimator of log rho_h, floored at 1e-12 of the largest nodal density: the
   * resolution of the decades, which the probability-flow velocity -eps grad log u needs.
   */
  log_kelly,
  /**
   * The transport model's (discontinuous) rho_h: eta_K^2 = sum over K's interior faces F
   * of (|K| / |F|) int_F [rho_h]^2, the jumps of rho_h itself, which estimate the L2 error
   * of a DG solution of order p + 1 (Kelly's jumps of the normal derivative see a DG
   * field's gradients only).
   */
  jump,
  /** kelly for the Fokker-Planck model, jump for the transport model (the default). */
  automatic
};

/** "kelly", "log-kelly", "jump", "auto": the parameter's words. */
std::string to_string(const RefinementIndicator indicator);

/**
 * The `Mesh/Adaptivity` subsection: refine and coarsen the mesh every `Interval` steps by
 * a fixed fraction of the indicator, between two levels. Interval = 0 (the default) is off,
 * and then nothing of the run changes.
 */
struct AdaptivityParameters
{
  /** Steps between adaptations; 0 = off. */
  unsigned int interval = 0;
  /** Levels of refinement of the coarse mesh that cells stay within. */
  unsigned int minimum_level = 0;
  unsigned int maximum_level = 0;
  /** Fractions of the indicator's sum refined and coarsened (fixed fraction). */
  double refine_fraction  = 0.3;
  double coarsen_fraction = 0.05;
  /** Adapt-and-project cycles on rho0 before the first step. */
  unsigned int        initial_cycles = 3;
  RefinementIndicator indicator      = RefinementIndicator::kelly;
  /** What a particle in a cell weighs in the repartitioning, against 1 for the cell. */
  double particle_weight = 0.1;
  /**
   * From this time on the mesh is the uniform one of `Mesh/Refinement` again (infinity:
   * never): a finer start for a density that is narrow only at first.
   */
  double stop_time = std::numeric_limits<double>::infinity();
  /** `Mesh/Refinement`, the level of the mesh at the start and after `Stop time`. */
  unsigned int refinement = 0;
  /** The levels as written: a number, or relative to `Mesh/Refinement` (see level()). */
  std::string minimum_text = "0", maximum_text = "0";

  bool enabled() const { return interval > 0; }

  /**
   * Whether the adaptation after the step that ends at @p time follows the indicator
   * (before `Stop time`); after it, adapt_after_step() returns to `Mesh/Refinement`.
   */
  bool follows_indicator(const double time) const
  {
    return std::isinf(stop_time) || time < stop_time - 1e-12 * std::max(1.0, stop_time);
  }

  static void declare_parameters(ParameterHandler &prm);
  /** InputError naming the parameter for values out of range. */
  void parse_parameters(ParameterHandler &prm);
  /**
   * Takes `Mesh/Refinement` = @p refinement (the mesh starts at that level everywhere) and
   * with it the levels: InputError unless it lies within them.
   */
  void set_refinement(const unsigned int refinement);

  /**
   * The level @p text of the parameter @p name: "5", or "Refinement", "Refinement + 1",
   * "Refinement - 2" for @p refinement plus that. InputError for anything else.
   */
  static int level(const std::string &name, const std::string &text, const int refinement);
};

/**
 * Sets refinement and coarsening flags on @p triangulation by the fixed fraction of
 * @p indicator (one value per active cell; the locally owned ones are read): the cells
 * holding the largest `Refine fraction` of the indicator's sum are refined, the smallest
 * `Coarsen fraction` coarsened, from thresholds computed from all indicators sorted on
 * every rank (the same flags on any number of ranks), none beyond the levels. Collective.
 */
template <int dim>
void mark_fixed_fraction(const AdaptivityParameters                     &parameters,
                         const Vector<float>                            &indicator,
                         parallel::distributed::Triangulation<dim, dim> &triangulation);

/**
 * Sets refinement and coarsening flags on @p triangulation from the indicator of the nodal
 * density @p rho (ghosted, a Q_p function on @p dof_handler): the cells holding the largest
 * `Refine fraction` of the indicator's sum are refined, the smallest `Coarsen fraction`
 * coarsened (thresholds from all indicators sorted on every rank: the same flags on any
 * number of ranks), none beyond the levels. Returns the indicator's maximum. Collective.
 */
template <int dim>
double mark_cells(const AdaptivityParameters                     &parameters,
                  const Mapping<dim, dim>                        &mapping,
                  const DoFHandler<dim, dim>                     &dof_handler,
                  const PETScWrappers::MPI::Vector               &rho,
                  parallel::distributed::Triangulation<dim, dim> &triangulation);

/**
 * Flags every locally owned active cell of @p triangulation above @p level for coarsening
 * and below it for refinement. Returns whether any cell on any rank is not at @p level
 * (then the caller adapts and asks again: one call coarsens one level). Collective.
 */
template <int dim>
bool mark_for_level(const unsigned int                              level,
                    parallel::distributed::Triangulation<dim, dim> &triangulation);

/**
 * The adaptation due after the step that ends at @p time: @p adapt(true) (estimate, mark
 * and adapt) before `Stop time`; after it, @p adapt(false) (adapt as flagged) after each
 * mark_for_level() of `Mesh/Refinement` until the mesh is that uniform one, which then
 * costs one pass over the cells per Interval.
 */
template <int dim, typename Adapt>
void adapt_after_step(const AdaptivityParameters                     &parameters,
                      const double                                    time,
                      parallel::distributed::Triangulation<dim, dim> &triangulation,
                      const Adapt                                    &adapt)
{
  if (parameters.follows_indicator(time))
    {
      adapt(true);
      return;
    }
  // One level per pass; the bound only guards against flags that p4est's balance drops.
  for (unsigned int pass = 0;
       pass <= parameters.maximum_level && mark_for_level(parameters.refinement, triangulation);
       ++pass)
    adapt(false);
}

/**
 * deal.II's prepare_coarsening_and_refinement() of @p triangulation, deciding as one rank
 * would, so that the mesh, and with it every result, does not depend on the number of
 * ranks (checked on 1, 2 and 3 ranks, 2D and 3D). deal.II 9.4 decides each rank's flags from its
 * own view: ghost cells without their owners' flags, and a neighbouring rank's family whose other
 * children are artificial here taken for one that stays. Its 2:1 rule at vertices across periodic
 * walls then kept families from coarsening on 2 ranks that 1 rank coarsened (a transport run on the
 * torus: 3 to 6 cells more at its outputs). Here every ghost shows its owner's flags, the
 * artificial children of a family its owner coarsens are flagged too, and the preparation repeats
 * until no rank's own flags change (a rank's decisions change its neighbours' ghosts). Collective.
 */
template <int dim>
void prepare_adaptation(parallel::distributed::Triangulation<dim, dim> &triangulation);

/**
 * The cells flagged for refinement and the families flagged for coarsening on
 * @p triangulation, over all ranks, as the adaptation reports count them (after
 * prepare_coarsening_and_refinement()). Collective.
 */
template <int dim>
std::pair<types::global_cell_index, types::global_cell_index>
count_flagged_cells(const parallel::distributed::Triangulation<dim, dim> &triangulation);
} // namespace densityflow
