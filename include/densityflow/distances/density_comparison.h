#pragma once

#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/sliced.h>

#include <deal.II/base/point.h>
#include <deal.II/grid/tria.h>

#include <cstdint>
#include <memory>
#include <vector>

#include <mpi.h>

namespace densityflow
{
using namespace dealii;

template <int dim>
class DensitySolver;
template <int dim>
struct DensityStatistics;
template <int dim>
class Mesh;
template <int dim>
struct DensityMeasure;

/**
 * Standard distances between weighted point ensembles (particles of any code) and the
 * finite-element density rho_h:
 * - moments: error of the mean and of the covariance (moments.h);
 * - histogram total variation over bins of cells (histogram.h);
 * - energy distance (MMD with the kernel -|x - y|) against rho_h's quadrature measure,
 *   exact in 1D, sliced through P random directions in 2D/3D (scaled by
 *   c_d = sqrt(pi) Gamma((d+1)/2)/Gamma(d/2), so it estimates the full energy
 *   distance) with the Monte-Carlo standard error of the slicing (sliced.h);
 * - Wasserstein: W1 and W2 in 1D exactly, through the quantile function of rho_h
 *   (piecewise, from its values at Gauss points); sliced W2 in 2D/3D (sliced.h);
 * - for particles that carry their density: its relative error against rho_h;
 * - the noise floor of each: the same distances of exact samples of rho_h, or closed
 *   forms, and the verdict.
 * Points and quadrature points may live on any ranks; the results are the same on any
 * number of ranks (the sorted 1D problems are solved on rank 0). Negative parts of
 * rho_h enter the energy distance as they are and are set to zero for Wasserstein
 * distances (they are reported as negative_mass in diagnostics.csv).
 */
template <int dim>
class DensityComparison
{
public:
  using CellIterator = typename Triangulation<dim>::active_cell_iterator;

  /**
   * @param quadrature_points Gauss points per direction of rho_h's point measure
   * @param mesh the mesh of rho_h, where the noise floor draws its exact samples; without
   *             it (null) there is no floor
   */
  DensityComparison(const DistanceParameters &parameters,
                    const unsigned int        quadrature_points,
                    const MPI_Comm            communicator,
                    const Mesh<dim>          *mesh = nullptr);
  ~DensityComparison();

  /**
   * Compares located points with rho_h: @p points, @p weights and @p cells are this
   * rank's points in its own cells; @p outside counts points in no cell (all ranks);
   * @p log_density, if not null, holds the densities the points carry. Collective.
   */
  EnsembleDistances compare(const DensitySolver<dim>        &solver,
                            const DensityStatistics<dim>    &density,
                            const std::vector<Point<dim>>   &points,
                            const std::vector<double>       &weights,
                            const std::vector<CellIterator> &cells,
                            const std::uint64_t              outside,
                            const std::vector<double>       *log_density = nullptr) const;

private:
  /** An ensemble on this rank: points, weights (null: unit weights), their cells. */
  struct PointSet
  {
    const std::vector<Point<dim>>   *points;
    const std::vector<double>       *weights;
    const std::vector<CellIterator> *cells;
  };
  /** rho_h's measure at the solver's time (cached). Collective. */
  const DensityMeasure<dim> &density_measure(const DensitySolver<dim> &solver) const;
  /**
   * The distances of each of @p sets to rho_h, with histogram bins for @p n_bins_for
   * points; @p mean_pair_distance receives rho_h's (sliced) E|Y - Y'|. Collective.
   */
  std::vector<EnsembleDistances> distances_of(const DensitySolver<dim>     &solver,
                                              const DensityStatistics<dim> &density,
                                              const DensityMeasure<dim>    &measure,
                                              const std::vector<PointSet>  &sets,
                                              const std::uint64_t           n_bins_for,
                                              double &mean_pair_distance) const;
  /** The projected distances of @p sets, on every rank. Collective. */
  ProjectedResults projected_distances(const DensityMeasure<dim>   &measure,
                                       const std::vector<PointSet> &sets) const;
  /** The floors' exact samples' distances for an ensemble of (effective) size @p n at
      the solver's time (cached). Collective. */
  const std::vector<EnsembleDistances> &floor_samples(const DensitySolver<dim>     &solver,
                                                      const DensityStatistics<dim> &density,
                                                      const DensityMeasure<dim>    &measure,
                                                      const std::uint64_t           n) const;
  /** The noise floor of each distance of @p result and the verdict. Collective. */
  void add_noise_floor(EnsembleDistances            &result,
                       const DensitySolver<dim>     &solver,
                       const DensityStatistics<dim> &density,
                       const DensityMeasure<dim>    &measure,
                       const double                  mean_pair_distance,
                       const std::uint64_t           n_effective) const;
  /** The relative error of the densities @p log_density carried by the points. Collective. */
  void add_carried_density_error(EnsembleDistances               &result,
                                 const DensitySolver<dim>        &solver,
                                 const std::vector<Point<dim>>   &points,
                                 const std::vector<CellIterator> &cells,
                                 const std::vector<double>       &log_density) const;

  DistanceParameters parameters;
  unsigned int       n_quadrature;
  MPI_Comm           mpi_communicator;
  const Mesh<dim>   *mesh;
  /** What depends only on rho_h at one time, and the floor samples of one size there. */
  mutable std::unique_ptr<DensityMeasure<dim>> cached_measure;
  mutable std::vector<EnsembleDistances>       cached_floor;
  mutable std::uint64_t                        cached_floor_size = 0;
  /** The sorts' and projections' scratch, kept between calls. */
  mutable ProjectionWorkspace workspace;
};
} // namespace densityflow
