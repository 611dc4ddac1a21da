// The Winograd transforms' bodies, included by winograd.c once per instruction set with CK_NAME and CK_TARGET set.
// (No include guard: meant to be included several times.)

#ifndef BT_TRANSFORM
// The 1-D input transform B^T d of six vectors d0..d5 into r0..r5, element by element over n tiles.
#define BT_TRANSFORM(d0, d1, d2, d3, d4, d5, r0, r1, r2, r3, r4, r5, n)                    \
    for (int t = 0; t < (n); t++) {                                                     \
        float a0 = (d0)[t], a1 = (d1)[t], a2 = (d2)[t], a3 = (d3)[t], a4 = (d4)[t], a5 = (d5)[t]; \
        (r0)[t] = 4 * a0 - 5 * a2 + a4;                                                 \
        (r1)[t] = -4 * (a1 + a2) + a3 + a4;                                             \
        (r2)[t] = 4 * (a1 - a2) - a3 + a4;                                              \
        (r3)[t] = -2 * (a1 - a3) - a2 + a4;                                             \
        (r4)[t] = 2 * (a1 - a3) - a2 + a4;                                              \
        (r5)[t] = 4 * a1 - 5 * a3 + a5;                                                 \
    }

#endif

CK_TARGET static void CK_NAME(input)(const float *x, int cin, int h, int w, int ty, int tx0, int count, float *v, int ldv) {
    // Per row of the tile row: the row (input columns 4 tx0 - 1 ..., zero outside the image) split into its four
    // phases so that tap k of tile t is q[k % 4][t + k / 4]; then the row transform into r[row][j][t]; then the
    // column transform.
    int span = 4 * (count + 1);
    float *scratch = malloc(sizeof(float) * (4 * (size_t)(count + 1) + 36 * (size_t)count));
    float *q = scratch, *r = q + 4 * (count + 1);
    size_t plane = (size_t)h * w, vplane = (size_t)cin * ldv;
    int x0 = 4 * tx0 - 1;
    // Input columns [lo, hi) of the span that lie inside the image; tiles [tin0, tin1) have all four of their phase
    // samples inside, read straight from the row (no padded copy of it), the others sample by sample.
    int lo = x0 < 0 ? -x0 : 0, hi = w - x0 < span ? w - x0 : span;
    int tin0 = (lo + 3) / 4, tin1 = hi >= 4 ? (hi - 4) / 4 + 1 : 0;
    if (tin1 > count + 1) tin1 = count + 1;
    if (tin1 < tin0) tin1 = tin0;
    for (int c = 0; c < cin; c++) {
        for (int row = 0; row < 6; row++) {
            int y = 4 * ty - 1 + row;
            float *rr = r + (size_t)row * 6 * count;
            if (y < 0 || y >= h) {
                memset(rr, 0, sizeof(float) * 6 * count);
                continue;
            }
            // Row y from column x0 on (x0 may be -1: only offsets in [lo, hi) are read).
            const float *row = x + c * plane + (size_t)y * w;
            float *q0 = q, *q1 = q + (count + 1), *q2 = q + 2 * (count + 1), *q3 = q + 3 * (count + 1);
            for (int t = 0; t < tin0 && t <= count; t++) {
                float *qq[4] = {q0, q1, q2, q3};
                for (int k = 0; k < 4; k++) {
                    int i = 4 * t + k;
                    qq[k][t] = i >= lo && i < hi ? row[x0 + i] : 0;
                }
            }
            const float *inner = row + x0 + 4 * tin0;
            for (int t = tin0; t < tin1; t++, inner += 4) {
                q0[t] = inner[0];
                q1[t] = inner[1];
                q2[t] = inner[2];
                q3[t] = inner[3];
            }
            for (int t = tin1 > tin0 ? tin1 : tin0; t <= count; t++) {
                float *qq[4] = {q0, q1, q2, q3};
                for (int k = 0; k < 4; k++) {
                    int i = 4 * t + k;
                    qq[k][t] = i >= lo && i < hi ? row[x0 + i] : 0;
                }
            }
            BT_TRANSFORM(q0, q1, q2, q3, q0 + 1, q1 + 1, rr, rr + count, rr + 2 * count, rr + 3 * count, rr + 4 * count,
                         rr + 5 * count, count)
        }
        for (int j = 0; j < 6; j++) {
            const float *d[6];
            float *o[6];
            for (int row = 0; row < 6; row++) d[row] = r + ((size_t)row * 6 + j) * count;
            for (int i = 0; i < 6; i++) o[i] = v + (size_t)(i * 6 + j) * vplane + (size_t)c * ldv;
            BT_TRANSFORM(d[0], d[1], d[2], d[3], d[4], d[5], o[0], o[1], o[2], o[3], o[4], o[5], count)
        }
    }
    free(scratch);
}

