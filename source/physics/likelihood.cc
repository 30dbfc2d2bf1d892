#include <densityflow/base/compensated_sum.h>
#include <densityflow/base/csv.h>
#include <densityflow/base/exceptions.h>
#include <densityflow/base/muparser_setup.h>
#include <densityflow/physics/likelihood.h>

#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>

#include <muParser.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace densityflow
{
namespace
{
const char       *coordinate_names[3] = {"x", "y", "z"};
const std::string section             = "Physics/Likelihood/";

std::string joined(const std::vector<std::string> &names)
{
  std::string result;
  for (const auto &name : names)
    result += (result.empty() ? "" : ", ") + name;
  return result;
}

} // namespace

void LikelihoodParameters::declare_parameters(ParameterHandler &prm)
{
  prm.enter_subsection("Likelihood");
  prm.declare_entry("Data file",
                    "",
                    Patterns::Anything(),
                    "A CSV file of observations (relative to the folder of the .prm file): "
                    "a header line naming the columns, then one row of numbers per "
                    "observation. With it, V = Physics/Potential (the negative log-prior) + "
                    "the sum over rows of Negative log-likelihood, so pi ∝ exp(-V/eps) is "
                    "the posterior for eps = 1. Empty: no likelihood.");
  prm.declare_entry("Negative log-likelihood",
                    "",
                    Patterns::Anything(),
                    "-log p(row | x) of ONE data row, as an expression of x (y, z), t, the "
                    "Constants and the column names of the Data file, e.g. "
                    "'0.5 * ((v - x) / exp(y))^2 + y' for v ~ N(x, exp(y)^2).");
  prm.declare_entry("Negative log-likelihood gradient",
                    "",
                    Patterns::Anything(),
                    "Its gradient in x (y, z) for one row, dim expressions separated by ';'. "
                    "Empty: fourth-order differences of the sum (4 dim sums per gradient).");
  prm.leave_subsection();
}

void LikelihoodParameters::parse_parameters(ParameterHandler  &prm,
                                            const std::string &base_directory)
{
  prm.enter_subsection("Likelihood");
  data_file                        = Utilities::trim(prm.get("Data file"));
  negative_log_likelihood          = Utilities::trim(prm.get("Negative log-likelihood"));
  negative_log_likelihood_gradient = Utilities::trim(prm.get("Negative log-likelihood gradient"));
  prm.leave_subsection();
  if (data_file.empty() &&
      !(negative_log_likelihood.empty() && negative_log_likelihood_gradient.empty()))
    throw InputError(section + "Negative log-likelihood is given but " + section +
                     "Data file is empty: the likelihood needs the data it sums over.");
  if (!data_file.empty() && negative_log_likelihood.empty())
    throw InputError(section + "Data file = '" + data_file + "' is given but " + section +
                     "Negative log-likelihood is empty: give -log p(row | x) of one row.");
  const std::filesystem::path path(data_file);
  resolved_data_file = data_file.empty() || path.is_absolute()
                           ? data_file
                           : (std::filesystem::path(base_directory) / path).string();
}

DataTable read_data_table(const std::string &file, const std::string &parameter)
{
  std::ifstream in(file);
  if (!in)
    throw InputError(parameter + ": cannot open '" + file + "'.");
  DataTable table;
  table.file = file;
  const std::regex name_pattern("[A-Za-z_][A-Za-z0-9_]*");
  std::string      line;
  unsigned int     line_number = 0;
  while (std::getline(in, line))
    {
      ++line_number;
      const std::string where = file + ", line " + std::to_string(line_number);
      const std::string text  = Utilities::trim(line);
      if (text.empty() || text[0] == '#')
        continue;
      const std::vector<std::string> fields = split_csv_fields(text);
      if (table.columns.empty())
        {
          for (const auto &name : fields)
            {
              if (!std::regex_match(name, name_pattern))
                throw InputError(where + " (the header): the column name '" + name +
                                 "' is not a name an expression can use (a letter or '_', "
                                 "then letters, digits or '_').");
              for (const auto &earlier : table.columns)
                if (earlier == name)
                  throw InputError(where + " (the header): the column name '" + name +
                                   "' is repeated.");
              table.columns.push_back(name);
            }
          continue;
        }
      if (fields.size() != table.columns.size())
        throw InputError(where + ": " + std::to_string(fields.size()) +
                         " values, but the header has " + std::to_string(table.columns.size()) +
                         " columns (" + joined(table.columns) + ").");
      for (std::size_t c = 0; c < fields.size(); ++c)
        table.values.push_back(
            parse_csv_number(fields[c], where + ", column '" + table.columns[c] + "'"));
    }
  if (table.columns.empty())
    throw InputError(parameter + " = '" + file +
                     "' is empty: it needs a header line naming the columns, then data rows.");
  if (table.n_rows() == 0)
    throw InputError(parameter + " = '" + file + "' has a header (" + joined(table.columns) +
                     ") but no data rows.");
  return table;
}

template <int dim>
struct Likelihood<dim>::Parsers
{
  std::string file;
  std::string text;
  std::size_t rows = 0;
  // x, (y, (z,)) t, then one slot per column: the parsers hold pointers to these.
  mutable std::vector<double>              variables;
  std::unique_ptr<mu::Parser>              value;
  std::vector<std::unique_ptr<mu::Parser>> gradient;
  // The columns any expression reads, their slots, and their values row by row.
  std::vector<unsigned int> used_slots;
  std::vector<double>       used_values;
  bool                      time_dependent  = false;
  bool                      space_dependent = false;

  /** Sets the coordinates and t and calls @p f once per row with the row's values bound. */
  template <typename F>
  void for_each_row(const Point<dim> &p, const double t, const F &f) const
  {
    for (unsigned int d = 0; d < dim; ++d)
      variables[d] = p[d];
    variables[dim]      = t;
    const std::size_t n = used_slots.size();
    const double     *v = used_values.data();
    for (std::size_t r = 0; r < rows; ++r, v += n)
      {
        for (std::size_t j = 0; j < n; ++j)
          variables[used_slots[j]] = v[j];
        f();
      }
  }
};

namespace
{
/** A parser of @p text over the coordinates, t, the columns and the constants. */
template <int dim>
std::unique_ptr<mu::Parser> make_parser(const std::string              &text,
                                        const std::string              &parameter,
                                        const std::vector<std::string> &columns,
                                        const Constants                &constants,
                                        std::vector<double>            &variables)
{
  auto parser = std::make_unique<mu::Parser>();
  try
    {
      for (unsigned int d = 0; d < dim; ++d)
        parser->DefineVar(coordinate_names[d], &variables[d]);
      parser->DefineVar("t", &variables[dim]);
      for (std::size_t c = 0; c < columns.size(); ++c)
        parser->DefineVar(columns[c], &variables[dim + 1 + c]);
      define_constants_and_functions(*parser, constants);
      parser->SetExpr(text);
      parser->Eval(); // muparser parses lazily: errors surface here
    }
  catch (const mu::Parser::exception_type &e)
    {
      std::string constant_names;
      for (const auto &c : constants)
        constant_names += (constant_names.empty() ? "" : ", ") + c.first;
      const std::string unknown =
          e.GetCode() == mu::ecUNASSIGNABLE_TOKEN
              ? " '" + e.GetToken() + "' is neither a column of the data file nor a variable " +
                    "or constant."
              : "";
      throw InputError(
          parameter + " = '" + text + "' cannot be parsed: " + e.GetMsg() + unknown +
          " (the variables are " + variable_names(dim) + " and the columns " + joined(columns) +
          (constant_names.empty() ? std::string() : "; constants: " + constant_names) + ").");
    }
  return parser;
}

template <int dim>
void check_column_names(const DataTable &data, const Constants &constants)
{
  std::vector<std::string> reserved = {"t", "pi"};
  for (unsigned int d = 0; d < dim; ++d)
    reserved.push_back(coordinate_names[d]);
  for (const auto &c : constants)
    reserved.push_back(c.first);
  for (const auto &name : data.columns)
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end())
      throw InputError(data.file + " (the header): the column '" + name +
                       "' has the name of a variable or constant of the expressions (" +
                       joined(reserved) + "); rename the column.");
}
} // namespace

