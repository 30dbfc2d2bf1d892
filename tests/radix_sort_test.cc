// The one-dimensional building blocks of the distances (sorted_atoms.h): the sort (buckets
// and radix) against std::stable_sort on doubles of every kind (negative, -0.0 and +0.0,
// denormal, infinite, repeated) and of every size around its switch from std::sort, the
// bucket search of unsorted points against binary search, and the
// O(N log N) sums over sorted atoms against their O(N^2) definitions.
#include <densityflow/distances/sorted_atoms.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace densityflow;

namespace
{
/** The order sort_atoms promises from 512 atoms on: by value, -0.0 before +0.0. */
bool total_less(const Atom &a, const Atom &b)
{
  if (a.first == 0 && b.first == 0)
    return std::signbit(a.first) && !std::signbit(b.first);
  return a.first < b.first;
}

/** Bit for bit: -0.0 and +0.0 differ. */
bool identical(const std::vector<Atom> &a, const std::vector<Atom> &b)
{
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(Atom)) == 0);
}

/**
 * @p n atoms whose positions are drawn from every kind of double, many repeated, and
 * whose weights are their indices (so that the order of equal positions shows).
 */
std::vector<Atom> mixed_atoms(const std::size_t n, std::mt19937_64 &random)
{
  using limits = std::numeric_limits<double>;
  std::uniform_int_distribution<int>     kind(0, 9), exponent(-300, 300);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<Atom>                      atoms;
  for (std::size_t i = 0; i < n; ++i)
    {
      double x = 0;
      switch (kind(random))
        {
          case 0:
            x = random() % 2 ? 0.0 : -0.0;
            break;
          case 1: // denormals
            x = uniform(random) * limits::min();
            break;
          case 2:
            x = random() % 2 ? limits::infinity() : -limits::infinity();
            break;
          case 3:
            x = random() % 2 ? limits::max() : -limits::lowest();
            break;
          case 4: // a repeat
            x = atoms.empty() ? 1.0 : atoms[random() % atoms.size()].first;
            break;
          case 5: // few distinct values: ties
            x = double(int(random() % 7) - 3);
            break;
          default:
            x = uniform(random) * std::pow(10.0, exponent(random));
        }
      atoms.emplace_back(x, double(i));
    }
  return atoms;
}

std::vector<Atom> expected_order(std::vector<Atom> atoms)
{
  if (atoms.size() < 512)
    std::sort(atoms.begin(), atoms.end());
  else
    std::stable_sort(atoms.begin(), atoms.end(), total_less);
  return atoms;
}
} // namespace

// Every size around the switch at 512 and up to 2e5, with one workspace reused (growing
// and shrinking): the same atoms, in the same order, bit for bit, as std::stable_sort by
// value with -0.0 before +0.0 (std::sort of the pairs below 512).
TEST(RadixSort, MatchesStableSortOnEveryKindOfDouble)
{
  std::mt19937_64 random(15);
  SortWorkspace   workspace;
  for (const std::size_t n :
       {0ul, 1ul, 2ul, 3ul, 17ul, 511ul, 512ul, 513ul, 1000ul, 4097ul, 200000ul, 600ul})
    for (unsigned int repeat = 0; repeat < 3; ++repeat)
      {
        std::vector<Atom> atoms    = mixed_atoms(n, random);
        const auto        expected = expected_order(atoms);
        sort_atoms(atoms, workspace);
        ASSERT_TRUE(identical(atoms, expected)) << "n = " << n << ", repeat " << repeat;
      }
}

// Positions that share digits (one value; integers; powers of two, whose low digits are
// all zero; one sign) make the sort skip passes: still the stable order.
TEST(RadixSort, SkippedPassesKeepTheOrder)
{
  std::mt19937_64                        random(16);
  SortWorkspace                          workspace;
  const std::vector<std::vector<double>> value_sets = {{2.5},
                                                       {-2.5},
                                                       {-0.0, 0.0},
                                                       {1, 2, 3, 4, 5, 6, 7},
                                                       {-4, -2, -1, -0.5, 0.5, 1, 2, 4},
                                                       {-1e-310, -1e-320, 1e-320, 1e-310}};
  for (const auto &values : value_sets)
    {
      std::vector<Atom> atoms;
      for (std::size_t i = 0; i < 3000; ++i)
        atoms.emplace_back(values[random() % values.size()], double(i));
      const auto expected = expected_order(atoms);
      sort_atoms(atoms, workspace);
      ASSERT_TRUE(identical(atoms, expected)) << values.size() << " values from " << values[0];
    }
}

// Random doubles of one sign and of both signs against std::sort of the values alone.
TEST(RadixSort, SortsLikeStdSort)
{
  std::mt19937_64                        random(17);
  std::uniform_real_distribution<double> uniform(-3, 3);
  SortWorkspace                          workspace;
  for (const double shift : {-10.0, 0.0, 10.0})
    {
      std::vector<Atom>   atoms;
      std::vector<double> values;
      for (std::size_t i = 0; i < 10000; ++i)
        {
          atoms.emplace_back(shift + uniform(random), 1.0);
          values.push_back(atoms.back().first);
        }
      sort_atoms(atoms, workspace);
      std::sort(values.begin(), values.end());
      for (std::size_t i = 0; i < values.size(); ++i)
        ASSERT_EQ(atoms[i].first, values[i]) << "shift " << shift << ", i = " << i;
    }
}

