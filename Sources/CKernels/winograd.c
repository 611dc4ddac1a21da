#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// Winograd F(4x4, 3x3) (Lavin and Gray 2016, interpolation points 0, 1, -1, 2, -2 and infinity), as a correlation
// like torch's Conv2d. The transforms run over many tiles at once with the tile index innermost, so every loop is a
// plain vector loop; their bodies (winograd_body.h) are compiled for AVX-512, AVX2+FMA and baseline x86-64, and the
// caller picks one by the kernel level it chose from the CPU's features.

void ck_wino_weights(const float *weight, int cout, int cin, float *u) {
    static const double G[6][3] = {
        {1.0 / 4, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6},
        {1.0 / 24, -1.0 / 12, 1.0 / 6},
        {0, 0, 1},
    };
    size_t plane = (size_t)cout * cin;
    // Per output channel: G g of every input channel first, then each of the 36 products along the input channels,
    // so that every store runs along one row of U (storing a pair's 36 values at once touches 36 rows of U).
    double *gt = malloc(sizeof(double) * 18 * (size_t)cin);  // gt[(a * 3 + k) * cin + i] = (G g_i)[a][k]
    for (int o = 0; o < cout; o++) {
        for (int i = 0; i < cin; i++) {
            const float *g = weight + ((size_t)o * cin + i) * 9;
            for (int a = 0; a < 6; a++)
                for (int k = 0; k < 3; k++)
                    gt[(size_t)(a * 3 + k) * cin + i] = G[a][0] * g[k] + G[a][1] * g[3 + k] + G[a][2] * g[6 + k];
        }
        for (int a = 0; a < 6; a++) {
            const double *r0 = gt + (size_t)a * 3 * cin, *r1 = r0 + cin, *r2 = r1 + cin;
            for (int b = 0; b < 6; b++) {
                float *dst = u + (size_t)(a * 6 + b) * plane + (size_t)o * cin;
                const double g0 = G[b][0], g1 = G[b][1], g2 = G[b][2];
                for (int i = 0; i < cin; i++) dst[i] = (float)(r0[i] * g0 + r1[i] * g1 + r2[i] * g2);
            }
        }
    }
    free(gt);
}


#define CK_NAME(f) f##_baseline
#define CK_TARGET
#include "winograd_body.h"
#undef CK_NAME
#undef CK_TARGET

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_HAVE_ISA_COPIES 1
#define CK_NAME(f) f##_avx2
#define CK_TARGET __attribute__((target("avx2,fma")))
#include "winograd_body.h"
#undef CK_NAME
#undef CK_TARGET

#define CK_NAME(f) f##_avx512
#define CK_TARGET __attribute__((target("avx512f,avx2,fma")))
#include "winograd_body.h"
#undef CK_NAME
#undef CK_TARGET
#endif

void ck_wino_input(int level, const float *x, int cin, int h, int w, int ty, int tx0, int count, float *v, int ldv) {
#ifdef CK_HAVE_ISA_COPIES
    if (level >= CK_LEVEL_AVX512) { input_avx512(x, cin, h, w, ty, tx0, count, v, ldv); return; }
    if (level >= CK_LEVEL_AVX2) { input_avx2(x, cin, h, w, ty, tx0, count, v, ldv); return; }
#endif
    (void)level;
    input_baseline(x, cin, h, w, ty, tx0, count, v, ldv);
}

void ck_wino_output(int level, const float *m, int ldm, int cout, int count, const float *bias, int accumulate,
                    int activate, float slope, float *y, int oh, int ow, int ty, int tx0) {
#ifdef CK_HAVE_ISA_COPIES
    if (level >= CK_LEVEL_AVX512) { output_avx512(m, ldm, cout, count, bias, accumulate, activate, slope, y, oh, ow, ty, tx0); return; }
    if (level >= CK_LEVEL_AVX2) { output_avx2(m, ldm, cout, count, bias, accumulate, activate, slope, y, oh, ow, ty, tx0); return; }
#endif
    (void)level;
    output_baseline(m, ldm, cout, count, bias, accumulate, activate, slope, y, oh, ow, ty, tx0);
}
