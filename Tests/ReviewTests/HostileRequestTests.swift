import DatasetBuilder
import Foundation
import PairVocabulary
import Imaging
import Review
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Requests a hostile page or script can send: each is answered with a clear 4xx, and the server stays up.
@Suite struct HostileRequestTests {
    func withServer(token: String? = nil, _ body: (RunningServer, [PairID], URL) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir)
        let server = try await RunningServer.start(dataset, token: token)
        do {
            try await body(server, ids, dataset.root)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// An offset near Int.max once overflowed the pager's sums and killed the server.
    @Test func hugeNumbersAreRefusedNotFatal() async throws {
        try await withServer { server, ids, _ in
            for path in ["/?offset=9223372036854775807", "/api/pairs?offset=9223372036854775807",
                         "/pairs/\(ids[0])?offset=9223372036854775807", "/?offset=1000000001", "/?limit=9223372036854775807",
                         "/?offset=-1", "/api/pairs?offset=99999999999999999999999"] {
                let reply = try await server.request(path)
                #expect(reply.status == 400, "\(path): \(reply.status)")
            }
            // The largest allowed offset is an empty page, not a crash.
            let last = try await server.request("/?offset=1000000000")
            #expect(last.status == 200)
            #expect(try await server.request("/api/pairs").status == 200)
        }
    }

    @Test func thousandConditionsAreABadRequestWithoutSQL() async throws {
        try await withServer { server, _, _ in
            let conditions = Array(repeating: "skew>0.001", count: 1000).joined(separator: ",")
            for path in ["/api/pairs?where=\(conditions)", "/?where=\(conditions)"] {
                let reply = try await server.request(path)
                #expect(reply.status == 400, "\(reply.status)")
                #expect(!reply.text.uppercased().contains("SELECT"))
                #expect(reply.text.contains("at most"))
            }
            let few = Array(repeating: "skew>0.001", count: 32).joined(separator: ",")
            #expect(try await server.request("/api/pairs?where=\(few)").status == 200)
        }
    }

    @Test func noteWithNULIsRefusedWhole() async throws {
        try await withServer { server, ids, root in
            let body = Data(#"{"state": "flagged", "note": "before\u0000after"}"#.utf8)
            let reply = try await server.request("POST", "/api/pairs/\(ids[1])/review",
                                                 headers: ["Content-Type": "application/json"], body: body)
            #expect(reply.status == 400, "\(reply.status) \(reply.text)")
            let batch = Data(#"{"ids": [\#(ids[1])], "state": "flagged", "note": "x\u0000"}"#.utf8)
            let batchReply = try await server.request("POST", "/api/review", headers: ["Content-Type": "application/json"], body: batch)
            #expect(batchReply.status == 400, "\(batchReply.status) \(batchReply.text)")
            let pair = try Dataset.open(at: root, readOnly: true).pair("\(ids[1])")
            #expect(pair.reviewState == .unreviewed)
            #expect(pair.reviewNote == "")
        }
    }

    @Test func jsonMeansApplicationJSONExactly() async throws {
        try await withServer { server, ids, root in
            let body = Data(#"{"state": "approved"}"#.utf8)
            for type in ["application/jsonfoo", "application/json-patch", "text/application/json"] {
                let reply = try await server.request("POST", "/api/pairs/\(ids[0])/review", headers: ["Content-Type": type], body: body)
                #expect(reply.status == 415, "\(type): \(reply.status)")
            }
            #expect(try Dataset.open(at: root, readOnly: true).pair("\(ids[0])").reviewState == .unreviewed)
            let ok = try await server.request("POST", "/api/pairs/\(ids[0])/review",
                                              headers: ["Content-Type": "Application/JSON; charset=utf-8"], body: body)
            #expect(ok.status == 200)
        }
    }

    @Test func duplicateHostIsRefused() async throws {
        try await withServer { server, _, _ in
            // The client writes its own Host first; a second one follows.
            for second in ["evil.example", "127.0.0.1:\(server.port)"] {
                let reply = try await server.request("/api/pairs", headers: ["Host": second])
                #expect(reply.status == 400, "\(second): \(reply.status)")
            }
            #expect(try await server.request("/api/pairs").status == 200)
        }
    }

    @Test func tokenRedirectStaysOnThisServer() async throws {
        let token = String(repeating: "cd34", count: 16)
        try await withServer(token: token) { server, _, _ in
            for path in ["//evil.example/x?token=\(token)", "///evil.example/x?token=\(token)"] {
                let reply = try await server.request(path)
                #expect(reply.status == 303, "\(path): \(reply.status)")
                let location = try #require(reply.header("Location"))
                #expect(location == "/evil.example/x", "\(location)")
            }
        }
    }
}

/// Files the catalogue manages, read only through the dataset's confined open; images decoded within a budget.
@Suite struct ServedFileTests {
    func withServer(_ body: (RunningServer, Dataset, [PairID]) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir, count: 3)
        let server = try await RunningServer.start(dataset)
        do {
            try await body(server, dataset, ids)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func symlinkedManagedFileIsRefused() async throws {
        try await withServer { server, dataset, ids in
            let pair = try dataset.pair("\(ids[0])")
            let target = dataset.root.appendingPathComponent(pair.target.path)
            let source = dataset.root.appendingPathComponent(pair.source.path)
            let sourceBytes = try Data(contentsOf: source)
            try FileManager.default.removeItem(at: target)
            try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: source.path)
            for path in ["/api/pairs/\(ids[0])/image/target", "/api/pairs/\(ids[0])/image/target?size=16",
                         "/api/pairs/\(ids[0])/image/difference"] {
                let reply = try await server.request(path)
                #expect(reply.status == 403, "\(path): \(reply.status)")
                #expect(reply.body != sourceBytes)
            }
            // The pair's other, real files are still served.
            #expect(try await server.request("/api/pairs/\(ids[0])/image/source").status == 200)
        }
    }

    /// A few hundred bytes of PNG that declare 12000x10000 (120 megapixels): refused with 413 before any pixels are
    /// allocated, whatever size= is asked for.
    @Test func decompressionBombIsRefusedWithBoundedMemory() async throws {
        try await withServer { server, dataset, ids in
            let pair = try dataset.pair("\(ids[1])")
            let target = dataset.root.appendingPathComponent(pair.target.path)
            try FileManager.default.removeItem(at: target)
            try bombPNG(width: 12000, height: 10000).write(to: target)
            let before = peakResidentBytes()
            for path in ["/api/pairs/\(ids[1])/image/target?size=16", "/api/pairs/\(ids[1])/image/target?size=17",
                         "/api/pairs/\(ids[1])/image/target?format=jpeg", "/api/pairs/\(ids[1])/image/difference?size=18"] {
                let reply = try await server.request(path)
                #expect(reply.status == 413, "\(path): \(reply.status) \(reply.text)")
                #expect(reply.text.contains("megapixels"))
            }
            // 120 megapixels decoded would be gigabytes; the refusal costs next to nothing.
            #expect(peakResidentBytes() - before < 400 << 20)
            #expect(try await server.request("/api/pairs/\(ids[0])/image/target?size=16").status == 200)
        }
    }

    /// The source camera's original as a RAW file (a DNG) is held to the same pixel budget: 413, not a decode.
    @Test func aRawOriginalOverTheBudgetIsRefused() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir, count: 1)
        let pair = try dataset.pair("\(ids[0])")
        let original = try #require(pair.capture?.shot(.source)?.file)
        let url = dataset.root.appendingPathComponent(original.path)
        try FileManager.default.removeItem(at: url)
        let frame = RGBImage(width: 64, height: 48, transfer: .linear, pixels: [Float](repeating: 0.3, count: 3 * 64 * 48))
        try DNGWriter.write(BayerFrame(mosaicking: frame), metadata: CaptureMetadata(), to: url)
        let server = try await RunningServer.start(dataset) { $0.imageBudget.maxPixels = 3000 }
        let refused = try await server.request("/api/pairs/\(ids[0])/image/original?size=16")
        await server.stop()
        #expect(refused.status == 413, "\(refused.status) \(refused.text)")
        #expect(refused.text.contains("megapixels"), "\(refused.text)")
        let roomy = try await RunningServer.start(dataset)
        let served = try await roomy.request("/api/pairs/\(ids[0])/image/original?size=16")
        await roomy.stop()
        #expect(served.status == 200, "\(served.status) \(served.text)")
    }

    @Test func rendersInFlightAreBounded() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir, count: 2)
        // No render slot free: every decode is refused with a clear 503, while the file as stored still goes out.
        let server = try await RunningServer.start(dataset) { $0.imageBudget.maxRenders = 0 }
        let scaled = try await server.request("/api/pairs/\(ids[0])/image/source?size=16")
        let difference = try await server.request("/api/pairs/\(ids[0])/image/difference")
        let stored = try await server.request("/api/pairs/\(ids[0])/image/source")
        await server.stop()
        #expect(scaled.status == 503, "\(scaled.status)")
        #expect(scaled.text.contains("try again"))
        #expect(difference.status == 503)
        #expect(stored.status == 200)
    }
}

/// The largest resident set this process has had (Linux reports kilobytes).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// A PNG signature, an IHDR declaring `width`x`height` 8-bit RGB, a short IDAT and IEND, with correct CRCs.
func bombPNG(width: UInt32, height: UInt32) -> Data {
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be(UInt32(body.count)) + typed + be(crc32(typed))
    }
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    out += chunk("IHDR", be(width) + be(height) + [8, 2, 0, 0, 0])
    // A zlib stream header and a few empty stored blocks: far too little data for the declared rows.
    out += chunk("IDAT", [0x78, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF])
    out += chunk("IEND", [])
    return Data(out)
}
