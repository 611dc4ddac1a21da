import Foundation
import Metrics

/// Loads the LPIPS network from a given file or the installed weights. Without weights the scoring goes on without
/// LPIPS: the reason is recorded with every score, and `note` says once how to install them.
public enum LPIPSLoader {
    public struct Loaded {
        public var network: LPIPS?
        /// Why LPIPS is left out (nil when loaded).
        public var missingReason: String?
        /// What to tell the person when the weights are not installed (nil when loaded).
        public var note: String?
    }

    /// `path`: a weights file the person named (an error when it cannot be read); else the first of `installed`
    /// that exists.
    public static func load(path: String?, installed: [URL] = LPIPS.installedLocations()) throws -> Loaded {
        if let path { return Loaded(network: try LPIPS(contentsOf: URL(fileURLWithPath: path))) }
        if let url = installed.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return Loaded(network: try LPIPS(contentsOf: url))
        }
        let looked = installed.map(\.path).joined(separator: ", ")
        return Loaded(network: nil, missingReason: "LPIPS weights not installed",
                      note: "LPIPS weights are not installed (looked for \(looked)); LPIPS is left out. "
                          + "Install them with script/fetch-lpips-weights.")
    }
}
