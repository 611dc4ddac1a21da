#define _GNU_SOURCE
#include "library_messages.h"

#include <dlfcn.h>
#include <errno.h>
#include <gphoto2/gphoto2-port-log.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int routed;
static void (*next_perror)(const char *);
static _Thread_local char last[512];

/// Resolved before main: perror may run where the dynamic linker must not be entered (see descriptor_guard.c).
__attribute__((constructor)) static void resolve_next_perror(void) {
    next_perror = (void (*)(const char *))dlsym(RTLD_NEXT, "perror");
}

void rigctl_route_library_perror(void) { atomic_store(&routed, 1); }

/// The process's perror (exported from the executable, so libgphoto2's camlibs bind to it).
void perror(const char *text) {
    int saved = errno;
    if (!atomic_load(&routed)) {
        if (next_perror) next_perror(text);
        errno = saved;
        return;
    }
    char reason[256];
    const char *words = strerror_r(saved, reason, sizeof reason);
    if (text && *text) {
        snprintf(last, sizeof last, "%s: %s", text, words);
    } else {
        snprintf(last, sizeof last, "%s", words);
    }
    gp_log(GP_LOG_ERROR, "perror", "%s", last);
    errno = saved;
}

int rigctl_take_library_message(char *buffer, int size) {
    if (size <= 0) return 0;
    int length = (int)strnlen(last, sizeof last);
    if (length >= size) length = size - 1;
    memcpy(buffer, last, (size_t)length);
    buffer[length] = 0;
    last[0] = 0;
    return length;
}

void rigctl_perror_like_a_library(const char *text) {
    void (*through_linker)(const char *) = (void (*)(const char *))dlsym(RTLD_DEFAULT, "perror");
    through_linker(text);
}
