#define _GNU_SOURCE
#include "raw_child.h"

#include <errno.h>
#include <fcntl.h>
#include <libraw/libraw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RC_RAW_MAGIC 0x52574331u  // "RWC1"
#define RC_CHILD_VARIABLE "RIGCTL_LIBRAW_CHILD"
#define RC_CHILD_INPUT 3
#define RC_CHILD_OUTPUT 4

static int write_all(int fd, const void *bytes, size_t size) {
    const char *p = bytes;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static void copy_text(char *to, const char *from) {
    memcpy(to, from, 64);
    to[63] = 0;
}

static void count_data_error(void *context, const char *file, const int offset) {
    (void)file;
    (void)offset;
    ++*(int *)context;
}

/// The child's whole life: input on descriptor 3, answer on descriptor 4, exit status 0 when it answered.
static int child_main(const char *request) {
    int decode = 0, demosaic = 3;
    float adjust = 0.75f;
    unsigned long long max_pixels = 0;
    if (sscanf(request, "%d %d %f %llu", &decode, &demosaic, &adjust, &max_pixels) != 4) return 90;
    struct stat st;
    if (fstat(RC_CHILD_INPUT, &st) != 0 || st.st_size <= 0) return 91;
    size_t size = (size_t)st.st_size;
    // Private and writable: libraw's buffer API takes a non-const pointer.
    void *input = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, RC_CHILD_INPUT, 0);
    if (input == MAP_FAILED) return 92;

    rc_raw_result r;
    memset(&r, 0, sizeof r);
    r.magic = RC_RAW_MAGIC;
    libraw_processed_image_t *image = NULL;
    int data_errors = 0;
    libraw_data_t *h = libraw_init(0);
    if (!h) {
        r.stage = RC_RAW_NO_MEMORY;
        goto answer;
    }
    libraw_set_dataerror_handler(h, count_data_error, &data_errors);
    int rc = libraw_open_buffer(h, input, size);
    if (rc != LIBRAW_SUCCESS) {
        r.stage = RC_RAW_OPENING;
        r.code = rc;
        goto answer;
    }
    copy_text(r.make, h->idata.make);
    copy_text(r.model, h->idata.model);
    copy_text(r.serial, h->shootinginfo.BodySerial);
    r.aperture = h->other.aperture;
    r.shutter = h->other.shutter;
    r.iso = h->other.iso_speed;
    r.focal_length = h->other.focal_len;
    r.timestamp = (int64_t)h->other.timestamp;
    if (!decode) goto answer;
    // Before anything is unpacked: a crafted header can declare a frame that would take gigabytes.
    if ((uint64_t)h->sizes.width * h->sizes.height > max_pixels) {
        r.stage = RC_RAW_TOO_LARGE;
        r.width = h->sizes.width;
        r.height = h->sizes.height;
        goto answer;
    }

    // dcraw_emu -w -W -T -g 1 1 -q N -4: camera white balance, no auto-brightness, linear, 16-bit, sRGB primaries.
    h->params.use_camera_wb = 1;
    h->params.no_auto_bright = 1;
    h->params.output_bps = 16;
    h->params.output_color = 1;
    h->params.user_qual = demosaic;
    h->params.gamm[0] = 1;
    h->params.gamm[1] = 1;
    h->params.adjust_maximum_thr = adjust;
    if ((rc = libraw_unpack(h)) != LIBRAW_SUCCESS) {
        r.stage = RC_RAW_UNPACKING;
        r.code = rc;
        goto answer;
    }
    if (data_errors > 0) {
        r.stage = RC_RAW_DATA_ERRORS;
        goto answer;
    }
    if ((rc = libraw_dcraw_process(h)) != LIBRAW_SUCCESS) {
        r.stage = RC_RAW_PROCESSING;
        r.code = rc;
        goto answer;
    }
    if (data_errors > 0) {
        r.stage = RC_RAW_DATA_ERRORS;
        goto answer;
    }
    int err = 0;
    image = libraw_dcraw_make_mem_image(h, &err);
    if (!image) {
        r.stage = RC_RAW_RENDERING;
        r.code = err;
        goto answer;
    }
    r.colors = image->colors;
    r.bits = image->bits;
    r.width = image->width;
    r.height = image->height;
    if (image->type != LIBRAW_IMAGE_BITMAP || image->colors != 3 || image->bits != 16 || image->width == 0 ||
        image->height == 0) {
        r.stage = RC_RAW_UNEXPECTED_OUTPUT;
        goto answer;
    }
    r.pixel_bytes = (uint64_t)image->width * image->height * 3 * sizeof(uint16_t);

answer:
    if (write_all(RC_CHILD_OUTPUT, &r, sizeof r) != 0) return 93;
    if (r.pixel_bytes > 0 && write_all(RC_CHILD_OUTPUT, image->data, (size_t)r.pixel_bytes) != 0) return 93;
    return 0;
}

