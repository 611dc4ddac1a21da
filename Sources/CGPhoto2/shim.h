// gphoto2.h does not pull in the version headers; include them so callers can report the library version.
#include <gphoto2/gphoto2.h>
#include <gphoto2/gphoto2-version.h>
#include <gphoto2/gphoto2-port-version.h>
#include <gphoto2/gphoto2-port-result.h>
