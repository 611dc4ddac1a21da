#include "ckernels.h"

// The SSIM map summed over a band of output rows, for PixelMetrics.structuralSimilarity
// (PixelMetrics.referenceStructuralSimilarity is the naive Swift reference). The band is done in strips of
// CK_SSIM_STRIP output columns, with the horizontal sums of the last k input rows kept in a ring, so that everything a
// row touches stays in the core's cache (the reference's whole-band buffers are megabytes), and each sum is held in a
// vector register over the window's taps (GCC/clang vector types of one register's width). The body is compiled for
// AVX-512, AVX2+FMA and baseline x86-64 like the Winograd transforms.

#define CK_SSIM_STRIP 64

#define CK_NAME(f) f##_baseline
#define CK_TARGET
#define CK_SSIM_V 2
#include "ssim_body.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_SSIM_V

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_HAVE_ISA_COPIES 1
#define CK_NAME(f) f##_avx2
#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_SSIM_V 4
#include "ssim_body.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_SSIM_V

#define CK_NAME(f) f##_avx512
#define CK_TARGET __attribute__((target("avx512f,avx2,fma")))
#define CK_SSIM_V 8
#include "ssim_body.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_SSIM_V
#endif

size_t ck_ssim_scratch(int k) {
    return (size_t)5 * k * CK_SSIM_STRIP + 5 * (size_t)(CK_SSIM_STRIP + k) + CK_SSIM_STRIP;
}

void ck_ssim_rows(int level, const double *x, const double *y, int w, const double *window, int k, double cov,
                  double c1, double c2, const double *mask, int oy0, int oy1, double *scratch, double *out) {
#ifdef CK_HAVE_ISA_COPIES
    if (level >= CK_LEVEL_AVX512) { ssim_rows_avx512(x, y, w, window, k, cov, c1, c2, mask, oy0, oy1, scratch, out); return; }
    if (level >= CK_LEVEL_AVX2) { ssim_rows_avx2(x, y, w, window, k, cov, c1, c2, mask, oy0, oy1, scratch, out); return; }
#endif
    (void)level;
    ssim_rows_baseline(x, y, w, window, k, cov, c1, c2, mask, oy0, oy1, scratch, out);
}
