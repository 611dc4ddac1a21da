// The reentrant build of libraw (libraw_r): each decoder owns its own libraw_data_t.
#include <libraw/libraw.h>
