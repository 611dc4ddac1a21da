import Foundation
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven through its DevTools protocol over `--remote-debugging-pipe`: the browser reads
/// NUL-terminated JSON commands on its descriptor 3 and writes replies and events on descriptor 4. No WebSocket,
/// no port, no extra package. A reader thread hands each reply to the command waiting for it; every wait has a
/// deadline, so a browser that hangs or dies fails the test instead of hanging the suite.
public final class DevTools: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// How long one protocol command or one awaited page condition may take before the test fails. Generous: the
    /// machines that run the suite are shared and slow; this only bounds a hang, it measures nothing.
    public static let deadline: Duration = .seconds(90)

    private let pid: pid_t
    private let toBrowser: Int32
    private let state = LockedValue(State())
    private let reader: LockedValue<JoinableThread?> = LockedValue(nil)

    private struct State {
        var nextID = 1
        var waiting: [Int: CheckedContinuation<Data, Error>] = [:]
        var closed: String?
    }

    /// Starts `chromium` headless with a fresh profile under `profile` and the given window size.
    public init(executable: String, profile: URL, windowSize: (Int, Int) = (1280, 900)) throws {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw Failure("pipe: errno \(errno)") }
        // The child's ends go to 3 and 4 by dup2 from copies above 4, so that neither is already 3 or 4 (dup2 onto
        // itself would keep close-on-exec) and the first dup2 cannot overwrite the second's source.
        let childRead = fcntl(toChild[0], F_DUPFD_CLOEXEC, 10), childWrite = fcntl(fromChild[1], F_DUPFD_CLOEXEC, 10)
        Glibc.close(toChild[0]); Glibc.close(fromChild[1])
        for fd in [toChild[1], fromChild[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { Glibc.close(childRead); Glibc.close(childWrite) }

        let arguments = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
                         "--remote-debugging-pipe", "--user-data-dir=\(profile.path)",
                         "--window-size=\(windowSize.0),\(windowSize.1)", "about:blank"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, childRead, 3)
        posix_spawn_file_actions_adddup2(&actions, childWrite, 4)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Its own process group, so a browser that hangs can be killed with every process it started.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            Glibc.close(toChild[1]); Glibc.close(fromChild[0])
            throw Failure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        toBrowser = toChild[1]
        let fromBrowser = fromChild[0]
        let thread = try JoinableThread(name: "devtools-read") { [state] in
            Self.readLoop(fromBrowser, state: state)
            Glibc.close(fromBrowser)
        }
        reader.withLock { $0 = thread }
    }

    /// Reads messages until the browser closes its end, resuming the command each reply answers; events are not
    /// needed (the tests wait on page conditions instead) and are dropped.
    private static func readLoop(_ fd: Int32, state: LockedValue<State>) {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            pending += buffer[0..<n]
            while let end = pending.firstIndex(of: 0) {
                let message = Data(pending[..<end])
                pending.removeSubrange(...end)
                guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any],
                      let id = object["id"] as? Int else { continue }
                let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
                continuation?.resume(returning: message)
            }
        }
        let orphans = state.withLock { s -> [CheckedContinuation<Data, Error>] in
            s.closed = "the browser closed its DevTools pipe"
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
        orphans.forEach { $0.resume(throwing: Failure("the browser closed its DevTools pipe")) }
    }

    /// Sends one command (to the browser, or to a page's session) and returns its `result`; a protocol error
    /// or the deadline throws.
    @discardableResult
    public func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil) async throws -> [String: Any] {
        var message: [String: Any] = ["method": method, "params": params]
        if let session { message["sessionId"] = session }
        let id = state.withLock { s -> Int in defer { s.nextID += 1 }; return s.nextID }
        message["id"] = id
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        // The deadline's task is cancelled as soon as the reply is in; if it fires first it fails the command.
        let timeout = Task { [state] in
            try await Task.sleep(for: Self.deadline)
            state.withLock { $0.waiting.removeValue(forKey: id) }?
                .resume(throwing: Failure("\(method): no reply within \(Self.deadline)"))
        }
        defer { timeout.cancel() }
        let data: Data = try await withCheckedThrowingContinuation { continuation in
            let refused = state.withLock { s -> String? in
                if let closed = s.closed { return closed }
                s.waiting[id] = continuation
                return nil
            }
            if let refused { continuation.resume(throwing: Failure(refused)); return }
            if !writeAll(bytes) {
                state.withLock { $0.waiting.removeValue(forKey: id) }?
                    .resume(throwing: Failure("cannot write to the browser: errno \(errno)"))
            }
        }
        let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        if let error = reply["error"] as? [String: Any] {
            throw Failure("\(method): \(error["message"] ?? error)")
        }
        return reply["result"] as? [String: Any] ?? [:]
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = write(toBrowser, raw.baseAddress! + sent, raw.count - sent)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                sent += n
            }
            return true
        }
    }

    /// Opens a new page (tab) and attaches to it.
    public func newPage(width: Int = 1280, height: Int = 900) async throws -> BrowserPage {
        let target = try await send("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw Failure("no target id") }
        let attached = try await send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Failure("no session id") }
        let page = BrowserPage(browser: self, session: session)
        try await page.send("Page.enable")
        try await page.send("Runtime.enable")
        // Key events go to the focused page; a headless page is focused only when asked.
        try await page.send("Emulation.setFocusEmulationEnabled", ["enabled": true])
        try await page.resize(width: width, height: height)
        return page
    }

    /// Asks the browser to quit, closes the pipe and reaps the process; a browser that has not exited 30 s later
    /// is killed with its whole process group (renderers included).
    public func close() async {
        _ = try? await send("Browser.close")
        Glibc.close(toBrowser)
        let pid = self.pid
        let exited = LockedValue(false)
        let killer = Task {
            try await Task.sleep(for: .seconds(30))
            // Under the lock and before the reaper reaps: the group id cannot have been reused yet.
            exited.withLock { done in if !done { kill(-pid, SIGKILL) } }
        }
        let thread = reader.withLock { $0 }
        await Self.offThread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
            exited.withLock { $0 = true }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            thread?.join()
        }
        killer.cancel()
    }

    /// Runs blocking work on its own thread, off Swift's cooperative pool (the in-process server needs that pool),
    /// and joins the thread once the work is done.
    public static func offThread(_ body: @escaping @Sendable () -> Void) async {
        let thread = LockedValue<JoinableThread?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                let started = try JoinableThread(name: "devtools-wait") { body(); continuation.resume() }
                thread.withLock { $0 = started }
            } catch {
                body()
                continuation.resume()
            }
        }
        let done = thread.withLock { t -> JoinableThread? in defer { t = nil }; return t }
        done?.join()
    }
}

