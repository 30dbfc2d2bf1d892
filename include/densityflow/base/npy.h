#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace densityflow
{
/**
 * Writes @p values as a NumPy .npy file (format 1.0) of little-endian float64 with
 * the shape @p shape, C order (the last index varies fastest): what np.load reads.
 * std::runtime_error if the file cannot be written (on the calling rank only); the
 * product of @p shape must be values.size().
 */
void write_npy(const std::string              &file,
               const std::vector<double>      &values,
               const std::vector<std::size_t> &shape);

/** What the header of a .npy file says about its array. */
struct NpyHeader
{
  std::vector<std::size_t> shape;
  /** The shape as the file writes it, e.g. "100, 64, 2", for messages. */
  std::string shape_text;
  bool        fortran_order = false;
  /** 4 (float32) or 8 (float64). */
  unsigned int bytes = 8;

  /** The number of values: the product of the shape. */
  std::size_t size() const;
};

/**
 * Reads the magic string and the header of a .npy file (format 1, 2 or 3) from @p in,
 * which is left at the first value. InputError starting with "@p file: " if the file is
 * not .npy, the header is cut short or unreadable, or the values are not little-endian
 * float64 or float32.
 */
NpyHeader read_npy_header(std::istream &in, const std::string &file);

/**
 * Reads the values that @p header announces from @p in as doubles, in the file's order
 * (see NpyHeader::fortran_order). InputError naming @p file if the file is shorter.
 */
std::vector<double>
read_npy_values(std::istream &in, const NpyHeader &header, const std::string &file);

/** An array read from a .npy file, its values in C order whatever the file's order. */
struct NpyArray
{
  std::vector<std::size_t> shape;
  std::string              shape_text;
  std::vector<double>      values;
};

/** Reads a whole .npy file; InputError naming @p file if it cannot be opened or read. */
NpyArray read_npy(const std::string &file);
} // namespace densityflow
