import Foundation

/// How many times slower than a plain release build the code under test runs. script/sanitize sets
/// RIGCTL_TEST_TIME_SCALE for ThreadSanitizer, whose 5-15x slowdown (on top of a loaded machine) would otherwise
/// turn a camera's file deadline or a crash test's kill delay into a test failure that says nothing about threads.
/// Only waits and delays are scaled, never what a test asserts about results.
public enum TestTime {
    public static let scale: Double = {
        guard let text = ProcessInfo.processInfo.environment["RIGCTL_TEST_TIME_SCALE"], let value = Double(text),
              value.isFinite, value >= 1 else { return 1 }
        return value
    }()

    /// `seconds` stretched by the scale.
    public static func scaled(_ seconds: Double) -> Double { seconds * scale }
}

/// The sanitizer the suite runs under, as script/sanitize exports it (nil in a plain build).
public enum TestSanitizer {
    public static let current: String? = ProcessInfo.processInfo.environment["RIGCTL_TEST_SANITIZER"]
        .flatMap { $0.isEmpty ? nil : $0 }

    /// AddressSanitizer maps its shadow memory at start-up, which `ulimit -v` forbids: a process under a virtual
    /// memory limit dies before main.
    public static var allowsVirtualMemoryLimits: Bool { current != "address" }
}
