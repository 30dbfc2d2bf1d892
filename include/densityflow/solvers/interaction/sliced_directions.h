#pragma once

#include <densityflow/solvers/interaction/interaction_parameters.h>

#include <deal.II/base/tensor.h>

#include <vector>

namespace densityflow
{
using namespace dealii;

/**
 * The directions theta_1..theta_P of the sliced interaction sums: @p slicing.sets sets of
 * K = P / sets evenly spread unit vectors, each set turned by its own random rotation drawn
 * from @p slicing.seed (std::mt19937_64, so the same on every rank and machine), in set-major
 * order. 2D: the angles pi (k + u_s) / K, k < K, with u_s uniform in [0, 1) (theta and
 * -theta give the same term, so half a turn suffices); 3D: the K-point spherical Fibonacci
 * lattice under a uniform random rotation. Each set alone is an unbiased estimator of
 * E_theta (uniform on the sphere), much more accurate than K independent directions for
 * the piecewise smooth integrands of the sums (an error about 1/K rather than 1/sqrt(K) in
 * 2D), and the sets are independent: the spread of their estimates is an honest standard
 * error. 1D: the single direction +1.
 */
template <int dim>
std::vector<Tensor<1, dim>> sliced_directions(const SlicingParameters &slicing);

/** c_d with |z| = c_d E_theta |<theta, z>| for theta uniform on the unit sphere: c_1 = 1,
 * c_2 = pi / 2, c_3 = 2. */
double slicing_constant(const unsigned int dim);
} // namespace densityflow