template <int dim>
Likelihood<dim>::Likelihood(const LikelihoodParameters &parameters, const Constants &constants)
    : Likelihood(read_data_table(parameters.resolved_data_file, section + "Data file"),
                 parameters,
                 constants)
{}

template <int dim>
Likelihood<dim>::Likelihood(const DataTable            &data,
                            const LikelihoodParameters &parameters,
                            const Constants            &constants)
    : parsers(std::make_unique<Parsers>())
{
  check_column_names<dim>(data, constants);
  Parsers &p = *parsers;
  p.file     = parameters.data_file.empty() ? data.file : parameters.data_file;
  p.text     = parameters.negative_log_likelihood;
  p.rows     = data.n_rows();
  p.variables.assign(dim + 1 + data.columns.size(), 0.);
  p.value = make_parser<dim>(
      p.text, section + "Negative log-likelihood", data.columns, constants, p.variables);
  std::vector<mu::Parser *> all = {p.value.get()};
  if (!parameters.negative_log_likelihood_gradient.empty())
    {
      const std::string name       = section + "Negative log-likelihood gradient";
      const auto        components = split_components(parameters.negative_log_likelihood_gradient);
      if (components.size() != dim)
        throw InputError(name + " = '" + parameters.negative_log_likelihood_gradient + "' has " +
                         std::to_string(components.size()) +
                         " component(s) separated by ';', "
                         "but " +
                         std::to_string(dim) + " are needed in " + std::to_string(dim) + "D.");
      for (const auto &component : components)
        {
          p.gradient.push_back(
              make_parser<dim>(component, name, data.columns, constants, p.variables));
          all.push_back(p.gradient.back().get());
        }
    }

  std::set<std::string> used;
  for (const mu::Parser *parser : all)
    for (const auto &entry : parser->GetUsedVar())
      used.insert(entry.first);
  p.time_dependent = used.count("t") > 0;
  for (unsigned int d = 0; d < dim; ++d)
    p.space_dependent = p.space_dependent || used.count(coordinate_names[d]) > 0;
  std::vector<unsigned int> used_columns;
  for (unsigned int c = 0; c < data.columns.size(); ++c)
    if (used.count(data.columns[c]) > 0)
      {
        used_columns.push_back(c);
        p.used_slots.push_back(dim + 1 + c);
      }
  for (std::size_t r = 0; r < p.rows; ++r)
    for (const unsigned int c : used_columns)
      p.used_values.push_back(data.values[r * data.columns.size() + c]);
}

