#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

// CPU features the kernels are chosen by (bit flags), read with cpuid and checked against the OS's saved register
// state (xgetbv), so a feature the OS does not enable counts as absent.
enum {
    CK_SSE3 = 1 << 0,
    CK_AVX = 1 << 1,
    CK_AVX2 = 1 << 2,
    CK_FMA = 1 << 3,
    CK_AVX512F = 1 << 4,
    CK_AVX512BW = 1 << 5,
    CK_AVX512DQ = 1 << 6,
    CK_AVX512VL = 1 << 7,
};

/// The feature flags of the CPU this runs on (0 on a non-x86 CPU).
unsigned ck_cpu_features(void);
/// The vendor string ("GenuineIntel", "AuthenticAMD", ...) into buf (at least 13 bytes).
void ck_cpu_vendor(char *buf);

/// Loads OpenBLAS with dlopen, with OPENBLAS_CORETYPE set to `coretype` while its constructor runs (NULL: let it
/// choose), unless the environment already sets OPENBLAS_CORETYPE. Returns 0, or -1 with a message in ck_blas_error().
/// Later calls return the first call's result.
int ck_blas_load(const char *coretype);
const char *ck_blas_error(void);
/// OpenBLAS's name of the kernels it runs ("SkylakeX", "Haswell", "Prescott"...), and its build configuration.
const char *ck_blas_corename(void);
const char *ck_blas_config(void);
void ck_blas_set_threads(int threads);
int ck_blas_threads(void);
/// Row-major C = alpha * A * B + beta * C with A m x k, B k x n (no transposes).
void ck_sgemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc);

/// The instruction sets the kernels are compiled for; a caller passes the level its CPU (or an override) allows.
enum { CK_LEVEL_BASELINE = 0, CK_LEVEL_AVX2 = 1, CK_LEVEL_AVX512 = 2 };

// Winograd F(4x4, 3x3) for 3x3 convolutions with stride 1 and padding 1: 6x6 input tiles give 4x4 output tiles
// with 36 multiplications per tile and channel pair instead of 144.

/// U[p][o][i] = (G g G^T)[p] for the weights (cout, cin, 3, 3); U holds 36 * cout * cin values.
void ck_wino_weights(const float *weight, int cout, int cin, float *u);

/// V[p][c][t] = v[(p * cin + c) * ldv + t] for the tiles tx0 <= tx < tx0 + count of tile row ty (t = tx - tx0; tile
/// origin (4 ty - 1, 4 tx - 1), zeros outside the image), p = 0..35, c < cin. ldv >= count; a caller can put several
/// tile rows side by side in one V by offsetting v.
void ck_wino_input(int level, const float *x, int cin, int h, int w, int ty, int tx0, int count, float *v, int ldv);

/// The output tiles from M[p][o][t] = m[(p * cout + o) * ldm + t]: y[o] = act(y[o] (if accumulate) + A^T M A + bias[o])
/// for the 4x4 tiles tx0 <= tx < tx0 + count of tile row ty, clipped to the oh x ow output. slope: the LeakyReLU
/// slope (0 for ReLU), used when activate is nonzero. bias may be NULL.
void ck_wino_output(int level, const float *m, int ldm, int cout, int count, const float *bias, int accumulate,
                    int activate, float slope, float *y, int oh, int ow, int ty, int tx0);

/// Makes the C allocator keep freed memory for reuse instead of returning each large block to the system: glibc
/// maps every block over its mmap threshold (32 MB at most) afresh and unmaps it on free, so a network whose layers
/// allocate and free hundreds of megabytes spends its system time zeroing new pages. Process-wide (a program's
/// entry point calls it, not a library); returns 1 where the allocator took both settings, 0 otherwise.
int ck_retain_freed_memory(void);
/// Bytes the allocator holds free for reuse, over all arenas (mallinfo2's fordblks); -1 off glibc.
long long ck_allocator_free_bytes(void);

#endif
