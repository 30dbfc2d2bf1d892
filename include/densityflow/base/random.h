#pragma once

#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <cstddef>
#include <cstdint>

namespace densityflow
{
/**
 * Counter-based random numbers (Philox4x64-10 from Random123): the numbers a particle
 * draws are a pure function of (seed, particle id, step, stream), so every particle
 * sees the same ones whichever rank it lives on and however many ranks there are.
 * One draw gives four normals, or two normals and two uniforms.
 */
class ParticleRandom
{
public:
  explicit ParticleRandom(const std::uint64_t seed)
      : key{{seed, 0x9e3779b97f4a7c15ULL}}
  {}

  /** Four independent 64-bit words for (id, step, stream). */
  r123::Philox4x64::ctr_type
  draw(const std::uint64_t id, const std::uint64_t step, const std::uint64_t stream) const
  {
    const r123::Philox4x64::ctr_type counter = {{id, step, stream, 0}};
    return generator(counter, key);
  }

  /**
   * The first @p n (at most four) of four independent standard normal numbers for
   * (id, step, stream): Random123's Box-Muller transform of the draw's words (pairs
   * (0, 1) and (2, 3)). Asking only for those needed halves the cost of a 2D step, and
   * the numbers made are the same whatever @p n.
   */
  void normals(const std::uint64_t id,
               const std::uint64_t step,
               const std::uint64_t stream,
               double             *z,
               const unsigned int  n = 4) const
  {
    normals(&id, 1, step, stream, n, z);
  }

  /**
   * normals() of (ids[k], step, stream) for k < @p count, the first @p n of particle k
   * into z[k n], ..., z[k n + n - 1]: the same numbers, made several at a time by the
   * vector functions of glibc's libmvec (AVX2 where the processor has it): 2-3x faster
   * than one particle at a time, the Philox draws then being most of the cost.
   */
  void normals(const std::uint64_t *ids,
               const std::size_t    count,
               const std::uint64_t  step,
               const std::uint64_t  stream,
               const unsigned int   n,
               double              *z) const;

  /** Four independent uniform numbers in (0, 1] for (id, step, stream). */
  void uniforms(const std::uint64_t id,
                const std::uint64_t step,
                const std::uint64_t stream,
                double             *u) const
  {
    const auto words = draw(id, step, stream);
    for (unsigned int k = 0; k < 4; ++k)
      u[k] = r123::u01<double>(words[k]);
  }

private:
  r123::Philox4x64::key_type key;
  r123::Philox4x64           generator;
};
} // namespace densityflow
