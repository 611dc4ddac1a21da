#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

unsigned ck_cpu_features(void) {
    unsigned a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & (1u << 0)) flags |= CK_SSE3;
    int osxsave = (c & (1u << 27)) != 0;
    int avx = (c & (1u << 28)) != 0, fma = (c & (1u << 12)) != 0;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    // The OS saves XMM and YMM state (bits 1, 2); for AVX-512 also opmask, ZMM0-15 high and ZMM16-31 (bits 5-7).
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0;
    if (avx && ymm) flags |= CK_AVX;
    if (fma && ymm) flags |= CK_FMA;
    unsigned maxLeaf = __get_cpuid_max(0, 0);
    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if ((b & (1u << 5)) && ymm) flags |= CK_AVX2;
        if (zmm) {
            if (b & (1u << 16)) flags |= CK_AVX512F;
            if (b & (1u << 17)) flags |= CK_AVX512DQ;
            if (b & (1u << 30)) flags |= CK_AVX512BW;
            if (b & (1u << 31)) flags |= CK_AVX512VL;
        }
    }
    return flags;
}

void ck_cpu_vendor(char *buf) {
    unsigned a, b, c, d;
    memset(buf, 0, 13);
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(buf, &b, 4);
    memcpy(buf + 4, &d, 4);
    memcpy(buf + 8, &c, 4);
}
#else
unsigned ck_cpu_features(void) { return 0; }
void ck_cpu_vendor(char *buf) { memset(buf, 0, 13); }
#endif
