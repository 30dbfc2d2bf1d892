#pragma once

#include <string>
#include <vector>

namespace densityflow
{
/** The comma-separated fields of a CSV line, trimmed, empty ones kept. */
std::vector<std::string> split_csv_fields(const std::string &line);

/**
 * @p text as a finite number; else InputError "WHERE: 'text' is not a (finite) number."
 * @p where names the file, the line and, where known, the column.
 */
double parse_csv_number(const std::string &text, const std::string &where);
} // namespace densityflow
