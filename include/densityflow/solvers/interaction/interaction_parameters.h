#pragma once

#include <deal.II/base/parameter_handler.h>

#include <cstddef>
#include <string>

namespace densityflow
{
using namespace dealii;

/** The interaction kernel W of Physics/Model = interaction. */
enum class InteractionKernel
{
  /** W(z) = -|z|^r, 0 < r < 2 (r = 1: the energy distance). */
  riesz,
  /** W(z) = exp(-|z|^2 / (2 s^2)), positive definite. */
  gaussian,
  /** W(z) = |z|^a / a - |z|^b / b, a > 0, 0 < b < a (or a only: no repulsive term). */
  attractive_repulsive
};

/** How -grad(W * mu) is summed over the atoms of mu. */
enum class InteractionSummation
{
  /** sorted where it is exact (1D, Riesz r = 1), else direct. */
  automatic,
  /** Over all atoms at every point: O(N M). */
  direct,
  /** 1D, Riesz r = 1: -grad(W * mu)(x) = mu(y < x) - mu(y > x) from prefix sums over the
   * sorted atoms, O(N log N). */
  sorted,
  /** 2D/3D, Riesz r = 1: |z| = c_d E_theta |<theta, z>|, the 1D sorted sums averaged over P
   * directions theta, O(P (N + M) log N), with a Monte-Carlo error. */
  sliced
};

/** The directions of the sliced summation (the same on every rank for a seed). */
struct SlicingParameters
{
  /** P, the number of directions (a multiple of sets). */
  unsigned int directions = 100;
  /** Independently rotated sets of evenly spread directions (>= 2: the error estimate). */
  unsigned int sets = 5;
  unsigned int seed = 1;
};

/**
 * The `Interaction` subsection: the kernel W, the target nu (none: an aggregation flow)
 * and how the nonlocal velocity is summed.
 */
struct InteractionParameters
{
  InteractionKernel kernel   = InteractionKernel::riesz;
  double            exponent = 1.0;
  /** s of the Gaussian kernel. */
  double width = 1.0;
  /** a and b of the attractive-repulsive kernel; b = 0: no repulsive term ("none"). */
  double               attractive_exponent = 2.0;
  double               repulsive_exponent  = 1.0;
  InteractionSummation summation           = InteractionSummation::automatic;
  SlicingParameters    slicing;
  /** nu as an expression of x (y, z); empty: no target (or samples). */
  std::string target;
  /** nu as the empirical measure of a sample file (absolute path; empty: none). */
  std::string target_samples;

  static void declare_parameters(ParameterHandler &prm);
  /** @param base_directory the .prm's folder, where a relative Target/Samples starts */
  void parse_parameters(ParameterHandler &prm, const std::string &base_directory = ".");
  /** InputError naming the Kernel parameter that is out of its kernel's range. */
  void check_kernel() const;
};

/**
 * The summation a field of dimension @p dim, exponent @p r and @p n_atoms atoms uses for
 * @p requested: automatic is sorted in 1D with r = 1, sliced in 2D/3D with r = 1 above
 * automatic_sliced_atoms atoms (up to there direct summation is exact and costs at most
 * about a second per stage), else direct.
 * InputError for sorted or sliced where they do not apply.
 */
InteractionSummation resolve_summation(const unsigned int         dim,
                                       const double               r,
                                       const InteractionSummation requested,
                                       const std::size_t          n_atoms);

/** Above this many atoms automatic summation is sliced in 2D/3D (r = 1). */
constexpr std::size_t automatic_sliced_atoms = 16384;

/** The name of @p summation in the parameter file. */
std::string to_string(const InteractionSummation summation);
} // namespace densityflow
