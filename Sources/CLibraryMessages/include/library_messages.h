#ifndef RIGCTL_LIBRARY_MESSAGES_H
#define RIGCTL_LIBRARY_MESSAGES_H

/// libgphoto2's PTP/IP driver reports socket failures with perror(), straight onto standard error
/// ("connect cmd: Connection refused", "sendreq/write to cmdfd: Broken pipe"), beside rigctl's own one-line
/// error. Once routed, every perror() in the process goes instead into libgphoto2's own log (which `--verbose FILE`
/// writes; dropped otherwise) and is kept as the calling thread's last library message, so that the error rigctl
/// reports can say in words what the socket said.
void rigctl_route_library_perror(void);

/// Copies the calling thread's last routed perror() line into `buffer` (NUL-terminated, cut to `size`) and forgets
/// it; returns its length, 0 when there is none.
int rigctl_take_library_message(char *buffer, int size);

/// Calls perror() through the dynamic linker, as a shared library does, so that tests can check the routing.
void rigctl_perror_like_a_library(const char *text);

#endif
