import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The open-file limit rigctl starts under. Out of descriptors, libdispatch's worker-pool monitor (which reads
/// /proc for every pool thread) traps the whole process (SIGILL) wherever it is; no error path of rigctl's can
/// catch that. So a limit below what rigctl's commands use at their busiest is refused up front with a message
/// naming it - never a crash half-way through a write.
enum DescriptorLimit {
    /// Export, import and evaluation stay well below this (about 14 at most measured); the rest is margin.
    static let minimum: rlim_t = 32

    /// nil when the limit is enough; else the one-line error.
    static func shortfall() -> String? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < minimum else { return nil }
        return "the open-file limit is \(limit.rlim_cur) (ulimit -n); rigctl needs at least \(minimum) "
            + "(too many open files otherwise)"
    }
}