/// One page of the browser, addressed by its flattened session.
public struct BrowserPage: Sendable {
    let browser: DevTools
    let session: String

    @discardableResult
    public func send(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        try await browser.send(method, params, session: session)
    }

    public func resize(width: Int, height: Int) async throws {
        try await send("Emulation.setDeviceMetricsOverride",
                       ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
    }

    /// Navigates and waits until the new document has loaded (the old one is gone and `readyState` is complete).
    public func open(_ url: String) async throws {
        try await send("Page.navigate", ["url": url])
        try await waitFor("location.href === \(Self.literal(url)) && document.readyState === 'complete'")
    }

    /// The value of a JavaScript expression (JSON-compatible values only).
    public func evaluate(_ expression: String) async throws -> Any? {
        let result = try await send("Runtime.evaluate", ["expression": expression, "returnByValue": true,
                                                         "awaitPromise": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            let text = (exception["exception"] as? [String: Any])?["description"] ?? exception["text"] ?? exception
            throw DevTools.Failure("\(expression): \(text)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    public func string(_ expression: String) async throws -> String {
        guard let s = try await evaluate(expression) as? String else { throw DevTools.Failure("\(expression) is not a string") }
        return s
    }

    public func number(_ expression: String) async throws -> Double {
        guard let n = try await evaluate(expression) as? NSNumber else { throw DevTools.Failure("\(expression) is not a number") }
        return n.doubleValue
    }

    /// Waits until `condition` (a JavaScript expression) is true in the page, checking on every animation frame
    /// inside the page; a navigation that replaces the document mid-wait is retried on the new one. Fails with
    /// `condition` and the page's address after the deadline.
    public func waitFor(_ condition: String) async throws {
        let start = ContinuousClock.now
        let probe = """
            new Promise(function (resolve) {
              const t0 = performance.now();
              (function check() {
                let ok = false;
                try { ok = !!(\(condition)); } catch (e) {}
                if (ok) resolve(true); else if (performance.now() - t0 > 5000) resolve(false);
                else requestAnimationFrame(check);
              })();
            })
            """
        var last = ""
        while ContinuousClock.now - start < DevTools.deadline {
            do {
                if try await evaluate(probe) as? Bool == true { return }
            } catch {
                // "Execution context was destroyed" while a navigation replaces the page: try the new one.
                last = "\(error)"
            }
        }
        let href = (try? await evaluate("location.href")) as? String ?? "?"
        throw DevTools.Failure("waited \(DevTools.deadline) for \(condition) at \(href) \(last)")
    }

    // MARK: - Input, as a person gives it (trusted events through the browser's input pipeline)

    /// Presses and releases one key. `key` is the DOM key ("a", " ", "Enter").
    public func press(_ key: String) async throws {
        let (code, keyCode, text): (String, Int, String?) = {
            switch key {
            case " ": return ("Space", 32, " ")
            case "Enter": return ("Enter", 13, "\r")
            case "Escape": return ("Escape", 27, nil)
            case "Backspace": return ("Backspace", 8, nil)
            case "+": return ("Equal", 187, "+")
            case "-": return ("Minus", 189, "-")
            default:
                let c = key.uppercased()
                if let digit = Int(key) { return ("Digit\(digit)", 48 + digit, key) }
                return ("Key\(c)", Int(c.unicodeScalars.first!.value), key)
            }
        }()
        var down: [String: Any] = ["type": text == nil ? "rawKeyDown" : "keyDown", "key": key, "code": code,
                                   "windowsVirtualKeyCode": keyCode, "nativeVirtualKeyCode": keyCode]
        if let text { down["text"] = text; down["unmodifiedText"] = text }
        try await send("Input.dispatchKeyEvent", down)
        try await send("Input.dispatchKeyEvent", ["type": "keyUp", "key": key, "code": code,
                                                  "windowsVirtualKeyCode": keyCode, "nativeVirtualKeyCode": keyCode])
    }

    /// Types text into the focused element.
    public func type(_ text: String) async throws {
        try await send("Input.insertText", ["text": text])
    }

    public func wheel(x: Double, y: Double, deltaY: Double) async throws {
        try await send("Input.dispatchMouseEvent", ["type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": deltaY])
    }

    /// A left-button drag from one point to another in `steps` moves.
    public func drag(from: (Double, Double), to: (Double, Double), steps: Int = 4) async throws {
        try await send("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": from.0, "y": from.1])
        try await send("Input.dispatchMouseEvent", ["type": "mousePressed", "x": from.0, "y": from.1,
                                                    "button": "left", "buttons": 1, "clickCount": 1])
        for i in 1...steps {
            let f = Double(i) / Double(steps)
            try await send("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": from.0 + (to.0 - from.0) * f,
                                                        "y": from.1 + (to.1 - from.1) * f, "button": "left", "buttons": 1])
        }
        try await send("Input.dispatchMouseEvent", ["type": "mouseReleased", "x": to.0, "y": to.1,
                                                    "button": "left", "buttons": 0, "clickCount": 1])
    }

    public func click(x: Double, y: Double) async throws {
        try await drag(from: (x, y), to: (x, y), steps: 1)
    }

    /// The centre of an element's box in CSS pixels of the viewport, the page scrolled first (the window only, never
    /// an inner scroller) when that centre is outside the viewport: input events land where the viewport shows.
    public func centre(of selector: String) async throws -> (Double, Double) {
        var box = try await rect(of: selector)
        let viewport = try await evaluate("[window.innerWidth, window.innerHeight]") as? [NSNumber]
        guard let viewport, viewport.count == 2 else { throw DevTools.Failure("no viewport size") }
        let (width, height) = (viewport[0].doubleValue, viewport[1].doubleValue)
        let (cx, cy) = (box.x + box.width / 2, box.y + box.height / 2)
        if cx < 0 || cy < 0 || cx >= width || cy >= height {
            _ = try await evaluate("window.scrollBy({left: \(cx - width / 2), top: \(cy - height / 2), behavior: 'instant'})")
            box = try await rect(of: selector)
        }
        let centre = (box.x + box.width / 2, box.y + box.height / 2)
        guard centre.0 >= 0, centre.1 >= 0, centre.0 < width, centre.1 < height else {
            throw DevTools.Failure("\(selector) is outside the viewport at (\(centre.0), \(centre.1)) even after scrolling")
        }
        return centre
    }

    public func rect(of selector: String) async throws -> (x: Double, y: Double, width: Double, height: Double) {
        guard let r = try await evaluate("""
            (function () { const r = document.querySelector(\(Self.literal(selector))).getBoundingClientRect();
                           return [r.left, r.top, r.width, r.height]; })()
            """) as? [NSNumber], r.count == 4 else { throw DevTools.Failure("no element \(selector)") }
        return (r[0].doubleValue, r[1].doubleValue, r[2].doubleValue, r[3].doubleValue)
    }

    public func screenshot(to path: String) async throws {
        let shot = try await send("Page.captureScreenshot", ["format": "png"])
        guard let text = shot["data"] as? String, let data = Data(base64Encoded: text) else {
            throw DevTools.Failure("no screenshot data")
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// A JavaScript string literal.
    public static func literal(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
