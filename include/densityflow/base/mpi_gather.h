#pragma once

#include <vector>

#include <mpi.h>

namespace densityflow
{
/**
 * The concatenation of every rank's @p local values, in rank order, on every rank
 * (MPI_Allgatherv: no serialisation, unlike Utilities::MPI::all_gather). Collective.
 */
std::vector<double> all_gather_concatenated(const std::vector<double> &local,
                                            const MPI_Comm             communicator);

/**
 * The concatenation of every rank's @p local values, in rank order, on rank @p root
 * (MPI_Gatherv); empty on the other ranks. Collective.
 */
std::vector<double> gather_concatenated(const std::vector<double> &local,
                                        const MPI_Comm             communicator,
                                        const int                  root = 0);
} // namespace densityflow
