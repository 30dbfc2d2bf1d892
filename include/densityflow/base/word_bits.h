#pragma once

#include <cstdint>
#include <cstring>

namespace densityflow
{
/**
 * The 64 bits of @p word in a double's place: for integers (ids, keys, masks) kept in an
 * array of doubles (a checkpoint's records), which only travel through copies and files
 * (bits kept), never through arithmetic. Exact above 2^53, where a converted double is not.
 */
inline double word_as_double(const std::uint64_t word)
{
  double value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

/** The word that word_as_double() put in @p value. */
inline std::uint64_t double_as_word(const double value)
{
  std::uint64_t word;
  std::memcpy(&word, &value, sizeof(word));
  return word;
}
} // namespace densityflow
