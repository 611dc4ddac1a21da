// The C allocator's policy for programs that run the networks (see ckernels.h).
#include "ckernels.h"

#include <limits.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ck_retain_freed_memory(void) {
#if defined(__GLIBC__)
    // No block from mmap (every block from the heap, where a freed one is reused), and the heap's top never
    // trimmed back: at 6000x4000 (tiled) this took system time from 40.8 s to 2.5 s, for 16 % more peak memory
    // (the freed blocks stay the process's until it exits). One arena for every thread: a thread's own arena
    // takes a block too large for it from mmap whatever M_MMAP_MAX says, and the pipeline deblurs on its own
    // thread. (Threads that allocated before this call keep their arenas.)
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1 && mallopt(M_ARENA_MAX, 1) == 1;
#else
    return 0;
#endif
}

long long ck_allocator_free_bytes(void) {
#if defined(__GLIBC__)
    return (long long)mallinfo2().fordblks;
#else
    return -1;
#endif
}
