import DatasetBuilder
import Foundation
import PairVocabulary
import Review
import TestSupport
import Testing

/// `POST /api/review`: several pairs decided at once, by id or by the queue's filter, all or nothing.
@Suite struct BatchReviewTests {
    func withServer(readOnly: Bool = false, _ body: (RunningServer, [PairID], URL) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (dataset, ids) = try makeReviewDataset(in: dir)
        if readOnly { dataset = try Dataset.open(at: dataset.root, readOnly: true) }
        let server = try await RunningServer.start(dataset)
        do {
            try await body(server, ids, dataset.root)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func post(_ server: RunningServer, _ json: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await server.request("POST", "/api/review", headers: ["Content-Type": "application/json"].merging(headers) { $1 },
                                 body: Data(json.utf8))
    }

    func states(_ root: URL, _ ids: [PairID]) throws -> [String] {
        let dataset = try Dataset.open(at: root, readOnly: true)
        return try ids.map { try dataset.pair("\($0)").reviewState.rawValue }
    }

    @Test func byIDsAllOrNothing() async throws {
        try await withServer { server, ids, root in
            let reply = try await post(server, #"{"ids": [\#(ids[1]), \#(ids[3]), \#(ids[1])], "state": "approved", "note": "batch"}"#)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try reply.object()["updated"] as? Int == 2)
            #expect(try states(root, ids) == (0..<10).map { [1, 3].contains($0) ? "approved" : "unreviewed" })
            #expect(try Dataset.open(at: root, readOnly: true).pair("\(ids[3])").reviewNote == "batch")

            // One unknown id: nothing changes.
            let unknown = try await post(server, #"{"ids": [\#(ids[5]), 999], "state": "rejected"}"#)
            #expect(unknown.status == 404)
            #expect(try states(root, [ids[5]]) == ["unreviewed"])

            // Without a note the notes are kept.
            #expect(try await post(server, #"{"ids": [\#(ids[3])], "state": "flagged"}"#).status == 200)
            let flagged = try Dataset.open(at: root, readOnly: true).pair("\(ids[3])")
            #expect(flagged.reviewState == .flagged && flagged.reviewNote == "batch")

            for bad in [#"{"ids": [], "state": "approved"}"#, #"{"state": "approved"}"#,
                        #"{"ids": [1], "filter": "verdict=rejected", "expected": 2, "state": "approved"}"#,
                        #"{"ids": [1], "state": "maybe"}"#, #"{"filter": "verdict=rejected", "state": "approved"}"#,
                        #"{"filter": "sort=path", "expected": 1, "state": "approved"}"#] {
                let r = try await post(server, bad)
                #expect(r.status == 400, "\(bad): \(r.status) \(r.text)")
            }
            #expect(try states(root, ids).filter { $0 != "unreviewed" }.count == 2)
        }
    }

    @Test func byFilterWithTheConfirmedCount() async throws {
        try await withServer { server, ids, root in
            // verdict=rejected matches pairs 4 and 9.
            let stale = try await post(server, #"{"filter": "verdict=rejected", "expected": 3, "state": "rejected"}"#)
            #expect(stale.status == 409)
            #expect(try states(root, [ids[4], ids[9]]) == ["unreviewed", "unreviewed"])

            let reply = try await post(server, #"{"filter": "verdict=rejected&sort=quality.p95Shift&order=desc&offset=1", "expected": 2, "state": "rejected", "note": "bad verdict"}"#)
            #expect(reply.status == 200, "\(reply.text)")
            let object = try reply.object()
            #expect(object["updated"] as? Int == 2)
            #expect((object["ids"] as? [NSNumber])?.map(\.int64Value) == [ids[9].rawValue, ids[4].rawValue])
            #expect(try states(root, ids) == (0..<10).map { [4, 9].contains($0) ? "rejected" : "unreviewed" })
            let listed = try await server.json("/api/pairs?review=rejected")
            #expect(listed["total"] as? Int == 2)
        }
    }

    @Test func refusedCrossOriginAndReadOnly() async throws {
        try await withServer { server, ids, root in
            let reply = try await post(server, #"{"ids": [\#(ids[0])], "state": "approved"}"#,
                                       headers: ["Origin": "http://evil.example"])
            #expect(reply.status == 403)
            let form = try await server.request("POST", "/api/review", headers: ["Content-Type": "text/plain"],
                                                body: Data(#"{"ids": [\#(ids[0])], "state": "approved"}"#.utf8))
            #expect(form.status == 415)
            #expect(try states(root, [ids[0]]) == ["unreviewed"])
            #expect(try await server.request("/api/review").status == 405)
        }
        try await withServer(readOnly: true) { server, ids, _ in
            #expect(try await post(server, #"{"ids": [\#(ids[0])], "state": "approved"}"#).status == 403)
            let page = try await server.request("/").text
            #expect(!page.contains("id=\"batch\""))
        }
    }

    @Test func theQueuePageOffersTheBatchBar() async throws {
        try await withServer { server, ids, _ in
            let page = try await server.request("/?verdict=rejected").text
            #expect(page.contains("id=\"batch\" data-total=\"2\" data-filter=\"verdict=rejected\""))
            #expect(page.contains("<input type=\"checkbox\" class=\"pick\" aria-label=\"select pair \(ids[4])\">"))
            #expect(page.contains("select all 2 matching"))
        }
    }
}
