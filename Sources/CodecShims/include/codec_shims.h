#ifndef RIGCTL_CODEC_SHIMS_H
#define RIGCTL_CODEC_SHIMS_H

// libpng and libjpeg report fatal errors by longjmp, which Swift cannot catch; these wrappers keep the
// setjmp on the C side and turn every failure into a return code plus a message.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes a PNG held in memory. On success returns 0 and sets *pixels to a malloc'd interleaved buffer of
/// width*height*channels samples (1 byte each for bit_depth 8, host-order uint16 for 16); free it with rc_free.
/// Palette and low-bit-depth images are expanded to 8 bits; tRNS becomes an alpha channel.
/// Images of more than max_pixels pixels are refused before any pixel memory is allocated: the function returns 3
/// with *width and *height set.
int rc_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                  int *channels, int *bit_depth, void **pixels, char *error, size_t error_size);

/// Encodes interleaved samples (1-4 channels, 8 or host-order 16 bit) to PNG in memory.
int rc_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
                  int compression_level, uint8_t **out, size_t *out_size, char *error, size_t error_size);

/// Decodes a baseline or progressive JPEG to 8-bit RGB (3 channels) or grey (1 channel). Corrupt-data
/// warnings are treated as errors.
/// Returns 3 (with *width and *height set) for images of more than max_pixels pixels, before decoding.
int rc_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                   int *channels, uint8_t **pixels, char *error, size_t error_size);

/// Encodes 8-bit RGB or grey to JPEG at the given quality (1-100).
int rc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_size);

void rc_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
