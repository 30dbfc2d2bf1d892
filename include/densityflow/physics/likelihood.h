#pragma once

#include <densityflow/base/expression.h>
#include <densityflow/physics/likelihood_parameters.h>

#include <memory>
#include <string>
#include <vector>

namespace densityflow
{
/** A CSV file of numbers with named columns, row-major. */
struct DataTable
{
  std::string              file;
  std::vector<std::string> columns;
  /** Row r, column c at values[r * columns.size() + c]. */
  std::vector<double> values;

  std::size_t n_rows() const { return columns.empty() ? 0 : values.size() / columns.size(); }
};

/**
 * Reads a CSV file whose first line names the columns and whose other lines hold one
 * number per column; blank lines and lines starting with '#' are skipped. The names
 * must be expression names (a letter or '_', then letters, digits, '_') and distinct.
 * InputError, naming @p parameter, the file, the line and the column, for: no such
 * file, no header, no rows, a bad or repeated column name, a row with a different
 * number of fields, a field that is not a finite number.
 */
DataTable read_data_table(const std::string &file, const std::string &parameter);

/**
 * The negative log-likelihood of a data set, sum over rows r of l(x, t; row r), with l
 * an expression of the coordinates, t, the constants and the data's column names. One
 * muparser instance: a row's values are copied into the variables it reads, and the
 * row terms are summed with Neumaier's compensation. The gradient is the sum of the
 * rows' gradient expressions, or fourth-order differences of the sum.
 */
template <int dim>
class Likelihood : public ScalarFieldTerm<dim>
{
public:
  /** Reads the data file and parses the expressions; InputError on bad input. */
  Likelihood(const LikelihoodParameters &parameters, const Constants &constants);

  /** The same for a table already read (@p parameters' data file names it in messages). */
  Likelihood(const DataTable            &data,
             const LikelihoodParameters &parameters,
             const Constants            &constants);

  ~Likelihood() override;

  double value(const Point<dim> &p, const double t) const override;

  Tensor<1, dim> gradient(const Point<dim> &p, const double t) const override;

  double laplacian(const Point<dim> &p, const double t) const override;

  bool depends_on_time() const override;

  bool depends_on_space() const override;

  std::string description() const override;

  std::size_t n_rows() const;

private:
  struct Parsers;
  std::unique_ptr<Parsers> parsers;
};
} // namespace densityflow
