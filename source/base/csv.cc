#include <densityflow/base/csv.h>
#include <densityflow/base/exceptions.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <sstream>

namespace densityflow
{
std::vector<std::string> split_csv_fields(const std::string &line)
{
  std::vector<std::string> fields;
  std::stringstream        stream(line);
  std::string              field;
  while (std::getline(stream, field, ','))
    fields.push_back(dealii::Utilities::trim(field));
  if (!line.empty() && line.back() == ',')
    fields.emplace_back();
  return fields;
}

double parse_csv_number(const std::string &text, const std::string &where)
{
  const std::string trimmed = dealii::Utilities::trim(text);
  std::size_t       used    = 0;
  double            value   = 0;
  try
    {
      value = std::stod(trimmed, &used);
    }
  catch (const std::exception &)
    {
      used = 0;
    }
  if (trimmed.empty() || used != trimmed.size())
    throw InputError(where + ": '" + trimmed + "' is not a number.");
  if (!std::isfinite(value))
    throw InputError(where + ": '" + trimmed + "' is not a finite number.");
  return value;
}
} // namespace densityflow
