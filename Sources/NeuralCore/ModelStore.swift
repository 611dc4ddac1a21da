import Foundation

/// Where converted weights live: `<home>/models/<name>.safetensors`. A value type naming a directory, so commands
/// and tests can point it anywhere (`RIGCTL_HOME`, or an explicit `home`).
public struct ModelStore: Sendable {
    public let home: URL

    /// `home` defaults to $RIGCTL_HOME, else ~/.local/share/rigctl.
    public init(home: URL? = nil) {
        if let home {
            self.home = home
        } else if let env = ProcessInfo.processInfo.environment["RIGCTL_HOME"], !env.isEmpty {
            self.home = URL(fileURLWithPath: env, isDirectory: true)
        } else {
            self.home = Self.perUserHome
        }
    }

    /// ~/.local/share/rigctl, whatever $RIGCTL_HOME says.
    public static var perUserHome: URL {
        let userHome = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: userHome, isDirectory: true).appendingPathComponent(".local/share/rigctl", isDirectory: true)
    }

    public var directory: URL { home.appendingPathComponent("models", isDirectory: true) }

    /// `<directory>/<name>.safetensors`. Any name stays inside the directory: path separators and NUL are
    /// percent-encoded here; use `validatedURL(forModel:)` to refuse such names instead.
    public func url(forModel name: String) -> URL {
        var safe = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "/", "\\", "%", "\0": safe += String(format: "%%%02X", scalar.value)
            default: safe.unicodeScalars.append(scalar)
            }
        }
        if safe.isEmpty || safe == "." || safe == ".." { safe = safe.replacingOccurrences(of: ".", with: "%2E") }
        return directory.appendingPathComponent(safe + ".safetensors", isDirectory: false)
    }

    /// Refuses empty names, path separators, NUL, leading dots and ".." before giving the model's path.
    public func validatedURL(forModel name: String) throws -> URL {
        try Self.validate(modelName: name)
        return url(forModel: name)
    }

    public static func validate(modelName name: String) throws {
        let reason: String?
        if name.isEmpty {
            reason = "empty"
        } else if name.contains("/") || name.contains("\\") || name.contains("\0") {
            reason = "contains a path separator or NUL"
        } else if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            reason = "contains a control character (a newline or tab)"
        } else if name.hasPrefix(".") || name.contains("..") {
            reason = "starts with '.' or contains '..'"
        } else if name.utf8.count > 200 {
            reason = "longer than 200 bytes"
        } else {
            reason = nil
        }
        if let reason { throw WeightFileError.invalidModelName(name: name, reason: reason) }
    }

    /// The names of the installed models (files `<name>.safetensors`), sorted; empty if the directory is absent.
    public func installedModels() throws -> [String] {
        let path = directory.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw WeightFileError.unreadable(path: path, reason: "not a directory") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw WeightFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return names.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }
            .map { String($0.dropLast(".safetensors".count)) }
            .sorted()
    }

    /// Creates the model directory if needed, so that writers can put files there.
    public func createDirectory() throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw WeightFileError.writeFailed(path: directory.path, reason: (error as NSError).localizedDescription)
        }
    }
}
