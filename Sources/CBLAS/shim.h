// OpenBLAS's cblas.h (Debian alternatives) also declares openblas_set_num_threads.
#include <cblas.h>
