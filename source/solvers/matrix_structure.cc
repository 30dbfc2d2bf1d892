#include <densityflow/solvers/matrix_structure.h>
#include <densityflow/solvers/petsc_check.h>

#include <petscmat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace densityflow
{
namespace
{
/**
 * A zeroed array; from 2 MiB on, on 2 MiB boundaries with transparent huge pages asked
 * for.
 */
template <typename T>
class LargeArray
{
public:
  explicit LargeArray(const std::size_t n)
      : n(std::max<std::size_t>(n, 1)) // never null for PETSc
  {
    constexpr std::size_t huge_page = std::size_t(2) << 20;
    const std::size_t     bytes     = this->n * sizeof(T);
    if (bytes < huge_page)
      data = static_cast<T *>(std::calloc(this->n, sizeof(T)));
    else
      {
        const std::size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
        data                      = static_cast<T *>(std::aligned_alloc(huge_page, rounded));
#if defined(MADV_HUGEPAGE)
        if (data != nullptr)
          madvise(data, rounded, MADV_HUGEPAGE); // a hint: where it fails, nothing changes
#endif
        if (data != nullptr)
          std::memset(data, 0, bytes);
      }
    if (data == nullptr)
      throw std::bad_alloc();
  }
  ~LargeArray()
  {
    std::free(data);
  }
  LargeArray(const LargeArray &)            = delete;
  LargeArray &operator=(const LargeArray &) = delete;

  T          *data = nullptr;
  std::size_t n;
};

/** What one matrix's blocks own: the shared structure, its own values and off columns. */
struct MatrixArrays
{
  std::shared_ptr<const MatrixStructure::Arrays> structure;
  std::unique_ptr<LargeArray<PetscScalar>>       diagonal_values, off_values;
  /** PETSc rewrites the off-diagonal block's columns to local ones: a copy per matrix. */
  std::vector<PetscInt> off_columns;
};

PetscErrorCode destroy_matrix_arrays(void *arrays)
{
  delete static_cast<MatrixArrays *>(arrays);
  return 0;
}
} // namespace

struct MatrixStructure::Arrays
{
  PetscInt                              n_owned = 0, n = 0;
  std::vector<PetscInt>                 diagonal_rows, off_rows, off_columns;
  std::unique_ptr<LargeArray<PetscInt>> diagonal_columns;
};

MatrixStructure::MatrixStructure(const DynamicSparsityPattern &pattern,
                                 const IndexSet               &owned,
                                 const MPI_Comm                communicator)
    : owned(owned)
    , communicator(communicator)
{
  if (!owned.is_contiguous())
    throw std::runtime_error("MatrixStructure: the owned rows are not contiguous.");
  auto           made    = std::make_shared<Arrays>();
  const PetscInt n_owned = owned.n_elements();
  const PetscInt first   = n_owned > 0 ? PetscInt(owned.nth_index_in_set(0)) : 0;
  const PetscInt end     = first + n_owned;
  made->n_owned          = n_owned;
  made->n                = pattern.n_cols();
  made->diagonal_rows.assign(n_owned + 1, 0);
  made->off_rows.assign(n_owned + 1, 0);
  for (PetscInt r = 0; r < n_owned; ++r)
    {
      // By index, not by the pattern's iterators: their end() is found again at every
      // comparison, which cost more than the rest of an adapted mesh's set-up.
      PetscInt       in = 0, out = 0;
      const PetscInt length = pattern.row_length(first + r);
      for (PetscInt k = 0; k < length; ++k)
        {
          const PetscInt column = pattern.column_number(first + r, k);
          ++(column >= first && column < end ? in : out);
        }
      made->diagonal_rows[r + 1] = made->diagonal_rows[r] + in;
      made->off_rows[r + 1]      = made->off_rows[r] + out;
    }
  made->diagonal_columns = std::make_unique<LargeArray<PetscInt>>(made->diagonal_rows[n_owned]);
  made->off_columns.assign(std::max<PetscInt>(made->off_rows[n_owned], 1), 0);
  for (PetscInt r = 0; r < n_owned; ++r)
    {
      // The pattern's rows are sorted: so are both blocks' (local, resp. global) columns.
      PetscInt      *in     = made->diagonal_columns->data + made->diagonal_rows[r];
      PetscInt      *out    = made->off_columns.data() + made->off_rows[r];
      const PetscInt length = pattern.row_length(first + r);
      for (PetscInt k = 0; k < length; ++k)
        {
          const PetscInt column = pattern.column_number(first + r, k);
          if (column >= first && column < end)
            *in++ = column - first;
          else
            *out++ = column;
        }
    }
  arrays = std::move(made);
}

MatrixStructure::~MatrixStructure() = default;

void MatrixStructure::make_matrix(PETScWrappers::MPI::SparseMatrix &matrix) const
{
  auto own             = std::make_unique<MatrixArrays>();
  own->structure       = arrays;
  own->diagonal_values = std::make_unique<LargeArray<PetscScalar>>(arrays->diagonal_rows.back());
  own->off_values      = std::make_unique<LargeArray<PetscScalar>>(arrays->off_rows.back());
  own->off_columns     = arrays->off_columns;
  // PETSc takes non-const arrays but does not write the diagonal block's structure.
  auto *diagonal_rows    = const_cast<PetscInt *>(arrays->diagonal_rows.data());
  auto *diagonal_columns = arrays->diagonal_columns->data;
  auto *off_rows         = const_cast<PetscInt *>(arrays->off_rows.data());
  Mat   petsc;
  DENSITYFLOW_PETSC(MatCreateMPIAIJWithSplitArrays(communicator,
                                                   arrays->n_owned,
                                                   arrays->n_owned,
                                                   arrays->n,
                                                   arrays->n,
                                                   diagonal_rows,
                                                   diagonal_columns,
                                                   own->diagonal_values->data,
                                                   off_rows,
                                                   own->off_columns.data(),
                                                   own->off_values->data,
                                                   &petsc));
  // The arrays are composed with both blocks, not with the matrix: a preconditioner may
  // keep a block (block Jacobi takes the diagonal one) after the matrix is destroyed. They
  // are freed with the last of the two.
  Mat             diagonal_block, off_block;
  const PetscInt *garray;
  DENSITYFLOW_PETSC(MatMPIAIJGetSeqAIJ(petsc, &diagonal_block, &off_block, &garray));
  PetscContainer container;
  DENSITYFLOW_PETSC(PetscContainerCreate(PETSC_COMM_SELF, &container));
  DENSITYFLOW_PETSC(PetscContainerSetPointer(container, own.get()));
  DENSITYFLOW_PETSC(PetscContainerSetUserDestroy(container, destroy_matrix_arrays));
  own.release();
  for (const Mat block : {diagonal_block, off_block})
    DENSITYFLOW_PETSC(PetscObjectCompose(reinterpret_cast<PetscObject>(block),
                                         "densityflow arrays",
                                         reinterpret_cast<PetscObject>(container)));
  DENSITYFLOW_PETSC(PetscContainerDestroy(&container));

  adopt_matrix(petsc, owned, communicator, matrix);
}

void adopt_matrix(Mat                               petsc,
                  const IndexSet                   &owned,
                  const MPI_Comm                    communicator,
                  PETScWrappers::MPI::SparseMatrix &matrix)
{
  // The wrapper is made an empty matrix of these rows on this communicator (no entries:
  // cheap), and then takes the matrix.
  const types::global_dof_index n = owned.size();
  matrix.reinit(owned, owned, DynamicSparsityPattern(n, n, IndexSet(n)), communicator);
  DENSITYFLOW_PETSC(MatDestroy(&matrix.petsc_matrix()));
  matrix.petsc_matrix() = petsc;
}
} // namespace densityflow
