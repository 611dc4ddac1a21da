// The SSIM map's body, included by ssim.c once per instruction set with CK_NAME, CK_TARGET and CK_SSIM_V (the doubles
// in one vector register of that instruction set) set. (No include guard: meant to be included several times.)

typedef double CK_NAME(vec) __attribute__((vector_size(8 * CK_SSIM_V)));

CK_TARGET static inline CK_NAME(vec) CK_NAME(load)(const double *p) {
    CK_NAME(vec) v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

CK_TARGET static inline void CK_NAME(store)(double *p, CK_NAME(vec) v) { __builtin_memcpy(p, &v, sizeof v); }

CK_TARGET static void CK_NAME(ssim_rows)(const double *x, const double *y, int w, const double *win, int k,
                                         double cov, double c1, double c2, const double *mask, int oy0, int oy1,
                                         double *scratch, double *out) {
    typedef CK_NAME(vec) vec;
    const int S = CK_SSIM_STRIP, V = CK_SSIM_V, L = CK_SSIM_STRIP + k;
    const int ow = w - k + 1, rows = oy1 - oy0 + k - 1;
    double *ring = scratch, *src = ring + (size_t)5 * k * S, *val = src + (size_t)5 * L;
    const double *slot[k];
    double total = 0, weight = 0;
    for (int ox0 = 0; ox0 < ow; ox0 += S) {
        // sw output columns, rounded up to whole vectors (the padding columns read zeros and are not summed).
        const int sw = ow - ox0 < S ? ow - ox0 : S, swp = (sw + V - 1) / V * V, iw = sw + k - 1, iwp = swp + k - 1;
        for (int r = 0; r < rows; r++) {
            // The input row's strip and its three products, zero-padded, then the horizontal pass of the five into
            // ring slot r % k, each sum held in registers over the k taps.
            const double *px = x + (size_t)(oy0 + r) * w + ox0, *py = y + (size_t)(oy0 + r) * w + ox0;
            double *sx = src, *sy = src + L, *sxx = src + 2 * L, *syy = src + 3 * L, *sxy = src + 4 * L;
            for (int i = 0; i < iw; i++) {
                double a = px[i], b = py[i];
                sx[i] = a;
                sy[i] = b;
                sxx[i] = a * a;
                syy[i] = b * b;
                sxy[i] = a * b;
            }
            for (int i = iw; i < iwp; i++) sx[i] = sy[i] = sxx[i] = syy[i] = sxy[i] = 0;
            double *h = ring + (size_t)(r % k) * 5 * S;
            for (int o = 0; o < swp; o += V) {
                vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0};
                for (int t = 0; t < k; t++) {
                    const double wt = win[t];
                    a0 += wt * CK_NAME(load)(sx + o + t);
                    a1 += wt * CK_NAME(load)(sy + o + t);
                    a2 += wt * CK_NAME(load)(sxx + o + t);
                    a3 += wt * CK_NAME(load)(syy + o + t);
                    a4 += wt * CK_NAME(load)(sxy + o + t);
                }
                CK_NAME(store)(h + o, a0);
                CK_NAME(store)(h + S + o, a1);
                CK_NAME(store)(h + 2 * S + o, a2);
                CK_NAME(store)(h + 3 * S + o, a3);
                CK_NAME(store)(h + 4 * S + o, a4);
            }
            if (r < k - 1) continue;
            // Output row oy0 + oy: the vertical pass over the slots of input rows oy .. oy + k - 1, then the map.
            const int oy = r - (k - 1);
            for (int t = 0; t < k; t++) slot[t] = ring + (size_t)((oy + t) % k) * 5 * S;
            for (int o = 0; o < swp; o += V) {
                vec ux = {0}, uy = {0}, uxx = {0}, uyy = {0}, uxy = {0};
                for (int t = 0; t < k; t++) {
                    const double wt = win[t], *s = slot[t] + o;
                    ux += wt * CK_NAME(load)(s);
                    uy += wt * CK_NAME(load)(s + S);
                    uxx += wt * CK_NAME(load)(s + 2 * S);
                    uyy += wt * CK_NAME(load)(s + 3 * S);
                    uxy += wt * CK_NAME(load)(s + 4 * S);
                }
                vec vx = cov * (uxx - ux * ux), vy = cov * (uyy - uy * uy), vxy = cov * (uxy - ux * uy);
                CK_NAME(store)(val + o, (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2)));
            }
            {
                // Reassociated so the sums stay in vector registers (the order is fixed per instruction set).
#pragma clang fp reassociate(on)
                if (mask) {
                    const double *m = mask + (size_t)(oy0 + oy + k / 2) * w + ox0 + k / 2;
                    for (int o = 0; o < sw; o++) {
                        total += val[o] * m[o];
                        weight += m[o];
                    }
                } else {
                    for (int o = 0; o < sw; o++) total += val[o];
                }
            }
        }
    }
    out[0] = total;
    out[1] = weight;
}
