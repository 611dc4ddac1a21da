#ifndef RIGCTL_PSEUDO_TERMINAL_H
#define RIGCTL_PSEUDO_TERMINAL_H
#include <stddef.h>

/// Opens a pseudo-terminal's controlling side (close-on-exec, non-blocking) and writes its terminal's path into
/// `path` (`size` bytes). Returns the descriptor, or -1 with errno set. (posix_openpt and friends need feature
/// macros Swift's Glibc module does not define.)
int rig_open_pseudo_terminal(char *path, size_t size);

#endif
