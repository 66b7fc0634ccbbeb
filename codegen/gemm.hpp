// Row-major GEMM through OpenBLAS, always single-threaded: kiln owns the threading (the trainer
// splits each GEMM across its team), so OpenBLAS's own pool never oversubscribes the cores.
// Every matrix has a leading dimension, so a member can compute a block of rows or columns.
#pragma once

#include <cblas.h>

namespace kiln::codegen {

// C[m×n] = A[m×k] · B[n×k]ᵀ
inline void gemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                    int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
// C[m×n] = A[k×m]ᵀ · B[k×n]
inline void gemm_tn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                    int ldc) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
// C[m×n] = A[m×k] · B[k×n]
inline void gemm_nn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                    int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
              ldc);
}

// Dense (contiguous) forms.
inline void gemm_nt(int m, int n, int k, const float* a, const float* b, float* c) {
  gemm_nt(m, n, k, a, k, b, k, c, n);
}
inline void gemm_tn(int m, int n, int k, const float* a, const float* b, float* c) {
  gemm_tn(m, n, k, a, m, b, n, c, n);
}
inline void gemm_nn(int m, int n, int k, const float* a, const float* b, float* c) {
  gemm_nn(m, n, k, a, k, b, n, c, n);
}

// C[m×n] += A[m×k] · B[n×k]ᵀ: sums over samples (conv2d's weight gradient).
inline void gemm_nt_add(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 1.0f, c, n);
}

// OpenBLAS keeps a process-wide pool; kiln calls it from its own threads, one GEMM each.
inline void single_threaded_blas() { openblas_set_num_threads(1); }

}  // namespace kiln::codegen
