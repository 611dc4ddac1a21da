#ifndef RIGCTL_RAW_CHILD_H
#define RIGCTL_RAW_CHILD_H

#include <stddef.h>
#include <stdint.h>

/// Where libraw stopped, as the child reports it.
enum {
    RC_RAW_OK = 0,
    RC_RAW_OPENING = 1,
    RC_RAW_UNPACKING = 2,
    RC_RAW_PROCESSING = 3,
    RC_RAW_RENDERING = 4,
    /// libraw's data-error callback fired (truncated or unreadable image data) while unpacking or processing.
    RC_RAW_DATA_ERRORS = 5,
    /// libraw rendered something other than 16-bit RGB.
    RC_RAW_UNEXPECTED_OUTPUT = 6,
    RC_RAW_NO_MEMORY = 7,
    /// The image is larger than the caller's pixel limit (result.width and height say how large); nothing was
    /// unpacked.
    RC_RAW_TOO_LARGE = 8,
};

/// What the child writes first on its output, followed by `pixel_bytes` of interleaved 16-bit RGB.
typedef struct {
    uint32_t magic;
    int32_t stage;
    /// libraw's return code at `stage`.
    int32_t code;
    int32_t colors;
    int32_t bits;
    uint32_t width;
    uint32_t height;
    char make[64];
    char model[64];
    char serial[64];
    float aperture;
    float shutter;
    float iso;
    float focal_length;
    int64_t timestamp;
    uint64_t pixel_bytes;
} rc_raw_result;

/// The child's answer, mapped read-only; release it with rc_raw_release.
typedef struct {
    rc_raw_result result;
    const uint16_t *pixels;
    void *mapping;
    size_t mapping_size;
    /// waitpid's status when the child did not finish normally.
    int status;
} rc_raw_output;

/// Runs libraw on `data` in a child process: the running executable, started again with RIGCTL_LIBRAW_CHILD set,
/// which does the work in a constructor before main and exits. libraw 0.20-0.21 has buffer overflows on crafted
/// files (fixed upstream only in 0.22), and one of them aborts the process; in a child it ends that child only.
/// `decode` 0 reads the metadata only. Returns 0 when the child answered (see result.stage), 1 when it died or
/// answered nonsense (status holds waitpid's status, or 0 for nonsense), -1 when it could not be started (error
/// holds why).
/// A decode of an image with more than `max_pixels` pixels stops before unpacking (RC_RAW_TOO_LARGE).
int rc_raw_run(const void *data, size_t size, int decode, int demosaic, float adjust_maximum_thr, uint64_t max_pixels,
               rc_raw_output *output, char *error, size_t error_size);

void rc_raw_release(rc_raw_output *output);

#endif
