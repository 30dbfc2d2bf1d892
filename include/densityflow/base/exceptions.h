#pragma once

#include <stdexcept>
#include <string>

namespace densityflow
{
/**
 * An error in what the user gave densityflow: a parameter, an expression, a file.
 *
 * It is thrown by every rank alike (all ranks read the same input and check it the
 * same way), so that the program can report it once and leave without a hang. The
 * message names the parameter, file or line at fault.
 */
class InputError : public std::runtime_error
{
public:
  explicit InputError(const std::string &message)
      : std::runtime_error(message)
  {}
};

/**
 * A failure during a run that every rank sees alike: a linear solver that does not
 * converge, a NaN in a globally reduced quantity. Reported once, like InputError.
 */
class RunError : public std::runtime_error
{
public:
  explicit RunError(const std::string &message)
      : std::runtime_error(message)
  {}
};
} // namespace densityflow

#include <mpi.h>

namespace densityflow
{
/**
 * Turns an error that some ranks found into one that all ranks throw: every rank
 * passes whether it found a problem (@p failed) and what it would say; if any rank
 * failed, all ranks throw InputError (or RunError with @p run_error) carrying the
 * message of the lowest failing rank. Collective: all ranks must call it.
 */
void throw_if_any(const bool         failed,
                  const std::string &message,
                  const MPI_Comm     communicator,
                  const bool         run_error = false);
} // namespace densityflow
