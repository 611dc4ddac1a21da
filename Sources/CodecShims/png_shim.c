#include "codec_shims.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Refuse images whose decoded size would be absurd before allocating anything.
#define RC_MAX_SIDE 100000u
#define RC_MAX_PIXELS (400u * 1000u * 1000u)

typedef struct {
    jmp_buf jump;
    char *error;
    size_t error_size;
} rc_png_state;

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} rc_png_reader;

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
} rc_png_writer;

static void rc_png_error(png_structp png, png_const_charp message) {
    rc_png_state *state = (rc_png_state *)png_get_error_ptr(png);
    snprintf(state->error, state->error_size, "%s", message);
    longjmp(state->jump, 1);
}

static void rc_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void rc_png_read(png_structp png, png_bytep out, png_size_t length) {
    rc_png_reader *reader = (rc_png_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->offset) {
        png_error(png, "file is truncated");
    }
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

static void rc_png_write(png_structp png, png_bytep in, png_size_t length) {
    rc_png_writer *writer = (rc_png_writer *)png_get_io_ptr(png);
    if (writer->size + length > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 65536;
        while (capacity < writer->size + length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(writer->data, capacity);
        if (!grown) {
            writer->failed = 1;
            png_error(png, "out of memory while encoding");
        }
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, in, length);
    writer->size += length;
}

static void rc_png_flush(png_structp png) { (void)png; }

static int rc_host_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

int rc_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                  int *channels, int *bit_depth, void **pixels, char *error, size_t error_size) {
    rc_png_state state;
    state.error = error;
    state.error_size = error_size;
    rc_png_reader reader = {data, size, 0};
    // volatile: these are changed between setjmp and a possible longjmp.
    uint8_t *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    png_structp png = NULL;
    png_infop info = NULL;

    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        snprintf(error, error_size, "not a PNG file (bad signature)");
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, rc_png_error, rc_png_warning);
    if (!png) {
        snprintf(error, error_size, "libpng could not be initialised");
        return 1;
    }
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(error, error_size, "libpng could not be initialised");
        return 1;
    }
    if (setjmp(state.jump)) {
        free(buffer);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, rc_png_read);
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_user_limits(png, RC_MAX_SIDE, RC_MAX_SIDE);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if ((uint64_t)w * (uint64_t)h > RC_MAX_PIXELS) {
        png_error(png, "image dimensions are too large");
    }
    if ((uint64_t)w * (uint64_t)h > max_pixels) {
        *width = w;
        *height = h;
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(error, error_size, "over the pixel limit");
        return 3;
    }
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16 && rc_host_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int out_channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (out_depth != 8 && out_depth != 16) png_error(png, "unsupported bit depth after expansion");
    if (row_bytes != (size_t)w * (size_t)out_channels * (size_t)(out_depth / 8)) {
        png_error(png, "unexpected row size");
    }
    buffer = (uint8_t *)malloc(row_bytes * h);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!buffer || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buffer + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *width = w;
    *height = h;
    *channels = out_channels;
    *bit_depth = out_depth;
    *pixels = buffer;
    return 0;
}

int rc_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
                  int compression_level, uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    rc_png_state state;
    state.error = error;
    state.error_size = error_size;
    rc_png_writer writer = {NULL, 0, 0, 0};
    png_bytep *volatile rows = NULL;
    png_structp png = NULL;
    png_infop info = NULL;

    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0) {
        snprintf(error, error_size, "cannot encode %dx%d with %d channels at %d bits", (int)width, (int)height,
                 channels, bit_depth);
        return 1;
    }
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, rc_png_error, rc_png_warning);
    if (!png) {
        snprintf(error, error_size, "libpng could not be initialised");
        return 1;
    }
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(error, error_size, "libpng could not be initialised");
        return 1;
    }
    if (setjmp(state.jump)) {
        free(rows);
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, &writer, rc_png_write, rc_png_flush);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, bit_depth, color_types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && rc_host_is_little_endian()) png_set_swap(png);
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!rows) png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)((const uint8_t *)pixels + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_size = writer.size;
    return 0;
}

void rc_free(void *pointer) { free(pointer); }
