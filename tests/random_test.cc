// The particles' normal numbers (base/random.h): made in batches by glibc's vector
// functions, they are Random123's Box-Muller numbers of the same counters to within the
// functions' rounding, the same one at a time as in a batch of any size, and standard
// normal by their moments and the Kolmogorov-Smirnov distance.
#include <densityflow/base/random.h>

#include <Random123/boxmuller.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

using namespace densityflow;

namespace
{
std::vector<std::uint64_t> some_ids(const std::size_t count)
{
  // Not consecutive: the numbers may not depend on where an id sits in the batch.
  std::vector<std::uint64_t> ids(count);
  for (std::size_t k = 0; k < count; ++k)
    ids[k] = 7919 * k * k + 3 * k + (std::uint64_t(1) << 40);
  return ids;
}

/** The four normals of each of @p ids at @p step (stream 0), made in one batch. */
std::vector<double> all_four_normals(const ParticleRandom             &random,
                                     const std::vector<std::uint64_t> &ids,
                                     const std::uint64_t               step)
{
  std::vector<double> z(4 * ids.size());
  random.normals(ids.data(), ids.size(), step, 0, 4, z.data());
  return z;
}
} // namespace

TEST(ParticleRandom, BatchesGiveTheNumbersOfOneParticleAtATime)
{
  const ParticleRandom random(2024);
  for (const unsigned int n : {1u, 2u, 3u, 4u})
    for (const std::size_t count : {1ul, 3ul, 5ul, 31ul, 64ul, 67ul, 1000ul})
      {
        const auto          ids = some_ids(count);
        std::vector<double> batch(count * n);
        random.normals(ids.data(), count, 17, 2, n, batch.data());
        for (std::size_t k = 0; k < count; ++k)
          {
            double one[4];
            random.normals(ids[k], 17, 2, one, n);
            for (unsigned int d = 0; d < n; ++d)
              ASSERT_EQ(batch[k * n + d], one[d])
                  << "n = " << n << ", count = " << count << ", particle " << k << ", normal " << d;
          }
      }
}

TEST(ParticleRandom, NormalsAreRandom123sBoxMullerOfTheDraw)
{
  // The same transform of the same words: the angle and u are computed identically, so
  // the numbers differ only by the rounding of log, sin and cos (each within 4 ulp in
  // libmvec, < 1 ulp in scalar glibc) and of the products: < 12 ulp of |z| in all.
  const ParticleRandom      random(42);
  const auto                ids   = some_ids(100000);
  const std::vector<double> z     = all_four_normals(random, ids, 3);
  double                    worst = 0;
  for (std::size_t k = 0; k < ids.size(); ++k)
    {
      const auto          w           = random.draw(ids[k], 3, 0);
      const r123::double2 pairs[2]    = {r123::boxmuller(w[0], w[1]), r123::boxmuller(w[2], w[3])};
      const double        expected[4] = {pairs[0].x, pairs[0].y, pairs[1].x, pairs[1].y};
      for (unsigned int d = 0; d < 4; ++d)
        worst = std::max(worst,
                         std::abs(z[4 * k + d] - expected[d]) /
                             (std::abs(expected[d]) * DBL_EPSILON / 2 + DBL_MIN));
    }
  EXPECT_LE(worst, 12) << "largest difference in ulp of |z|";
}

TEST(ParticleRandom, NormalsAreStandardNormal)
{
  // N = 1e6 numbers: each moment within 5 standard errors of its exact value (mean 0,
  // variance 1, fourth moment 3, the pair's correlation 0), and the Kolmogorov-Smirnov
  // distance to Phi below its 1% critical value 1.63 / sqrt(N).
  std::vector<double> z  = all_four_normals(ParticleRandom(7), some_ids(250000), 1);
  const double        n  = z.size();
  double              m1 = 0, m2 = 0, m4 = 0, xy = 0;
  for (const double v : z)
    m1 += v, m2 += v * v, m4 += v * v * v * v;
  for (std::size_t i = 0; i < z.size(); i += 2)
    xy += z[i] * z[i + 1];
  EXPECT_LE(std::abs(m1 / n), 5 / std::sqrt(n));
  EXPECT_LE(std::abs(m2 / n - 1), 5 * std::sqrt(2 / n));
  EXPECT_LE(std::abs(m4 / n - 3), 5 * std::sqrt(96 / n));
  EXPECT_LE(std::abs(xy / (n / 2)), 5 / std::sqrt(n / 2));
  std::sort(z.begin(), z.end());
  double ks = 0;
  for (std::size_t i = 0; i < z.size(); ++i)
    {
      const double phi = 0.5 * std::erfc(-z[i] / std::sqrt(2.));
      ks               = std::max({ks, std::abs(phi - i / n), std::abs(phi - (i + 1) / n)});
    }
  EXPECT_LE(ks, 1.63 / std::sqrt(n));
}
