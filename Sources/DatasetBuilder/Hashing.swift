import Crypto
import Foundation

/// SHA-256 digests as lower-case hex, the form `sha256sum` prints and the catalogue stores.
public enum SHA256Hex {
    public static func of(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func of(_ string: String) -> String {
        of(Data(string.utf8))
    }

    /// Streams the file in 4 MiB pieces, so that verifying large RAW files needs little memory.
    public static func ofFile(_ url: URL) throws -> (sha256: String, size: Int64) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw DatasetError.unreadable(path: url.path, reason: FileManager.default.fileExists(atPath: url.path)
                                          ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 4 << 20)
            } catch {
                throw DatasetError.unreadable(path: url.path, reason: "\(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (hex(hasher.finalize()), size)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Turns names that come from users (scenes, tags, file stems) into safe single path components.
public enum SafeName {
    /// Letters, digits, `-` and `_` only, at most `maxLength` characters; never empty, never `.` or `..`, never a
    /// path separator, so a name like `../../evil` stays inside the folder it is joined to.
    public static func component(_ name: String, maxLength: Int = 48, fallback: String = "unnamed") -> String {
        var out = ""
        var lastWasUnderscore = false
        for scalar in name.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                || (scalar >= "0" && scalar <= "9") || scalar == "-" || scalar == "_"
            if ok {
                out.unicodeScalars.append(scalar)
                lastWasUnderscore = scalar == "_"
            } else if !lastWasUnderscore {
                out.append("_")
                lastWasUnderscore = true
            }
        }
        while out.hasPrefix("_") || out.hasPrefix("-") { out.removeFirst() }
        while out.hasSuffix("_") { out.removeLast() }
        if out.count > maxLength { out = String(out.prefix(maxLength)) }
        return out.isEmpty ? fallback : out
    }

    /// A file extension reduced to lower-case letters and digits (at most 8), or "bin".
    public static func fileExtension(of url: URL) -> String {
        let ext = url.pathExtension.lowercased().unicodeScalars.filter {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9")
        }
        let s = String(String.UnicodeScalarView(ext))
        return s.isEmpty || s.count > 8 ? "bin" : s
    }
}
