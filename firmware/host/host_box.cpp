// The firmware's instruction handling (TriggerBoxCore.h) run on the host: it opens a pseudo-terminal, prints the
// terminal's path on its first line of standard output, and answers there as the board answers on its USB serial
// port. Each line change is logged on standard output ("shutter 1 closed 12.345"), so a test can check what the
// outputs did. Built by rigctl's tests (RigTests/FirmwareTests) with the host's C++ compiler.
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "TriggerBoxCore.h"

static int master = -1;

static double now() {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void setLine(void *, int output, bool shutter, bool closed) {
    printf("%s %d %s %.6f\n", shutter ? "shutter" : "focus", output, closed ? "closed" : "open", now());
    fflush(stdout);
}

static void waitFor(void *, unsigned long milliseconds) { usleep((useconds_t)(milliseconds * 1000)); }

static void sendText(void *, const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(master, text, left);
        if (n > 0) { text += n; left -= (size_t)n; continue; }
        usleep(1000);
    }
}

int main() {
    signal(SIGPIPE, SIG_IGN);
    master = posix_openpt(O_RDWR | O_NOCTTY);
    char path[128];
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, path, sizeof path) != 0) {
        perror("host_box: pseudo-terminal");
        return 1;
    }
    printf("%s\n", path);
    fflush(stdout);
    TriggerBoxCore box(TriggerBoxCore::Hardware{setLine, waitFor, sendText, nullptr}, "rigctl Arduino TriggerBox");
    // Until standard input closes (the test ends it): the terminal's bytes go to the core.
    struct pollfd fds[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    char buffer[256];
    for (;;) {
        if (poll(fds, 2, 100) < 0) continue;
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(0, buffer, sizeof buffer);
            if (n <= 0) break;
        }
        if (fds[0].revents & POLLIN) {
            ssize_t n = read(master, buffer, sizeof buffer);
            for (ssize_t i = 0; i < n; i++) box.receive(buffer[i]);
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            usleep(10000);  // no client on the terminal yet, or it closed: wait for the next one
        }
    }
    return 0;
}