/// Runs before main in every executable that links this target; returns at once unless this process is a child.
__attribute__((constructor)) static void rc_raw_child_entry(void) {
    const char *request = getenv(RC_CHILD_VARIABLE);
    if (request == NULL) return;
    _exit(child_main(request));
}

static void say(char *error, size_t error_size, const char *what) {
    if (error && error_size > 0) snprintf(error, error_size, "%s: %s", what, strerror(errno));
}

/// A close-on-exec descriptor numbered above the child's 3 and 4, so that dup2 onto them always clears the flag.
static int high_memfd(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    int saved = errno;
    close(fd);
    errno = saved;
    return high;
}

static int has_prefix(const char *entry, const char *prefix) { return strncmp(entry, prefix, strlen(prefix)) == 0; }

int rc_raw_run(const void *data, size_t size, int decode, int demosaic, float adjust_maximum_thr, uint64_t max_pixels,
               rc_raw_output *output, char *error, size_t error_size) {
    memset(output, 0, sizeof *output);
    int in = high_memfd("rigctl-raw-input");
    if (in < 0) {
        say(error, error_size, "memfd_create");
        return -1;
    }
    int out = high_memfd("rigctl-raw-output");
    if (out < 0) {
        say(error, error_size, "memfd_create");
        close(in);
        return -1;
    }
    int result = -1;
    char request[96];
    snprintf(request, sizeof request, RC_CHILD_VARIABLE "=%d %d %.9g %llu", decode ? 1 : 0, demosaic, (double)adjust_maximum_thr,
             (unsigned long long)max_pixels);
    size_t count = 0;
    while (environ && environ[count]) count++;
    char **env = calloc(count + 4, sizeof(char *));
    if (!env) {
        say(error, error_size, "calloc");
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *e = environ[i];
        if (has_prefix(e, RC_CHILD_VARIABLE "=") || has_prefix(e, "SWIFT_BACKTRACE=") || has_prefix(e, "LIBC_FATAL_STDERR_="))
            continue;
        env[n++] = (char *)e;
    }
    env[n++] = request;
    // A crash in the child is reported by the parent; no backtrace or glibc banner on the user's terminal.
    env[n++] = "SWIFT_BACKTRACE=enable=no";
    env[n++] = "LIBC_FATAL_STDERR_=1";
    env[n] = NULL;

    if (write_all(in, data, size) != 0) {
        say(error, error_size, "writing the RAW file for the decoder");
        goto done;
    }
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0) {
        say(error, error_size, "posix_spawn_file_actions_init");
        goto done;
    }
    posix_spawn_file_actions_adddup2(&actions, in, RC_CHILD_INPUT);
    posix_spawn_file_actions_adddup2(&actions, out, RC_CHILD_OUTPUT);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, RC_CHILD_OUTPUT + 1);
    char *argv[] = {"rigctl-libraw-child", NULL};
    pid_t pid;
    int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        errno = spawned;
        say(error, error_size, "starting the RAW decoder process");
        goto done;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            say(error, error_size, "waiting for the RAW decoder process");
            goto done;
        }
    }
    result = 1;
    output->status = status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) goto done;
    output->status = 0;
    struct stat st;
    if (fstat(out, &st) != 0 || (size_t)st.st_size < sizeof(rc_raw_result)) goto done;
    size_t answer = (size_t)st.st_size;
    void *mapping = mmap(NULL, answer, PROT_READ, MAP_PRIVATE, out, 0);
    if (mapping == MAP_FAILED) goto done;
    memcpy(&output->result, mapping, sizeof(rc_raw_result));
    const rc_raw_result *r = &output->result;
    uint64_t expected = (uint64_t)r->width * r->height * 3 * sizeof(uint16_t);
    if (r->magic != RC_RAW_MAGIC || answer != sizeof(rc_raw_result) + r->pixel_bytes ||
        (r->pixel_bytes != 0 && r->pixel_bytes != expected)) {
        munmap(mapping, answer);
        memset(&output->result, 0, sizeof(rc_raw_result));
        goto done;
    }
    output->mapping = mapping;
    output->mapping_size = answer;
    output->pixels = r->pixel_bytes ? (const uint16_t *)((const char *)mapping + sizeof(rc_raw_result)) : NULL;
    result = 0;

done:
    free(env);
    close(in);
    close(out);
    return result;
}

void rc_raw_release(rc_raw_output *output) {
    if (output->mapping) munmap(output->mapping, output->mapping_size);
    output->mapping = NULL;
    output->pixels = NULL;
}
