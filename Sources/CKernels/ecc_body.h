// The ECC iteration's bodies, included by ecc.c once per instruction set with CK_NAME and CK_TARGET set.
// (No include guard: meant to be included several times.)

CK_TARGET static void CK_NAME(ecc_warp_row)(int sw, int sh, const float *packed, const double *m, int ws, int y,
                                            const float *tmpl, float *warped, unsigned char *mask, int *scratch,
                                            double *moments) {
#pragma clang fp contract(off)
    const double magic = 6755399441055744.0;
    double yd = (double)y;
    double row_w = m[7] * yd + m[8], row_x = m[1] * yd + m[2], row_y = m[4] * yd + m[5];
    int *tx = scratch, *ty = scratch + ws;
    // Positions first, in a loop without branches the compiler vectorizes. OpenCV rounds (to nearest even,
    // saturated to int) x / w for the nearest pixel and 32 x / w for the 1/32-pixel tables; 32 / w is 32 * (1 / w)
    // exactly (a power of two), so one division serves both.
    for (int x = 0; x < ws; x++) {
        double xd = (double)x;
        double w0 = m[6] * xd + row_w;
        double nx = m[0] * xd + row_x, ny = m[3] * xd + row_y;
        double wn = w0 != 0 ? 1 / w0 : 0;
        double px = nx * wn, py = ny * wn;
#define CK_ROUND(v) ((int)((fmax(-2147483648.0, fmin(2147483647.0, (v))) + magic) - magic))
        int mx = CK_ROUND(px), my = CK_ROUND(py);
        tx[x] = CK_ROUND(px * 32);
        ty[x] = CK_ROUND(py * 32);
#undef CK_ROUND
        mask[x] = (unsigned char)(mx >= 0 && mx < sw && my >= 0 && my < sh);
    }
    // Then the bilinear samples of the three planes (zero outside) and the masked moments.
    double n = 0, si = 0, sii = 0, st = 0, stt = 0;
    for (int x = 0; x < ws; x++) {
        int ix = tx[x], iy = ty[x];
        long sx = ix >> 5, sy = iy >> 5;
        float ax = (float)(ix & 31) / 32, ay = (float)(iy & 31) / 32;
        float w00 = (1 - ay) * (1 - ax), w01 = (1 - ay) * ax, w10 = ay * (1 - ax), w11 = ay * ax;
        float v[3] = {0, 0, 0};
        if (sx >= 0 && sx + 1 < sw && sy >= 0 && sy + 1 < sh) {
            const float *p = packed + 4 * (sy * (long)sw + sx), *q = p + 4 * (long)sw;
            for (int c = 0; c < 3; c++) v[c] = p[c] * w00 + p[4 + c] * w01 + q[c] * w10 + q[4 + c] * w11;
        } else if (!(sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0)) {
            long xs[2] = {sx, sx + 1}, ys[2] = {sy, sy + 1};
            float wk[4] = {w00, w01, w10, w11};
            for (int c = 0; c < 3; c++) {
                float sum = 0;
                for (int k = 0; k < 4; k++) {
                    long qx = xs[k & 1], qy = ys[k >> 1];
                    float value = qx >= 0 && qx < sw && qy >= 0 && qy < sh ? packed[4 * (qy * (long)sw + qx) + c] : 0;
                    sum = k == 0 ? value * wk[0] : sum + value * wk[k];
                }
                v[c] = sum;
            }
        }
        warped[4 * (size_t)x] = v[0];
        warped[4 * (size_t)x + 1] = v[1];
        warped[4 * (size_t)x + 2] = v[2];
        warped[4 * (size_t)x + 3] = 0;
        if (mask[x]) {
            double a = v[0], b = tmpl[x];
            n += 1; si += a; sii += a * a; st += b; stt += b * b;
        }
    }
    moments[0] += n; moments[1] += si; moments[2] += sii; moments[3] += st; moments[4] += stt;
}

