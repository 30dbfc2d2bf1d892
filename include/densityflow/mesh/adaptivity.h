#pragma once

#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/types.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/vector.h>

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

  bool enabled() const { return interval > 0; }

  static void declare_parameters(ParameterHandler &prm);
  /** InputError naming the parameter for values out of range. */
  void parse_parameters(ParameterHandler &prm);
  /**
   * InputError unless `Mesh/Refinement` = @p refinement lies within the levels (the
   * mesh starts at that level everywhere).
   */
  void check_levels(const unsigned int refinement) const;
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
 * The cells flagged for refinement and the families flagged for coarsening on
 * @p triangulation, over all ranks, as the adaptation reports count them (after
 * prepare_coarsening_and_refinement()). Collective.
 */
template <int dim>
std::pair<types::global_cell_index, types::global_cell_index>
count_flagged_cells(const parallel::distributed::Triangulation<dim, dim> &triangulation);
} // namespace densityflow
