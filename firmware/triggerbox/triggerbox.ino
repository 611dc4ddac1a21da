// A two-output trigger box for an Arduino Uno or Nano (ATmega328P) that speaks the ESPER TriggerBox instruction
// subset rigctl uses (TriggerBoxCore.h), so `rigctl capture` drives it as it drives an ESPER box. Wiring and
// flashing: firmware/README.md.
#include "TriggerBoxCore.h"

// Output 1 (shallow camera) and output 2 (deep camera): each drives two optocouplers, focus and shutter.
static const int focusPins[TriggerBoxCore::outputs] = {2, 4, -1, -1, -1, -1};
static const int shutterPins[TriggerBoxCore::outputs] = {3, 5, -1, -1, -1, -1};

static void setLine(void *, int output, bool shutter, bool closed) {
    int pin = (shutter ? shutterPins : focusPins)[output - 1];
    // The optocoupler's LED on closes the camera's line (through its transistor) to the jack's ground.
    if (pin >= 0) digitalWrite(pin, closed ? HIGH : LOW);
}

static void waitFor(void *, unsigned long milliseconds) { delay(milliseconds); }

static void sendText(void *, const char *text) { Serial.print(text); }

static TriggerBoxCore box(TriggerBoxCore::Hardware{setLine, waitFor, sendText, nullptr}, "rigctl Arduino TriggerBox");

void setup() {
    for (int i = 0; i < TriggerBoxCore::outputs; i++) {
        if (focusPins[i] >= 0) { pinMode(focusPins[i], OUTPUT); digitalWrite(focusPins[i], LOW); }
        if (shutterPins[i] >= 0) { pinMode(shutterPins[i], OUTPUT); digitalWrite(shutterPins[i], LOW); }
    }
    Serial.begin(115200);
}

void loop() {
    while (Serial.available() > 0) box.receive((char)Serial.read());
}
