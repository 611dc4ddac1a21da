#include "ckernels.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// OpenBLAS picks its kernels in its library constructor, from the CPU model; a model it does not know (a new CPU,
// or a VM that hides it) gets its slowest, SSE3 kernels. The constructor honours OPENBLAS_CORETYPE, so the library
// is loaded here, after the core has been chosen from the CPU's features, instead of being linked.

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*string_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *requested;
static int status = -1;
static char error[512];
static sgemm_fn sgemm;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static string_fn corename, config;

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

static void load(void) {
    static const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    const char *preset = getenv("OPENBLAS_CORETYPE");
    int setHere = requested != NULL && (preset == NULL || preset[0] == 0);
    if (setHere) setenv("OPENBLAS_CORETYPE", requested, 1);
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && lib == NULL; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    // Child processes must not inherit the choice.
    if (setHere) unsetenv("OPENBLAS_CORETYPE");
    if (lib == NULL) {
        snprintf(error, sizeof error, "cannot load OpenBLAS (libopenblas.so.0, Debian package libopenblas0): %s", dlerror());
        return;
    }
    sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
    corename = (string_fn)dlsym(lib, "openblas_get_corename");
    config = (string_fn)dlsym(lib, "openblas_get_config");
    if (!sgemm || !set_threads || !get_threads || !corename || !config) {
        snprintf(error, sizeof error, "the loaded OpenBLAS lacks cblas_sgemm or the openblas_* functions");
        return;
    }
    status = 0;
}

int ck_blas_load(const char *coretype) {
    requested = coretype;
    pthread_once(&once, load);
    return status;
}

const char *ck_blas_error(void) { return error; }
const char *ck_blas_corename(void) { return status == 0 ? corename() : "none"; }
const char *ck_blas_config(void) { return status == 0 ? config() : "none"; }
void ck_blas_set_threads(int threads) { if (status == 0) set_threads(threads); }
int ck_blas_threads(void) { return status == 0 ? get_threads() : 0; }

void ck_sgemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc) {
    sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
