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

/// One output row of an ECC iteration's warp (RealBlur's protocol, OpenCV's findTransformECC with a homography):
/// the packed input (4 floats a source pixel: value, gx, gy, unused; sw x sh) sampled bilinearly at OpenCV's
/// 1/32-pixel table positions under `map` (9 doubles, row-major, output to source), zero outside, into warped
/// (4 floats a pixel); mask[x] = 1 where the nearest source pixel lies inside. Adds, over the mask, the count and
/// the sums of the warped value, its square, the template and its square to moments[0..4]. scratch: 2 * width ints.
void ck_ecc_warp_row(int level, int sw, int sh, const float *packed, const double *map, int width, int y,
                     const float *tmpl, float *warped, unsigned char *mask, int *scratch, double *moments);

/// One row's share of the iteration's Gauss-Newton system: for the row at `y` with the parameters `map` (h0..h7 in
/// OpenCV's order m00 m10 m20 m01 m11 m21 m02 m12), the warped row (as ck_ecc_warp_row wrote it), the template row,
/// the mask row and the masked means, writes to out[31]: the sums of a_k a_l (a0a0 a0a1 a0a2 a1a1 a1a2 a2a2) times
/// 1, x and x^2 (out[0..17]), of a_k times the zero-mean image (18..20) and template (21..23), those times x
/// (24..29), and of image times template (30); a = (gx/den, gy/den, the homography term). scratch: 5 * width floats.
void ck_ecc_row_moments(int level, int width, float y, const float *map, const float *warped, const float *tmpl,
                        const unsigned char *mask, float img_mean, float tmp_mean, float *scratch, double *out);

/// The SSIM map of one plane pair (x, y: w columns, row-major, values in double) summed over the output rows
/// [oy0, oy1) (output row r is the window at input rows r .. r + k - 1; all w - k + 1 output columns): the separable
/// window (k taps, the same along both axes) gives the means, and the second moments times cov (n / (n - 1) for the
/// sample covariance, else 1), then (2 ux uy + c1)(2 vxy + c2) / ((ux^2 + uy^2 + c1)(vx + vy + c2)). With mask
/// (one plane of w columns), each position is weighted by the mask at the window's centre. out[0]: the (weighted)
/// sum; out[1]: the sum of the weights (0 without mask). scratch: ck_ssim_scratch(k) doubles.
void ck_ssim_rows(int level, const double *x, const double *y, int w, const double *window, int k, double cov,
                  double c1, double c2, const double *mask, int oy0, int oy1, double *scratch, double *out);
/// The doubles of scratch ck_ssim_rows needs for a window of k taps.
size_t ck_ssim_scratch(int k);

/// Makes the C allocator keep freed memory for reuse instead of returning each large block to the system: glibc
/// maps every block over its mmap threshold (32 MB at most) afresh and unmaps it on free, so a network whose layers
/// allocate and free hundreds of megabytes spends its system time zeroing new pages. Process-wide (a program's
/// entry point calls it, not a library); returns 1 where the allocator took both settings, 0 otherwise.
int ck_retain_freed_memory(void);
/// Bytes the allocator holds free for reuse, over all arenas (mallinfo2's fordblks); -1 off glibc.
long long ck_allocator_free_bytes(void);

#endif
