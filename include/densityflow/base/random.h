#pragma once

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

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
   * (id, step, stream). Box-Muller makes them in pairs; asking only for those needed
   * halves the cost of a 2D Langevin step (sin, cos and log dominate it), and the
   * numbers made are the same whatever @p n.
   */
  void normals(const std::uint64_t id,
               const std::uint64_t step,
               const std::uint64_t stream,
               double             *z,
               const unsigned int  n = 4) const
  {
    const auto words = draw(id, step, stream);
    const auto a     = r123::boxmuller(words[0], words[1]);
    z[0] = a.x, z[1] = a.y;
    if (n > 2)
      {
        const auto b = r123::boxmuller(words[2], words[3]);
        z[2] = b.x, z[3] = b.y;
      }
  }

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