CK_TARGET static void CK_NAME(ecc_row)(int w, float yf, const float *h, const float *warped, const float *tmpl,
                                       const unsigned char *mask, float img_mean, float tmp_mean, float *scratch,
                                       double *out) {
    float *a0 = scratch, *a1 = scratch + w, *a2 = scratch + 2 * (size_t)w, *im = scratch + 3 * (size_t)w,
          *tm = scratch + 4 * (size_t)w;
    {
        // The zero-mean image and template in float, as OpenCV's masked subtract makes them (the image keeps its
        // warped values off the mask, the template is 0 there), and the Jacobian's factors in float as OpenCV's
        // image_jacobian_homo_ECC computes them (no fused multiply-add: every CPU gets the same floats). ECC run a
        // fixed 100 iterations amplifies even these roundings, so they are OpenCV's, not exact arithmetic.
#pragma clang fp contract(off)
        for (int x = 0; x < w; x++) {
            float xf = (float)x;
            int inside = mask[x] != 0;
            float sample = warped[4 * (size_t)x];
            im[x] = inside ? sample - img_mean : sample;
            tm[x] = inside ? tmpl[x] - tmp_mean : 0.0f;
            float den = xf * h[2] + yf * h[5] + 1.0f;
            float hat_x = (-xf * h[0] - yf * h[3] - h[6]) / den;
            float hat_y = (-xf * h[1] - yf * h[4] - h[7]) / den;
            float dx = warped[4 * (size_t)x + 1] / den, dy = warped[4 * (size_t)x + 2] / den;
            a0[x] = dx;
            a1[x] = dy;
            a2[x] = hat_x * dx + hat_y * dy;
        }
    }
    // The row's moments in double: the six products a_k a_l times 1, x and x^2, and a_k times the image and the
    // template times 1 and x. Reassociated so the compiler keeps vector partial sums (the order is fixed per
    // instruction set, so the result does not depend on scheduling).
    {
#pragma clang fp reassociate(on)
        double s00 = 0, s01 = 0, s02 = 0, s11 = 0, s12 = 0, s22 = 0;
        double x00 = 0, x01 = 0, x02 = 0, x11 = 0, x12 = 0, x22 = 0;
        double y00 = 0, y01 = 0, y02 = 0, y11 = 0, y12 = 0, y22 = 0;
        for (int x = 0; x < w; x++) {
            double b0 = a0[x], b1 = a1[x], b2 = a2[x], xd = (double)x, xx = xd * xd;
            double c00 = b0 * b0, c01 = b0 * b1, c02 = b0 * b2, c11 = b1 * b1, c12 = b1 * b2, c22 = b2 * b2;
            s00 += c00; s01 += c01; s02 += c02; s11 += c11; s12 += c12; s22 += c22;
            x00 += c00 * xd; x01 += c01 * xd; x02 += c02 * xd; x11 += c11 * xd; x12 += c12 * xd; x22 += c22 * xd;
            y00 += c00 * xx; y01 += c01 * xx; y02 += c02 * xx; y11 += c11 * xx; y12 += c12 * xx; y22 += c22 * xx;
        }
        double r[18] = {s00, s01, s02, s11, s12, s22, x00, x01, x02, x11, x12, x22, y00, y01, y02, y11, y12, y22};
        for (int k = 0; k < 18; k++) out[k] = r[k];
    }
    {
#pragma clang fp reassociate(on)
        double i0 = 0, i1 = 0, i2 = 0, t0 = 0, t1 = 0, t2 = 0;
        double j0 = 0, j1 = 0, j2 = 0, u0 = 0, u1 = 0, u2 = 0, corr = 0;
        for (int x = 0; x < w; x++) {
            double b0 = a0[x], b1 = a1[x], b2 = a2[x], xd = (double)x, di = im[x], dt = tm[x];
            double e0 = b0 * di, e1 = b1 * di, e2 = b2 * di, f0 = b0 * dt, f1 = b1 * dt, f2 = b2 * dt;
            i0 += e0; i1 += e1; i2 += e2; t0 += f0; t1 += f1; t2 += f2;
            j0 += e0 * xd; j1 += e1 * xd; j2 += e2 * xd; u0 += f0 * xd; u1 += f1 * xd; u2 += f2 * xd;
            corr += dt * di;
        }
        double r[13] = {i0, i1, i2, t0, t1, t2, j0, j1, j2, u0, u1, u2, corr};
        for (int k = 0; k < 13; k++) out[18 + k] = r[k];
    }
}
