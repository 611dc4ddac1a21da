/// The small JSON subset a safetensors header uses (objects, arrays, strings, non-negative integers), parsed with
/// hard limits on nesting and sizes, so a hostile header cannot exhaust the stack or memory.
enum HeaderJSON: Equatable {
    case object([(String, HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    case integer(UInt64)

    static func == (a: HeaderJSON, b: HeaderJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        default: false
        }
    }

    struct Failure: Error {
        let offset: Int
        let detail: String
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> HeaderJSON {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw Failure(offset: parser.position, detail: "text after the header object") }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        func fail(_ detail: String) -> Failure { Failure(offset: position, detail: detail) }

        mutating func expect(_ c: UInt8) throws(Failure) {
            skipSpace()
            guard position < bytes.count, bytes[position] == c else {
                throw fail("expected '\(Character(UnicodeScalar(c)))'")
            }
            position += 1
        }

        mutating func value(depth: Int) throws(Failure) -> HeaderJSON {
            guard depth < 8 else { throw fail("nested too deeply") }
            skipSpace()
            guard position < bytes.count else { throw fail("the header ends early") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(String, HeaderJSON)] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard position < bytes.count else { throw fail("the header ends inside an object") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [HeaderJSON] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(items)
                }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard position < bytes.count else { throw fail("the header ends inside an array") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                var v: UInt64 = 0
                while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
                    guard !o1, !o2 else { throw fail("integer too large") }
                    v = s
                    position += 1
                }
                if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
                    throw fail("fractional numbers do not belong in a safetensors header")
                }
                return .integer(v)
            default:
                throw fail("unexpected character")
            }
        }

        mutating func string() throws(Failure) -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            position += 1
            var out: [UInt8] = []
            while true {
                guard position < bytes.count else { throw fail("the header ends inside a string") }
                let c = bytes[position]
                position += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    continue
                }
                guard position < bytes.count else { throw fail("the header ends inside an escape") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = UnicodeScalar(code) else { throw fail("bad \\u escape") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("bad escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return s
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                position += 1
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw fail("bad \\u escape")
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }
    }

    /// A JSON string literal; non-ASCII text is kept as UTF-8, control characters are escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
