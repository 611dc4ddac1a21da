#define _GNU_SOURCE
#include "descriptor_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int guarded;
static int (*next_close)(int);

/// Resolved before main, so that close() never has to call into the dynamic linker on first use (dlsym may take
/// locks or allocate, which a close() from a signal-safe context must not). RTLD_NEXT keeps the sanitizers'
/// interceptors and libc's cancellation handling in the chain.
__attribute__((constructor)) static void resolve_next_close(void) {
    next_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

/// Every close() in the process that is bound through the dynamic linker - libgphoto2's camlibs are - comes here.
int close(int fd) {
    if (fd == 0 && atomic_load_explicit(&guarded, memory_order_acquire)) return 0;
    if (!next_close) resolve_next_close();
    if (!next_close) {
        errno = ENOSYS;
        return -1;
    }
    return next_close(fd);
}

int rigctl_guard_descriptor_zero(void) {
    if (fcntl(0, F_GETFD) == -1) {
        // Not close-on-exec: child processes get a harmless standard input too.
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0) return -1;
        // Something else took 0 first (another thread won the race): that owner keeps it, and the guard keeps it
        // for that owner.
        if (fd != 0 && next_close) next_close(fd);
    }
    atomic_store_explicit(&guarded, 1, memory_order_release);
    return 0;
}

int rigctl_descriptor_zero_guarded(void) {
    return atomic_load_explicit(&guarded, memory_order_acquire);
}

int rigctl_close_like_a_library(int fd) {
    int (*through_linker)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "close");
    return through_linker ? through_linker(fd) : -1;
}
