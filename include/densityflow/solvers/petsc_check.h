#pragma once

namespace densityflow
{
/**
 * Throws RunError naming @p call and PETSc's text for @p code when @p code (a
 * PetscErrorCode) is not 0: the one way the solvers handle PETSc's errors, so that a
 * failing PETSc call ends the run with a message rather than an assertion.
 */
void check_petsc(const int code, const char *call);
} // namespace densityflow

/** Calls the PETSc function @p call and checks its error code with check_petsc(). */
#define DENSITYFLOW_PETSC(call) ::densityflow::check_petsc((call), #call)
