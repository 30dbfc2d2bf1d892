#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

/**
 * @file
 * Weighted point measures on the line ("atoms") and the sums over them that sorting
 * turns from O(N^2) into O(N log N): the one-dimensional energy distance, the mean
 * pair distance, Wasserstein distances. The sliced distances sort two arrays per
 * direction and per ensemble, so the sort is a radix sort with caller-owned scratch.
 * Nothing here depends on deal.II: the pieces are meant to be reused (e.g. for
 * one-dimensional interaction velocities).
 */

namespace densityflow
{
/** A weighted atom (position, weight) of a measure on the line. */
using Atom = std::pair<double, double>;

/**
 * The scratch arrays of sort_atoms(). Keep one per caller and pass it to every sort:
 * allocating them at each call (page faults) cost more than the sort itself.
 */
struct SortWorkspace
{
  std::vector<std::uint64_t> keys, other_keys;
  std::vector<Atom>          other;
  std::vector<std::size_t>   count;
};

/**
 * Sorts @p atoms by position, in increasing order (positions must not be NaN;
 * infinities and denormals are fine).
 *
 * From 512 atoms on it is an LSD radix sort on the IEEE bit patterns (11-bit digits,
 * all digit counts in one sweep, passes whose digit is the same for every atom skipped).
 * It is stable (atoms of the same position keep their order) and puts -0.0 before +0.0.
 * Below 512 atoms it is std::sort of the pairs: atoms of the same position, -0.0 and
 * +0.0 counting as the same, come in increasing weight.
 * Measured against std::sort: 3x faster at 5e3 atoms, 5x at 1e5, 2.5x at 1e6.
 */
void sort_atoms(std::vector<Atom> &atoms, SortWorkspace &workspace);

/** Divides the weights by their sum (unit mass; weights may be negative). */
void normalise_atoms(std::vector<Atom> &atoms);

/**
 * The energy distance 2 int (F_a - F_b)^2 dx = 2 E|X - Y| - E|X - X'| - E|Y - Y'| of two
 * sorted atom measures of unit mass (weights may be negative).
 */
double energy_distance_sorted(const std::vector<Atom> &a, const std::vector<Atom> &b);

/**
 * E|Y - Y'| = sum_ij w_i w_j |y_i - y_j| = 2 int F (1 - F) dx for sorted atoms of unit
 * mass.
 */
double mean_pair_distance_sorted(const std::vector<Atom> &b);

/**
 * sum_ij w_i w_j |y_i - y_j| = 2 int F (m - F) dx for sorted atoms of any signed weights
 * (F the cumulative weight, m the total): the Riesz r = 1 interaction of a signed measure.
 */
double pair_distance_sum_sorted(const std::vector<Atom> &atoms);

/** @p prefix[k] = the sum of the first k weights of @p atoms (k = 0..N). */
void prefix_sums(const std::vector<Atom> &atoms, std::vector<double> &prefix);

/**
 * sum_j w_j sign(x - y_j) = mu(y < x) - mu(y > x) for sorted @p atoms with their
 * prefix_sums() @p prefix, by two binary searches (atoms at x count 0, as sign(0) = 0):
 * -grad(W * mu)(x) for W(z) = -|z| in 1D.
 */
double
sign_sum_sorted(const std::vector<Atom> &atoms, const std::vector<double> &prefix, const double x);

/**
 * sign_sum_sorted() at many points by one merge, O(N + M) instead of M pairs of binary
 * searches: @p queries are (position, index) pairs sorted by position (sort_atoms()), and
 * @p sums[index] (resized to at least the largest index + 1 by the caller) receives the sign
 * sum at that position, the same number sign_sum_sorted() gives. @p first_at, if not null,
 * receives at [index] the index of the first atom at the position (atoms.size() if none).
 */
void sign_sums_merged(const std::vector<Atom>   &atoms,
                      const std::vector<double> &prefix,
                      const std::vector<Atom>   &queries,
                      std::vector<double>       &sums,
                      std::vector<std::size_t>  *first_at = nullptr);

/**
 * The merge of sign_sums_merged() without the weights: for the sorted @p queries
 * (position, index), @p below[index] = the number of atoms left of the position and
 * @p not_above[index] = the number at or left of it (both resized by the caller), so that
 * the sign sum for any weights in this order is prefix[below] + prefix[not_above] - total.
 */
void merge_bounds(const std::vector<Atom>    &atoms,
                  const std::vector<Atom>    &queries,
                  std::vector<std::uint32_t> &below,
                  std::vector<std::uint32_t> &not_above);

/**
 * W_p^p (p = 1 or 2) between two sorted atom measures of unit mass with weights >= 0,
 * by matching quantiles.
 */
double
wasserstein_sorted(const std::vector<Atom> &a, const std::vector<Atom> &b, const unsigned int p);
} // namespace densityflow
