#ifndef RIGCTL_DESCRIPTOR_GUARD_H
#define RIGCTL_DESCRIPTOR_GUARD_H

/// Makes descriptor 0 permanent for the rest of the process: opens /dev/null on it when it is free, and from
/// then on a close(0) from any library is ignored (returns 0). Returns 0, or -1 with errno set.
///
/// Why: libgphoto2 2.5.30 closes descriptor 0 every time it disconnects a PTP/IP camera. Re-occupying 0 after the
/// fact leaves a window in which another thread's open() receives 0 and loses it to the next disconnect; refusing
/// the close leaves no window at all.
int rigctl_guard_descriptor_zero(void);

/// 1 once rigctl_guard_descriptor_zero() has succeeded.
int rigctl_descriptor_zero_guarded(void);

/// Calls close() through the dynamic linker, the way a shared library such as libgphoto2's camlibs does, so that
/// tests can check that the guard catches it.
int rigctl_close_like_a_library(int fd);

#endif
