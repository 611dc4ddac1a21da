// The instruction set of the ESPER TriggerBox (firmware 1.2, "Serial Instruction Set"), the subset rigctl uses, as
// a plain C++ class with no Arduino dependency: triggerbox.ino runs it on the board, and host/host_box.cpp runs the
// same code on a pseudo-terminal so that rigctl's tests drive it exactly as they drive a box.
//
// Instructions are ASCII lines ending in a newline (a carriage return before it is ignored):
//   S         fire the enabled shutter outputs (not acknowledged)
//   F1 / F0   close / open the enabled focus outputs
//   fXXXXXX   focus enable array, 1 to 6 digits 0/1 (missing ones off)      -> tenFour
//   sXXXXXX   shutter enable array                                           -> tenFour
//   bNNNN     bulb time, 0 to 30000 ms (0: a short pulse)                    -> tenFour
//   B V G N M read back bulb time, focus array, shutter array, name, mode    -> BulbTime:[N] FocusArray:[EN DIS ...]
//                                                                               ShutterArray:[...] BoxName:[...] Mode:[ 0 ]
// Anything else is ignored, as the ESPER firmware ignores what it does not know.
#ifndef TRIGGERBOX_CORE_H
#define TRIGGERBOX_CORE_H

class TriggerBoxCore {
public:
    static const int outputs = 6;
    static const unsigned long maximumBulb = 30000;
    // Shutter pulse when the bulb time is 0: long enough for any body's release input to see it.
    static const unsigned long shortPulse = 100;

    // What the board does: close or open one output's focus or shutter line, wait, and send text.
    struct Hardware {
        void (*setLine)(void *context, int output, bool shutter, bool closed);
        void (*wait)(void *context, unsigned long milliseconds);
        void (*send)(void *context, const char *text);
        void *context;
    };

    TriggerBoxCore(const Hardware &hardware, const char *name) : hw(hardware), boxName(name), length(0), overflow(false),
                                                                 bulb(0) {
        for (int i = 0; i < outputs; i++) { focus[i] = i < 2; shutter[i] = i < 2; }
    }

    // Feeds one received byte; a complete line is acted on at once.
    void receive(char c) {
        if (c == '\n') {
            if (!overflow) { line[length] = 0; act(); }
            length = 0;
            overflow = false;
            return;
        }
        if (c == '\r') return;
        if (length + 1 >= (int)sizeof(line)) { overflow = true; return; }
        line[length++] = c;
    }

private:
    Hardware hw;
    const char *boxName;
    char line[24];
    int length;
    bool overflow;
    bool focus[outputs];
    bool shutter[outputs];
    unsigned long bulb;

    void send(const char *text) { hw.send(hw.context, text); }

    // "101" -> enable array; false when the text is not 1 to 6 digits 0/1.
    bool flags(const char *text, bool *target) {
        int n = 0;
        while (text[n]) {
            if ((text[n] != '0' && text[n] != '1') || n >= outputs) return false;
            n++;
        }
        if (n == 0) return false;
        for (int i = 0; i < outputs; i++) target[i] = i < n && text[i] == '1';
        return true;
    }

    void array(const char *key, const bool *values) {
        send(key);
        send(":[");
        for (int i = 0; i < outputs; i++) send(values[i] ? "EN " : "DIS ");
        send("]\r\n");
    }

    void number(const char *key, unsigned long value, bool padded) {
        char digits[12];
        int n = 0;
        do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value > 0);
        char text[14];
        int k = 0;
        if (padded) text[k++] = ' ';
        while (n > 0) text[k++] = digits[--n];
        if (padded) text[k++] = ' ';
        text[k] = 0;
        send(key);
        send(":[");
        send(text);
        send("]\r\n");
    }

    void lines(const bool *enabled, bool isShutter, bool closed) {
        for (int i = 0; i < outputs; i++) {
            if (enabled[i]) hw.setLine(hw.context, i + 1, isShutter, closed);
        }
    }

    void act() {
        const char *rest = line + 1;
        switch (line[0]) {
        case 'S':
            if (*rest) return;
            lines(shutter, true, true);
            hw.wait(hw.context, bulb > 0 ? bulb : shortPulse);
            lines(shutter, true, false);
            return;
        case 'F':
            if (rest[0] != '0' && rest[0] != '1') return;
            if (rest[1]) return;
            lines(focus, false, rest[0] == '1');
            send("tenFour\r\n");
            return;
        case 'f':
            if (flags(rest, focus)) send("tenFour\r\n");
            return;
        case 's':
            if (flags(rest, shutter)) send("tenFour\r\n");
            return;
        case 'b': {
            unsigned long value = 0;
            int n = 0;
            for (; rest[n]; n++) {
                if (rest[n] < '0' || rest[n] > '9' || n >= 5) return;
                value = value * 10 + (unsigned long)(rest[n] - '0');
            }
            if (n == 0 || value > maximumBulb) return;
            bulb = value;
            send("tenFour\r\n");
            return;
        }
        case 'B': if (!*rest) number("BulbTime", bulb, false); return;
        case 'V': if (!*rest) array("FocusArray", focus); return;
        case 'G': if (!*rest) array("ShutterArray", shutter); return;
        case 'N':
            if (*rest) return;
            send("BoxName:[");
            send(boxName);
            send("]\r\n");
            return;
        case 'M': if (!*rest) number("Mode", 0, true); return;
        default: return;
        }
    }
};

#endif