template <int dim>
Likelihood<dim>::~Likelihood() = default;

template <int dim>
double Likelihood<dim>::value(const Point<dim> &x, const double t) const
{
  CompensatedSum sum;
  parsers->for_each_row(x, t, [&] { sum.add(parsers->value->Eval()); });
  return sum.value();
}

template <int dim>
Tensor<1, dim> Likelihood<dim>::gradient(const Point<dim> &x, const double t) const
{
  Tensor<1, dim> result;
  if (!parsers->gradient.empty())
    {
      CompensatedSum sums[dim];
      parsers->for_each_row(x, t, [&] {
        for (unsigned int d = 0; d < dim; ++d)
          sums[d].add(parsers->gradient[d]->Eval());
      });
      for (unsigned int d = 0; d < dim; ++d)
        result[d] = sums[d].value();
      return result;
    }
  // Fourth-order central differences of the sum, with ScalarField's steps.
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double h = 1e-3 * std::max(1.0, std::abs(x[d]));
      Point<dim>   q = x;
      double       f[4];
      const double offsets[4] = {h, -h, 2 * h, -2 * h};
      for (unsigned int k = 0; k < 4; ++k)
        {
          q[d] = x[d] + offsets[k];
          f[k] = value(q, t);
        }
      result[d] = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
    }
  return result;
}

template <int dim>
double Likelihood<dim>::laplacian(const Point<dim> &x, const double t) const
{
  // With a gradient: its divergence by fourth-order differences; else fourth-order
  // second differences of the sum (steps as in ScalarField).
  const bool   by_gradient = !parsers->gradient.empty();
  const double center      = by_gradient ? 0.0 : value(x, t);
  double       result      = 0;
  for (unsigned int d = 0; d < dim; ++d)
    {
      const double h = (by_gradient ? 1e-3 : 1e-2) * std::max(1.0, std::abs(x[d]));
      Point<dim>   q = x;
      double       f[4];
      const double offsets[4] = {h, -h, 2 * h, -2 * h};
      for (unsigned int k = 0; k < 4; ++k)
        {
          q[d] = x[d] + offsets[k];
          f[k] = by_gradient ? gradient(q, t)[d] : value(q, t);
        }
      result += by_gradient ? (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h)
                            : (16 * (f[0] + f[1]) - (f[2] + f[3]) - 30 * center) / (12 * h * h);
    }
  return result;
}

template <int dim>
bool Likelihood<dim>::depends_on_time() const
{
  return parsers->time_dependent;
}

template <int dim>
bool Likelihood<dim>::depends_on_space() const
{
  return parsers->space_dependent;
}

template <int dim>
std::string Likelihood<dim>::description() const
{
  return "the sum of " + section + "Negative log-likelihood = '" + parsers->text + "' over the " +
         std::to_string(parsers->rows) + " rows of '" + parsers->file + "'";
}

template <int dim>
std::size_t Likelihood<dim>::n_rows() const
{
  return parsers->rows;
}

template class Likelihood<1>;
template class Likelihood<2>;
template class Likelihood<3>;
} // namespace densityflow
