// Row-major GEMM through OpenBLAS (measured on this hardware: within a few percent of peak for
// the dense layers' shapes; see README). The layer ops only use these three forms.
#pragma once

#include <cblas.h>

namespace kiln::codegen {

// C[m×n] = A[m×k] · B[n×k]ᵀ
inline void gemm_nt(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
}
// C[m×n] = A[k×m]ᵀ · B[k×n]
inline void gemm_tn(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, n, 0.0f, c, n);
}
// C[m×n] = A[m×k] · B[k×n]
inline void gemm_nn(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

// OpenBLAS keeps one thread pool per process; kiln sets its size explicitly so that it never
// oversubscribes the cores kiln's own threads use.
inline void set_gemm_threads(int threads) { openblas_set_num_threads(threads); }

}  // namespace kiln::codegen