// Finite data take the buckets (sort_atoms' first sweep) and, within crowded buckets, the
// insertion sort, std::stable_sort or the radix sort: smooth, clustered (three narrow modes),
// heavy-tailed (most atoms in the first buckets), rounded (ties across buckets' edges), and
// one far outlier (nearly every atom in one bucket).
TEST(RadixSort, BucketsKeepTheStableOrder)
{
  std::mt19937_64                  random(20);
  std::normal_distribution<double> normal(0, 1);
  SortWorkspace                    workspace;
  for (const std::size_t n : {512ul, 3000ul, 100000ul})
    for (unsigned int kind = 0; kind < 5; ++kind)
      {
        std::vector<Atom> atoms;
        for (std::size_t i = 0; i < n; ++i)
          {
            const double g = normal(random);
            const double x = kind == 0   ? g
                             : kind == 1 ? 0.01 * g + double(i % 3)
                             : kind == 2 ? std::exp(5 * g)
                             : kind == 3 ? std::round(8 * g) / 8
                                         : (i == 0 ? 1e12 : g);
            atoms.emplace_back(i % 7 == 3 ? -0.0 * x : x, double(i)); // +-0 ties
          }
        const auto expected = expected_order(atoms);
        sort_atoms(atoms, workspace);
        ASSERT_TRUE(identical(atoms, expected)) << "n = " << n << ", kind " << kind;
      }
}

// sort_positions() gives the positions sort_atoms() gives atoms of one weight, bit for bit
// (-0.0 before +0.0 from 512 on): every kind of double and size of mixed_atoms(), and the
// smooth, clustered, heavy-tailed, rounded and outlier data of the buckets' test.
TEST(RadixSort, PositionsAloneSortAsAtomsOfOneWeight)
{
  std::mt19937_64                  random(21);
  std::normal_distribution<double> normal(0, 1);
  SortWorkspace                    workspace;
  const auto                       check = [&](const std::vector<double> &values) {
    std::vector<Atom> atoms;
    for (const double x : values)
      atoms.emplace_back(x, 0.25);
    std::vector<double> positions = values;
    sort_atoms(atoms, workspace);
    sort_positions(positions, workspace);
    if (positions.size() != atoms.size())
      return false;
    for (std::size_t i = 0; i < atoms.size(); ++i)
      if (std::memcmp(&positions[i], &atoms[i].first, sizeof(double)) != 0 &&
          !(positions.size() < 512 && positions[i] == atoms[i].first)) // +-0 below 512
        return false;
    return true;
  };
  for (const std::size_t n : {0ul, 1ul, 17ul, 511ul, 512ul, 4097ul, 200000ul})
    {
      std::vector<double> values;
      for (const Atom &a : mixed_atoms(n, random))
        values.push_back(a.first);
      EXPECT_TRUE(check(values)) << "mixed, n = " << n;
    }
  for (unsigned int kind = 0; kind < 5; ++kind)
    {
      std::vector<double> values;
      for (std::size_t i = 0; i < 100000; ++i)
        {
          const double g = normal(random);
          const double x = kind == 0   ? g
                           : kind == 1 ? 0.01 * g + double(i % 3)
                           : kind == 2 ? std::exp(5 * g)
                           : kind == 3 ? std::round(8 * g) / 8
                                       : (i == 0 ? 1e12 : g);
          values.push_back(i % 7 == 3 ? -0.0 * x : x);
        }
      EXPECT_TRUE(check(values)) << "kind " << kind;
    }
}

// atom_bounds() (one unsorted point, searched in its bucket) against std::lower_bound and
// std::upper_bound: at atoms (ties), between them, outside the range, at +-0 and at
// infinities, for smooth, clustered and single-valued atoms.
TEST(RadixSort, BucketBoundsMatchBinarySearch)
{
  std::mt19937_64                  random(21);
  std::normal_distribution<double> normal(0, 1);
  SortWorkspace                    workspace;
  using limits = std::numeric_limits<double>;
  for (unsigned int kind = 0; kind < 3; ++kind)
    for (const std::size_t n : {0ul, 1ul, 40ul, 5000ul})
      {
        std::vector<Atom> atoms;
        for (std::size_t i = 0; i < n; ++i)
          atoms.emplace_back(kind == 0   ? normal(random)
                             : kind == 1 ? std::round(4 * normal(random)) / 4 + double(i % 2)
                                         : 2.0,
                             1.0);
        sort_atoms(atoms, workspace);
        std::vector<std::uint32_t> first;
        const AtomBuckets          buckets = index_sorted_atoms(atoms, first);
        std::vector<double>        queries = {
                   -0.0, 0.0, limits::infinity(), -limits::infinity(), 1e300, -1e300, 2.0};
        for (unsigned int q = 0; q < 2000; ++q)
          queries.push_back(q % 2 == 0 && n > 0 ? atoms[random() % n].first : 3 * normal(random));
        for (const double x : queries)
          {
            const auto        less = [](const Atom &a, const double v) { return a.first < v; };
            const auto        more = [](const double v, const Atom &a) { return v < a.first; };
            const std::size_t below =
                std::lower_bound(atoms.begin(), atoms.end(), x, less) - atoms.begin();
            const std::size_t not_above =
                std::upper_bound(atoms.begin(), atoms.end(), x, more) - atoms.begin();
            const auto bounds = atom_bounds(atoms, buckets, first, x);
            ASSERT_EQ(bounds.first, below) << "kind " << kind << ", n = " << n << ", x = " << x;
            ASSERT_EQ(bounds.second, not_above)
                << "kind " << kind << ", n = " << n << ", x = " << x;
          }
      }
}

