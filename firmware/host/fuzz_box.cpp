// libFuzzer harness for the firmware's instruction handling (TriggerBoxCore.h): every byte of the input is fed to
// the core as the board's serial port would; the hardware callbacks check what the core does with it. Built and
// run by `script/fuzz firmware` (clang++ -fsanitize=fuzzer,address), which also checks its reads and writes.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "TriggerBoxCore.h"

namespace {
struct Checks {
    char reply[256];
    size_t length;
};

void setLine(void *, int output, bool, bool) {
    if (output < 1 || output > TriggerBoxCore::outputs) abort();  // a line the box does not have
}

void waitFor(void *, unsigned long milliseconds) {
    if (milliseconds > TriggerBoxCore::maximumBulb) abort();  // longer than any bulb time
}

// Every reply is printable ASCII lines ending in "\r\n", each shorter than rigctl's 120-character limit.
void sendText(void *context, const char *text) {
    Checks *checks = static_cast<Checks *>(context);
    for (const char *c = text; *c; c++) {
        if (*c == '\n') {
            if (checks->length == 0 || checks->reply[checks->length - 1] != '\r') abort();
            checks->length = 0;
            continue;
        }
        if (*c != '\r' && (*c < 0x20 || *c > 0x7e)) abort();
        if (checks->length + 1 >= 120) abort();
        checks->reply[checks->length++] = *c;
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Checks checks = {{0}, 0};
    TriggerBoxCore box(TriggerBoxCore::Hardware{setLine, waitFor, sendText, &checks}, "rigctl Arduino TriggerBox");
    for (size_t i = 0; i < size; i++) box.receive(static_cast<char>(data[i]));
    return 0;
}
