#pragma once

#include <densityflow/base/expression.h>

namespace mu
{
class Parser;
}

namespace densityflow
{
/**
 * Gives @p parser what every densityflow expression may use: pi, the named
 * @p constants, and the functions pow, atan2, erf, erfc, floor, ceil, fmod and
 * if(condition, a, b). Variables are the caller's.
 */
void define_constants_and_functions(mu::Parser &parser, const Constants &constants);
} // namespace densityflow
