#include <densityflow/base/exceptions.h>
#include <densityflow/solvers/petsc_check.h>

#include <petscsys.h>

#include <string>

namespace densityflow
{
void check_petsc(const int code, const char *call)
{
  if (code == 0)
    return;
  const char *text = nullptr;
  PetscErrorMessage(static_cast<PetscErrorCode>(code), &text, nullptr);
  throw RunError(std::string("PETSc call ") + call +
                 " failed: " + (text != nullptr ? text : "unknown error") + " (error code " +
                 std::to_string(code) + ").");
}
} // namespace densityflow
