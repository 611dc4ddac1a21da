#include "codec_shims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

#define RC_JPEG_MAX_PIXELS (400u * 1000u * 1000u)

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *error;
    size_t error_size;
} rc_jpeg_error;

static void rc_jpeg_fail(j_common_ptr cinfo) {
    rc_jpeg_error *err = (rc_jpeg_error *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    snprintf(err->error, err->error_size, "%s", message);
    longjmp(err->jump, 1);
}

// libjpeg reports corrupt entropy data as a warning (level -1) and carries on with grey blocks; a
// dataset tool must not accept such an image, so warnings end the decode.
static void rc_jpeg_message(j_common_ptr cinfo, int level) {
    if (level < 0) rc_jpeg_fail(cinfo);
}

int rc_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                   int *channels, uint8_t **pixels, char *error, size_t error_size) {
    struct jpeg_decompress_struct cinfo;
    rc_jpeg_error err;
    uint8_t *volatile buffer = NULL;

    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8) {
        snprintf(error, error_size, "not a JPEG file (bad signature)");
        return 1;
    }
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = rc_jpeg_fail;
    err.base.emit_message = rc_jpeg_message;
    err.error = error;
    err.error_size = error_size;
    if (setjmp(err.jump)) {
        free(buffer);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(error, error_size, "CMYK JPEG is not supported");
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        *width = cinfo.image_width;
        *height = cinfo.image_height;
        snprintf(error, error_size, "over the pixel limit");
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if ((uint64_t)cinfo.output_width * cinfo.output_height > RC_JPEG_MAX_PIXELS) {
        snprintf(error, error_size, "image dimensions are too large");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    size_t row_bytes = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    buffer = (uint8_t *)malloc(row_bytes * cinfo.output_height);
    if (!buffer) {
        snprintf(error, error_size, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buffer + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    *width = cinfo.output_width;
    *height = cinfo.output_height;
    *channels = cinfo.output_components;
    *pixels = buffer;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int rc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    struct jpeg_compress_struct cinfo;
    rc_jpeg_error err;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;

    if ((channels != 1 && channels != 3) || width == 0 || height == 0) {
        snprintf(error, error_size, "JPEG needs 1 or 3 channels and a non-empty image");
        return 1;
    }
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = rc_jpeg_fail;
    err.base.emit_message = rc_jpeg_message;
    err.error = error;
    err.error_size = error_size;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *target = NULL;
    jpeg_mem_dest(&cinfo, &target, &buffer_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * row_bytes);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = target;
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = buffer_size;
    return 0;
}