namespace
{
/** @p n atoms of unit mass at random positions with ties; weights >= 0 or of any sign. */
std::vector<Atom>
unit_atoms(const std::size_t n, const bool signed_weights, std::mt19937_64 &random)
{
  std::uniform_real_distribution<double> uniform(-2, 2), weight(signed_weights ? -0.5 : 0.1, 1);
  std::vector<Atom>                      atoms;
  for (std::size_t i = 0; i < n; ++i)
    atoms.emplace_back(i % 5 == 4 ? std::round(uniform(random)) : uniform(random), weight(random));
  normalise_atoms(atoms);
  return atoms;
}

/** sum_ij a_i b_j |x_i - y_j|. */
double pair_sum(const std::vector<Atom> &a, const std::vector<Atom> &b)
{
  double sum = 0;
  for (const Atom &x : a)
    for (const Atom &y : b)
      sum += x.second * y.second * std::abs(x.first - y.first);
  return sum;
}
} // namespace

// E|Y - Y'| = 2 int F (1 - F) and the energy distance 2 int (F_a - F_b)^2 against their
// definitions as double sums, with ties within and across the measures and (energy
// distance, as rho_h's atoms may have) negative weights.
TEST(SortedSums, MatchTheirDoubleSums)
{
  std::mt19937_64 random(18);
  SortWorkspace   workspace;
  for (const bool signed_weights : {false, true})
    for (const std::size_t n : {1ul, 2ul, 50ul, 700ul})
      {
        std::vector<Atom> a = unit_atoms(n, false, random),
                          b = unit_atoms(n + 13, signed_weights, random);
        const double pair_b = pair_sum(b, b), pair_a = pair_sum(a, a);
        const double energy = 2 * pair_sum(a, b) - pair_a - pair_b;
        sort_atoms(a, workspace), sort_atoms(b, workspace);
        const double scale = pair_sum(a, a) + pair_b + 1e-300;
        EXPECT_NEAR(mean_pair_distance_sorted(b), pair_b, 1e-12 * scale) << n;
        EXPECT_NEAR(mean_pair_distance_sorted(a), pair_a, 1e-12 * scale) << n;
        EXPECT_NEAR(energy_distance_sorted(a, b), energy, 1e-12 * scale) << n;
        EXPECT_NEAR(energy_distance_sorted(a, a), 0.0, 1e-15) << n;
      }
}

// W_p^p by matching quantiles against the sorted pairing: atoms of equal weights, n
// against n (x_(i) with y_(i)) and n against 2n (x_(i) with y_(2i-1) and y_(2i)).
TEST(SortedSums, WassersteinMatchesTheSortedPairing)
{
  std::mt19937_64                        random(19);
  std::uniform_real_distribution<double> uniform(-2, 2);
  SortWorkspace                          workspace;
  for (const std::size_t n : {1ul, 10ul, 600ul})
    for (const unsigned int p : {1u, 2u})
      {
        std::vector<Atom> a, b;
        for (std::size_t i = 0; i < n; ++i)
          a.emplace_back(uniform(random), 1.0 / n);
        for (std::size_t i = 0; i < 2 * n; ++i)
          b.emplace_back(uniform(random) + 0.3, 0.5 / n);
        std::vector<Atom> b_n(b.begin(), b.begin() + n);
        for (Atom &y : b_n)
          y.second = 1.0 / n;
        sort_atoms(a, workspace), sort_atoms(b, workspace), sort_atoms(b_n, workspace);
        double same_size = 0, double_size = 0;
        for (std::size_t i = 0; i < n; ++i)
          {
            const double g = std::abs(a[i].first - b_n[i].first);
            same_size += (p == 1 ? g : g * g) / n;
            for (const std::size_t j : {2 * i, 2 * i + 1})
              {
                const double h = std::abs(a[i].first - b[j].first);
                double_size += (p == 1 ? h : h * h) * 0.5 / n;
              }
          }
        EXPECT_NEAR(wasserstein_sorted(a, b_n, p), same_size, 1e-12 * (1 + same_size)) << n;
        EXPECT_NEAR(wasserstein_sorted(a, b, p), double_size, 1e-12 * (1 + double_size)) << n;
      }
}
