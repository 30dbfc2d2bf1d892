#pragma once

#include <string>
#include <vector>

namespace densityflow
{
/** What one column of densityflow's CSV files holds. */
struct ColumnDescription
{
  /** The column's name in the header; a trailing `*` matches any ending (region_mass_*), a
   * leading one any beginning (*_floor). */
  const char *name;
  const char *unit;
  const char *meaning;
};

/**
 * Every column of every CSV file densityflow writes, with its unit and meaning: one
 * table (source/column_descriptions.cc), so that a new column needs one line there.
 */
const std::vector<ColumnDescription> &column_table();

/** The description of @p column, or nullptr where the table has none. */
const ColumnDescription *describe_column(const std::string &column);

/**
 * The sidecar of a CSV file with the header @p columns: a CSV file `column,unit,meaning`
 * with one row per column, in the order of the header. std::logic_error naming the
 * column where one is not in column_table() (a programming error).
 */
std::string column_descriptions(const std::vector<std::string> &columns);

/**
 * The sidecar's name for @p csv_path: NAME.columns.csv beside NAME.csv, so that the
 * CSV itself stays plain (one header line) for every CSV reader.
 */
std::string column_descriptions_path(const std::string &csv_path);

/** Writes @p descriptions (from column_descriptions()) beside @p csv_path (call on one rank). */
void write_column_descriptions(const std::string &csv_path, const std::string &descriptions);
} // namespace densityflow
