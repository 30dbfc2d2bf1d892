#pragma once

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
using namespace dealii;

struct InteractionParameters;
template <int dim>
class Mesh;
template <int dim>
class Physics;

/**
 * The atoms of nu from the sample file @p file (Interaction/Target/Samples; weights
 * -w_j / sum w); nothing for an empty name. InputError naming the parameter for a bad
 * file, one with several ensembles, or no weight.
 */
template <int dim>
void read_target_samples(const std::string       &file,
                         std::vector<Point<dim>> &points,
                         std::vector<double>     &weights);

/**
 * The target nu of the interaction model (Interaction/Target) for the interacting
 * particles: the atoms of -nu, to be summed with the particles', or, in 1D with the Riesz
 * kernel, r = 1 and nu a density, its velocity -grad(W * (-nu))(x) = 1 - 2 F_nu(x) with the
 * cumulative distribution F_nu exact to quadrature (cell masses and the partial cell by a
 * 6-point Gauss rule): particles then feel nu's own CDF, not a step function of its atoms.
 *
 * A density nu is normalised to unit mass on the mesh; elsewhere its atoms are a 4-point Gauss
 * rule per cell and direction. Samples are the file's atoms (weights -w_j / sum w).
 */
template <int dim>
class TargetMeasure
{
public:
  /** Collective: each rank integrates its cells, every rank holds the whole measure. */
  TargetMeasure(const Mesh<dim>             &mesh,
                const Physics<dim>          &physics,
                const InteractionParameters &interaction);
  ~TargetMeasure();

  /** Whether nu's part is 1 - 2 F_nu (cdf_velocity()) rather than atoms. */
  bool has_cdf() const;

  /** 1 - 2 F_nu(@p x) as a vector (1D, has_cdf()). */
  Tensor<1, dim> cdf_velocity(const Point<dim> &x) const;

  /** The atoms of -nu (none where has_cdf()). */
  const std::vector<Point<dim>> &points() const;
  const std::vector<double>     &weights() const;

private:
  /** F_nu(@p x) in 1D. */
  double cdf(const double x) const;

  /** has_cdf(): the cells' left ends (sorted, with the last right end) and F_nu there. */
  std::vector<double> ends, cumulative;
  /** The nu expression for partial cells (has_cdf()). */
  struct Density;
  std::unique_ptr<Density> density;
  std::vector<Point<dim>>  atom_points;
  std::vector<double>      atom_weights;
};
} // namespace densityflow
