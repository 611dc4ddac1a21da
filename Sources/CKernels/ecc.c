#include "ckernels.h"
#include <math.h>
#include <stddef.h>

// One image row's share of an ECC iteration (see ECCHomography.swift): its warp, then its Gauss-Newton sums (two passes,
// since the sums need the masked means of the whole warped image first). The loops are plain vector loops over the
// row's pixels, compiled for AVX-512, AVX2+FMA and baseline x86-64 like the Winograd transforms.

#define CK_NAME(f) f##_baseline
#define CK_TARGET
#include "ecc_body.h"
#undef CK_NAME
#undef CK_TARGET

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_HAVE_ISA_COPIES 1
#define CK_NAME(f) f##_avx2
#define CK_TARGET __attribute__((target("avx2,fma")))
#include "ecc_body.h"
#undef CK_NAME
#undef CK_TARGET

#define CK_NAME(f) f##_avx512
#define CK_TARGET __attribute__((target("avx512f,avx2,fma")))
#include "ecc_body.h"
#undef CK_NAME
#undef CK_TARGET
#endif

void ck_ecc_warp_row(int level, int sw, int sh, const float *packed, const double *map, int width, int y,
                     const float *tmpl, float *warped, unsigned char *mask, int *scratch, double *moments) {
#ifdef CK_HAVE_ISA_COPIES
    if (level >= CK_LEVEL_AVX512) { ecc_warp_row_avx512(sw, sh, packed, map, width, y, tmpl, warped, mask, scratch, moments); return; }
    if (level >= CK_LEVEL_AVX2) { ecc_warp_row_avx2(sw, sh, packed, map, width, y, tmpl, warped, mask, scratch, moments); return; }
#endif
    (void)level;
    ecc_warp_row_baseline(sw, sh, packed, map, width, y, tmpl, warped, mask, scratch, moments);
}

void ck_ecc_row_moments(int level, int width, float y, const float *map, const float *warped, const float *tmpl,
                        const unsigned char *mask, float img_mean, float tmp_mean, float *scratch, double *out) {
#ifdef CK_HAVE_ISA_COPIES
    if (level >= CK_LEVEL_AVX512) { ecc_row_avx512(width, y, map, warped, tmpl, mask, img_mean, tmp_mean, scratch, out); return; }
    if (level >= CK_LEVEL_AVX2) { ecc_row_avx2(width, y, map, warped, tmpl, mask, img_mean, tmp_mean, scratch, out); return; }
#endif
    (void)level;
    ecc_row_baseline(width, y, map, warped, tmpl, mask, img_mean, tmp_mean, scratch, out);
}
