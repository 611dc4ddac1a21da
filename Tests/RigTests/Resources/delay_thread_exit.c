// LD_PRELOAD shim for the thread-lifetime regression test: every thread's start routine sleeps 10 ms after it
// returns, before the thread's exit teardown runs. That widens the window in which a thread's creator gets ahead
// of the dying thread - which is when an object released by the thread's teardown (rather than by its start
// routine) corrupts the heap.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct start {
    void *(*routine)(void *);
    void *argument;
};

static void *delayed(void *raw) {
    struct start start = *(struct start *)raw;
    free(raw);
    void *result = start.routine(start.argument);
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return result;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*routine)(void *), void *argument) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(RTLD_NEXT, "pthread_create");
    struct start *start = malloc(sizeof *start);
    if (!start) return EAGAIN;
    start->routine = routine;
    start->argument = argument;
    int status = real(thread, attributes, delayed, start);
    if (status != 0) free(start);
    return status;
}
