// The main() of densityflow's GoogleTest programs: MPI is initialised once, rank 0
// prints the usual report, other ranks print only their failures, and the program
// fails on every rank if a test failed on any.
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <iostream>

namespace
{
class FailurePrinter : public ::testing::EmptyTestEventListener
{
public:
  explicit FailurePrinter(const unsigned int rank)
      : rank(rank)
  {}

  void OnTestPartResult(const ::testing::TestPartResult &result) override
  {
    if (result.failed())
      std::cerr << "[rank " << rank << "] " << (result.file_name() ? result.file_name() : "") << ":"
                << result.line_number() << ": " << result.summary() << std::endl;
  }

private:
  unsigned int rank;
};
} // namespace

int main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  ::testing::InitGoogleTest(&argc, argv);
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
  if (rank != 0)
    {
      auto &listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new FailurePrinter(rank));
    }
  const int result = RUN_ALL_TESTS();
  return dealii::Utilities::MPI::max(result, MPI_COMM_WORLD);
}
