#pragma once

#include <string>

namespace dealii
{
class ParameterHandler;
}

namespace densityflow
{
/**
 * The `Physics/Likelihood` subsection: a data file and the negative log-likelihood of
 * one of its rows. With a data file, the potential becomes the Bayesian posterior's
 * V(x) = Physics/Potential (the negative log-prior) + sum over the rows of the
 * negative log-likelihood, so pi ∝ exp(-V/eps) is the posterior for eps = 1.
 */
struct LikelihoodParameters
{
  /** `Data file` as written (empty: no likelihood). */
  std::string data_file;
  /** The data file with a relative path taken from the .prm's folder. */
  std::string resolved_data_file;
  std::string negative_log_likelihood;
  std::string negative_log_likelihood_gradient;

  /** Whether a data file is given. */
  bool enabled() const { return !data_file.empty(); }

  /** Declares the subsection `Likelihood`; call inside `Physics`. */
  static void declare_parameters(dealii::ParameterHandler &prm);

  /**
   * Reads the subsection (call inside `Physics`); @p base_directory is the .prm's
   * folder. InputError for an expression without a data file and the reverse.
   */
  void parse_parameters(dealii::ParameterHandler &prm, const std::string &base_directory);
};
} // namespace densityflow
