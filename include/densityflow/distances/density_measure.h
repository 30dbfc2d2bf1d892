#pragma once

#include <densityflow/distances/ensemble_distances.h>
#include <densityflow/distances/sliced.h>

#include <deal.II/base/point.h>
#include <deal.II/grid/tria.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

namespace densityflow
{
using namespace dealii;

template <int dim>
class DensitySolver;
template <int dim>
class Mesh;
class PiecewiseDensity1D;

/**
 * rho_h as the distances see it at one time: a weighted point measure (its values times
 * JxW at the Gauss points of each cell), the histogram's bins, and on rank 0 all atoms
 * (and, in 1D, rho_h as a piecewise density for the exact Wasserstein distances).
 */
template <int dim>
struct DensityMeasure
{
  /**
   * The measure of @p solver's density with @p quadrature_points Gauss points per
   * direction. Collective.
   */
  DensityMeasure(const DensitySolver<dim> &solver,
                 const unsigned int        quadrature_points,
                 const MPI_Comm            communicator);
  ~DensityMeasure();

  /** The solver and the time the measure was taken at (what a cache compares). */
  const DensitySolver<dim> *solver = nullptr;
  double                    time   = 0;
  /** Gauss points per direction of each cell. */
  unsigned int quadrature_points;
  /** This rank's cells and rho_h's atoms there (per_cell consecutive atoms each). */
  std::vector<typename Triangulation<dim>::active_cell_iterator> cells;
  std::vector<Point<dim>>                                        atoms;
  std::vector<double>                                            atom_weights;
  unsigned int                                                   per_cell = 0;
  /** int rho_h (all ranks). */
  double mass = 0;
  /** Rank 0: all atoms and, in 1D, rho_h as a piecewise density. */
  FlatPoints                          root_atoms;
  std::unique_ptr<PiecewiseDensity1D> piecewise;
  /** The mass of every bin (an ancestor cell, by CellId) at every level, on all ranks. */
  std::vector<std::map<std::string, double>> bin_mass;

  /** The finest level whose effective number of bins 1 / sum p_B^2 allows N points. */
  unsigned int level_for(const std::uint64_t N) const;
  /** Per local cell (by its index in cells), its bin at @p level (cached). */
  const std::vector<unsigned int> &bins(const unsigned int level) const;
  /** The probability p_B = int_B rho_h / int rho_h of each bin at @p level. */
  std::vector<double> bin_probabilities(const unsigned int level) const;

private:
  mutable std::map<unsigned int, std::vector<unsigned int>> bin_of_cell;
  void                                                      make_bins(const MPI_Comm communicator);
  void gather_atoms_on_root(const MPI_Comm communicator);
};

/** Exact i.i.d. samples of rho_h: this rank's points of each, and their cells. */
template <int dim>
struct ExactSamples
{
  std::vector<std::vector<Point<dim>>>                                        points;
  std::vector<std::vector<typename Triangulation<dim>::active_cell_iterator>> cells;
};

/**
 * @p n_samples exact i.i.d. samples of @p n points each of rho_h as @p measure sees it:
 * its values at the Gauss points of each cell interpolated by the tensor polynomial
 * through them (in 1D the density of W1 and W2), negative parts set to zero, drawn on
 * @p mesh with the random numbers of @p seed (the same on any number of ranks).
 * Collective.
 */
template <int dim>
ExactSamples<dim> draw_exact_samples(const DensityMeasure<dim> &measure,
                                     const Mesh<dim>           &mesh,
                                     const std::uint64_t        seed,
                                     const unsigned int         n_samples,
                                     const std::uint64_t        n,
                                     const MPI_Comm             communicator);
} // namespace densityflow
