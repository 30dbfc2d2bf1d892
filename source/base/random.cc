#include <densityflow/base/random.h>

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>

// glibc's libmvec: sin, cos and log on two (SSE) or four (AVX2) lanes at a time, within
// 4 ulp like the scalar functions, each lane a function of its own argument only. The
// compiler calls them for vectorised loops only under -ffast-math; named here, they serve
// the Box-Muller transform without changing the rest of the code's floating point.
extern "C" {
__m128d _ZGVbN2v_log(__m128d);
__m128d _ZGVbN2v_sin(__m128d);
__m128d _ZGVbN2v_cos(__m128d);
__m256d _ZGVdN4v_log(__m256d);
__m256d _ZGVdN4v_sin(__m256d);
__m256d _ZGVdN4v_cos(__m256d);
}
#endif

namespace densityflow
{
namespace
{
/** Lanes every batch is padded to, so that each number takes the same vector path. */
constexpr std::size_t lanes = 4;

/**
 * The transcendental half of Box-Muller over @p n (a multiple of lanes) pairs:
 * x = r sin(a), y = r cos(a) with r = sqrt(-2 log u), as Random123's boxmuller().
 */
using BoxMullerKernel =
    void (*)(std::size_t n, const double *u, const double *a, double *x, double *y);

[[maybe_unused]] void
box_muller_scalar(const std::size_t n, const double *u, const double *a, double *x, double *y)
{
  for (std::size_t i = 0; i < n; ++i)
    {
      const double r = std::sqrt(-2. * std::log(u[i]));
      x[i]           = std::sin(a[i]) * r;
      y[i]           = std::cos(a[i]) * r;
    }
}

#if defined(__x86_64__)
void box_muller_sse2(const std::size_t n, const double *u, const double *a, double *x, double *y)
{
  for (std::size_t i = 0; i < n; i += 2)
    {
      const __m128d r =
          _mm_sqrt_pd(_mm_mul_pd(_mm_set1_pd(-2.), _ZGVbN2v_log(_mm_loadu_pd(u + i))));
      const __m128d angle = _mm_loadu_pd(a + i);
      _mm_storeu_pd(x + i, _mm_mul_pd(_ZGVbN2v_sin(angle), r));
      _mm_storeu_pd(y + i, _mm_mul_pd(_ZGVbN2v_cos(angle), r));
    }
}

__attribute__((target("avx2"))) void
box_muller_avx2(const std::size_t n, const double *u, const double *a, double *x, double *y)
{
  for (std::size_t i = 0; i < n; i += 4)
    {
      const __m256d r =
          _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.), _ZGVdN4v_log(_mm256_loadu_pd(u + i))));
      const __m256d angle = _mm256_loadu_pd(a + i);
      _mm256_storeu_pd(x + i, _mm256_mul_pd(_ZGVdN4v_sin(angle), r));
      _mm256_storeu_pd(y + i, _mm256_mul_pd(_ZGVdN4v_cos(angle), r));
    }
}
#endif

BoxMullerKernel choose_kernel()
{
#if defined(__x86_64__)
  // The same processor always takes the same path, so a run is reproducible on it and the
  // same on any number of its ranks; processors with and without AVX2 may differ in the
  // last bit, as glibc's scalar functions already do (they select FMA variants).
  return __builtin_cpu_supports("avx2") ? box_muller_avx2 : box_muller_sse2;
#else
  return box_muller_scalar;
#endif
}
} // namespace

void ParticleRandom::normals(const std::uint64_t *ids,
                             const std::size_t    count,
                             const std::uint64_t  step,
                             const std::uint64_t  stream,
                             const unsigned int   n,
                             double              *z) const
{
  // Random123's sincospi(x) is sincos(PI x) with this PI, and its pairs are
  // (sin, cos) of pi uneg11(word 0 or 2) times sqrt(-2 log u01(word 1 or 3)).
  constexpr double      pi        = 3.1415926535897932;
  constexpr std::size_t batch     = 64; // pairs, a multiple of lanes
  const unsigned int    pairs     = (n + 1) / 2;
  const std::size_t     per_batch = batch / pairs;
  alignas(32) double    u[batch], a[batch], x[batch], y[batch];
  // Chosen at first use, not at static initialisation (another file's may draw first).
  static const BoxMullerKernel box_muller = choose_kernel();
  for (std::size_t start = 0; start < count; start += per_batch)
    {
      const std::size_t m = std::min(per_batch, count - start);
      std::size_t       p = 0;
      for (std::size_t k = 0; k < m; ++k)
        {
          const auto words = draw(ids[start + k], step, stream);
          for (unsigned int q = 0; q < pairs; ++q, ++p)
            {
              a[p] = pi * r123::uneg11<double>(words[2 * q]);
              u[p] = r123::u01<double>(words[2 * q + 1]);
            }
        }
      for (; p % lanes != 0; ++p)
        a[p] = 0, u[p] = 1;
      box_muller(p, u, a, x, y);
      double *out = z + start * n;
      for (std::size_t k = 0; k < m; ++k)
        for (unsigned int d = 0; d < n; ++d)
          out[k * n + d] = d % 2 == 0 ? x[k * pairs + d / 2] : y[k * pairs + d / 2];
    }
}
} // namespace densityflow
