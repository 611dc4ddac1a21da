import Foundation

/// What every benchmark prints beside its figures, since speeds are compared only within one run on one machine:
/// the CPU's model and the load average.
public enum Machine {
    /// /proc/cpuinfo's first "model name" (often generic on a VM); "unknown CPU" where there is none.
    public static var cpuModel: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown CPU"
    }

    /// The load average's first `fields` figures (1, 5 and 15 minutes), separated by spaces; "?" when unreadable.
    public static func loadAverage(fields: Int = 1) -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(fields).joined(separator: " ")
    }
}