CK_TARGET static void CK_NAME(output)(const float *m, int ldm, int cout, int count, const float *bias, int accumulate, int activate,
                                      float slope, float *y, int oh, int ow, int ty, int tx0) {
    float *scratch = malloc(sizeof(float) * 40 * (size_t)count);
    float *s = scratch, *res = scratch + 24 * (size_t)count;  // s[a][j][t], then one output row res[b][t]
    size_t mplane = (size_t)cout * ldm, plane = (size_t)oh * ow;
    for (int o = 0; o < cout; o++) {
        // Column transform A^T M: s[a][j] = sum_i A^T[a][i] M[i][j].
        for (int j = 0; j < 6; j++) {
            const float *m0 = m + (size_t)(0 * 6 + j) * mplane + (size_t)o * ldm;
            const float *m1 = m0 + 6 * mplane, *m2 = m1 + 6 * mplane, *m3 = m2 + 6 * mplane, *m4 = m3 + 6 * mplane,
                        *m5 = m4 + 6 * mplane;
            float *s0 = s + (size_t)(0 * 6 + j) * count, *s1 = s0 + 6 * count, *s2 = s1 + 6 * count, *s3 = s2 + 6 * count;
            for (int t = 0; t < count; t++) {
                float p1 = m1[t] + m2[t], n1 = m1[t] - m2[t], p2 = m3[t] + m4[t], n2 = m3[t] - m4[t];
                s0[t] = m0[t] + p1 + p2;
                s1[t] = n1 + 2 * n2;
                s2[t] = p1 + 4 * p2;
                s3[t] = n1 + 8 * n2 + m5[t];
            }
        }
        float b = bias ? bias[o] : 0;
        for (int a = 0; a < 4; a++) {
            int yy = 4 * ty + a;
            if (yy >= oh) break;
            const float *sa = s + (size_t)a * 6 * count;
            const float *s0 = sa, *s1 = sa + count, *s2 = sa + 2 * count, *s3 = sa + 3 * count, *s4 = sa + 4 * count,
                        *s5 = sa + 5 * count;
            float *r0 = res, *r1 = res + count, *r2 = res + 2 * count, *r3 = res + 3 * count;
            for (int t = 0; t < count; t++) {
                float p1 = s1[t] + s2[t], n1 = s1[t] - s2[t], p2 = s3[t] + s4[t], n2 = s3[t] - s4[t];
                r0[t] = s0[t] + p1 + p2 + b;
                r1[t] = n1 + 2 * n2 + b;
                r2[t] = p1 + 4 * p2 + b;
                r3[t] = n1 + 8 * n2 + s5[t] + b;
            }
            float *line = y + o * plane + (size_t)yy * ow + 4 * tx0;
            int width = ow - 4 * tx0 < 4 * count ? ow - 4 * tx0 : 4 * count;
            int full = width / 4;
            // Interleave the four columns of every tile into the row; the last tile may be clipped.
            if (accumulate) {
                for (int t = 0; t < full; t++) {
                    line[4 * t] += r0[t];
                    line[4 * t + 1] += r1[t];
                    line[4 * t + 2] += r2[t];
                    line[4 * t + 3] += r3[t];
                }
            } else {
                for (int t = 0; t < full; t++) {
                    line[4 * t] = r0[t];
                    line[4 * t + 1] = r1[t];
                    line[4 * t + 2] = r2[t];
                    line[4 * t + 3] = r3[t];
                }
            }
            for (int xx = 4 * full; xx < width; xx++) {
                float value = res[(xx % 4) * count + xx / 4];
                line[xx] = accumulate ? line[xx] + value : value;
            }
            if (activate) {
                for (int xx = 0; xx < width; xx++) line[xx] = line[xx] >= 0 ? line[xx] : line[xx] * slope;
            }
        }
    }
    free(scratch);
}
