import AtomicFiles
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File access for weight files. NeuralCore stays independent of Imaging, so it has its own small atomic writer.
enum WeightFileIO {
    static func read(_ url: URL) throws -> Data {
        do {
            return try FileContents.read(path: url.path)
        } catch let error as FileReadError {
            throw WeightFileError.unreadable(path: url.path, reason: error.reason)
        }
    }

    /// Writes to a temporary sibling, fsyncs it and renames it over `url`, so that a crash never leaves a
    /// half-written weight file under the final name.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicWriteError where error.isRefusal {
            throw WeightFileError.forbidden(path: error.path, detail: error.reason)
        } catch let error as AtomicWriteError {
            throw WeightFileError.writeFailed(path: error.path, reason: error.reason)
        }
    }

    static func errnoString() -> String { String(cString: strerror(errno)) }
}

/// Bounds-checked little-endian reads from a byte buffer; every read that would leave it throws, naming `field`.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let path: String

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0, path: String) {
        self.bytes = bytes
        self.offset = offset
        self.path = path
    }

    var remaining: Int { bytes.count - offset }
    var atEnd: Bool { offset >= bytes.count }

    func truncated(_ field: String) -> WeightFileError {
        .corrupt(path: path, field: field, detail: "the file ends early (offset \(offset) of \(bytes.count))")
    }

    mutating func u8(_ field: String) throws -> UInt8 {
        guard offset < bytes.count else { throw truncated(field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ field: String) throws -> UInt16 {
        UInt16(truncatingIfNeeded: try uint(2, field))
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        UInt32(truncatingIfNeeded: try uint(4, field))
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        try uint(8, field)
    }

    private mutating func uint(_ n: Int, _ field: String) throws -> UInt64 {
        guard n <= remaining else { throw truncated(field) }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += n
        return v
    }

    /// The range of the next `count` bytes, which the cursor skips.
    mutating func take(_ count: Int, _ field: String) throws -> Range<Int> {
        guard count >= 0, count <= remaining else { throw truncated(field) }
        defer { offset += count }
        return offset..<(offset + count)
    }
}

/// Reads a little-endian unsigned integer of `n` bytes at `offset` of a buffer whose bounds the caller checked.
@inline(__always)
func loadLE(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ n: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<n { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    return v
}
