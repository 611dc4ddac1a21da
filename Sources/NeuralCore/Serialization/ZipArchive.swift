/// The entries of a zip file as torch.save writes it: every entry STORED (uncompressed), often with the
/// data-descriptor flag (sizes in the local header are zero), so sizes and offsets come from the central directory.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Where the entry's bytes lie in the archive.
        let data: Range<Int>
        let crc32: UInt32
    }

    let entries: [String: Entry]
    let path: String

    init(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        self.path = path
        let count = bytes.count
        guard count >= 22 else { throw WeightFileError.corrupt(path: path, field: "zip", detail: "too short for a zip file") }
        // The end-of-central-directory record: scan back over a possible comment.
        var eocd = -1
        var candidate = count - 22
        let lowest = max(0, count - 22 - 65535)
        while candidate >= lowest {
            if loadLE(bytes, candidate, 4) == 0x0605_4b50,
               candidate + 22 + Int(loadLE(bytes, candidate + 20, 2)) == count {
                eocd = candidate
                break
            }
            candidate -= 1
        }
        guard eocd >= 0 else {
            throw WeightFileError.corrupt(path: path, field: "zip end of central directory", detail: "not found")
        }
        var entryCount = Int(loadLE(bytes, eocd + 10, 2))
        var directorySize = Int(loadLE(bytes, eocd + 12, 4))
        var directoryOffset = Int(loadLE(bytes, eocd + 16, 4))
        // A zip64 locator just before the record points at the zip64 record, which holds the 64-bit values.
        if eocd >= 20, loadLE(bytes, eocd - 20, 4) == 0x0706_4b50 {
            let recordOffset = loadLE(bytes, eocd - 12, 8)
            guard count >= 56, recordOffset <= UInt64(count - 56), loadLE(bytes, Int(recordOffset), 4) == 0x0606_4b50 else {
                throw WeightFileError.corrupt(path: path, field: "zip64 end of central directory", detail: "bad record offset")
            }
            let r = Int(recordOffset)
            let n = loadLE(bytes, r + 32, 8), size = loadLE(bytes, r + 40, 8), offset = loadLE(bytes, r + 48, 8)
            guard n <= UInt64(count), size <= UInt64(count), offset <= UInt64(count) else {
                throw WeightFileError.corrupt(path: path, field: "zip64 end of central directory", detail: "values beyond the file")
            }
            (entryCount, directorySize, directoryOffset) = (Int(n), Int(size), Int(offset))
        }
        guard directoryOffset <= count, directorySize <= count - directoryOffset,
              entryCount <= directorySize / 46 else {
            throw WeightFileError.corrupt(path: path, field: "zip central directory",
                                          detail: "\(entryCount) entries in \(directorySize) bytes at \(directoryOffset) do not fit the file")
        }
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[0..<(directoryOffset + directorySize)]),
                                offset: directoryOffset, path: path)
        var entries: [String: Entry] = [:]
        for index in 0..<entryCount {
            let field = "zip central directory entry \(index)"
            guard try cursor.u32(field) == 0x0201_4b50 else {
                throw WeightFileError.corrupt(path: path, field: field, detail: "bad signature")
            }
            _ = try cursor.take(4, field)  // versions
            let flags = try cursor.u16(field)
            let method = try cursor.u16(field)
            _ = try cursor.take(4, field)  // time, date
            let crc = try cursor.u32(field)
            var compressed = UInt64(try cursor.u32(field))
            var uncompressed = UInt64(try cursor.u32(field))
            let nameLength = Int(try cursor.u16(field))
            let extraLength = Int(try cursor.u16(field))
            let commentLength = Int(try cursor.u16(field))
            _ = try cursor.take(8, field)  // disk, attributes
            var localOffset = UInt64(try cursor.u32(field))
            let nameRange = try cursor.take(nameLength, field)
            let extraRange = try cursor.take(extraLength, field)
            _ = try cursor.take(commentLength, field)
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameRange]), as: UTF8.self)
            // Zip64 extended information: the 32-bit fields that are all ones follow in this order.
            var extra = extraRange.lowerBound
            while extra + 4 <= extraRange.upperBound {
                let id = loadLE(bytes, extra, 2), size = Int(loadLE(bytes, extra + 2, 2))
                let body = extra + 4
                guard body + size <= extraRange.upperBound else { break }
                if id == 1 {
                    var p = body
                    func next() throws -> UInt64 {
                        guard p + 8 <= body + size else {
                            throw WeightFileError.corrupt(path: path, field: "zip entry \(name)", detail: "short zip64 field")
                        }
                        defer { p += 8 }
                        return loadLE(bytes, p, 8)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                extra = body + size
            }
            if flags & 1 != 0 {
                throw WeightFileError.unsupported(path: path, field: "zip entry \(name)", detail: "encrypted entries")
            }
            guard method == 0 else {
                throw WeightFileError.unsupported(path: path, field: "zip entry \(name)",
                                                  detail: "compression method \(method); torch.save stores entries uncompressed")
            }
            guard compressed == uncompressed else {
                throw WeightFileError.corrupt(path: path, field: "zip entry \(name)", detail: "stored entry whose sizes differ")
            }
            guard count >= 30, localOffset <= UInt64(count - 30) else {
                throw WeightFileError.corrupt(path: path, field: "zip entry \(name)", detail: "local header beyond the file")
            }
            let local = Int(localOffset)
            guard loadLE(bytes, local, 4) == 0x0403_4b50 else {
                throw WeightFileError.corrupt(path: path, field: "zip entry \(name)", detail: "bad local header signature")
            }
            let start = local + 30 + Int(loadLE(bytes, local + 26, 2)) + Int(loadLE(bytes, local + 28, 2))
            guard start <= count, uncompressed <= UInt64(count - start) else {
                throw WeightFileError.corrupt(path: path, field: "zip entry \(name)",
                                              detail: "\(uncompressed) bytes at \(start) run past the end of the file")
            }
            entries[name] = Entry(name: name, data: start..<(start + Int(uncompressed)), crc32: crc)
        }
        self.entries = entries
    }

    /// The bytes of an entry after checking its CRC-32, so a damaged download is reported rather than loaded.
    func contents(of entry: Entry, in bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[entry.data])
        guard CRC32.checksum(slice) == entry.crc32 else {
            throw WeightFileError.corrupt(path: path, field: "zip entry \(entry.name)", detail: "CRC-32 mismatch")
        }
        return slice
    }
}

/// CRC-32 (IEEE, as zip uses it), slicing by eight so that checking a large checkpoint costs little.
enum CRC32 {
    /// Eight tables of 256 entries, one after the other.
    static let table: [UInt32] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[0][i] = c
        }
        for i in 0..<256 {
            for t in 1..<8 { tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][Int(tables[t - 1][i] & 0xFF)] }
        }
        return tables.flatMap { $0 }
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { t -> UInt32 in
            var crc: UInt32 = 0xFFFF_FFFF
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = crc ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
