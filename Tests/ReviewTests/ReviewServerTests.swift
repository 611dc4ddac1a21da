import DatasetBuilder
import Foundation
import Imaging
import PairVocabulary
import Review
import TestSupport
import Testing
import WebServing

@Suite struct ReviewServerTests {
    /// Runs `body` against a fresh dataset and server, and always stops the server and removes the folder.
    func withServer(token: String? = nil, readOnly: Bool = false,
                    _ body: (RunningServer, [PairID], URL) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (dataset, ids) = try makeReviewDataset(in: dir)
        let root = dataset.root
        if readOnly {
            dataset = try Dataset.open(at: root, readOnly: true)
        }
        let server = try await RunningServer.start(dataset, token: token)
        do {
            try await body(server, ids, root)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func ids(_ object: [String: Any]) -> [PairID] {
        ((object["rows"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber).map { PairID($0.int64Value) } }
    }

    @Test func listFiltersSortsAndPages() async throws {
        try await withServer { server, ids, _ in
            let all = try await server.json("/api/pairs")
            #expect(all["total"] as? Int == 10)
            #expect(self.ids(all) == ids)
            #expect(all["pairs"] as? Int == 10)
            #expect((all["byVerdict"] as? [String: Int])?["rejected"] == 2)
            #expect((all["byReview"] as? [String: Int])?["unreviewed"] == 10)

            #expect(self.ids(try await server.json("/api/pairs?verdict=rejected")) == [ids[4], ids[9]])
            #expect(self.ids(try await server.json("/api/pairs?split=test")) == [0, 2, 4, 6, 8].map { ids[$0] })
            #expect(self.ids(try await server.json("/api/pairs?scene=scene-1")) == [1, 5, 9].map { ids[$0] })
            #expect(self.ids(try await server.json("/api/pairs?scene=scene-1&verdict=accepted")) == [1, 5].map { ids[$0] })
            #expect(self.ids(try await server.json("/api/pairs?review=approved")).isEmpty)

            // Worst aligned first; pair 3 has no p95Shift and comes last in either direction.
            let desc = [9, 8, 7, 6, 5, 4, 2, 1, 0, 3].map { ids[$0] }
            #expect(self.ids(try await server.json("/api/pairs?sort=quality.p95Shift&order=desc")) == desc)
            #expect(self.ids(try await server.json("/api/pairs?sort=quality.p95Shift")) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 3].map { ids[$0] })
            let page = try await server.json("/api/pairs?sort=quality.p95Shift&order=desc&limit=3&offset=8")
            #expect(self.ids(page) == [ids[0], ids[3]])
            #expect(page["total"] as? Int == 10)
            #expect(self.ids(try await server.json("/api/pairs?sort=quality.p95Shift&order=desc&limit=3")) == Array(desc.prefix(3)))

            // PSNR of the input baseline is 20 + (3i mod 7); ties broken by id in the same direction.
            let psnr = (0..<10).map { 20 + Double(($0 * 3) % 7) }
            let order: [Int] = (0..<10).sorted { (a: Int, b: Int) -> Bool in
                if psnr[a] != psnr[b] { return psnr[a] > psnr[b] }
                return a > b
            }
            let expected: [PairID] = order.map { ids[$0] }
            #expect(self.ids(try await server.json("/api/pairs?sort=score.input.psnr&order=desc")) == expected)
            #expect(self.ids(try await server.json("/api/pairs?sort=name&limit=2")).count == 2)

            for bad in ["/api/pairs?sort=quality.a%22b", "/api/pairs?sort=path", "/api/pairs?limit=0",
                        "/api/pairs?verdict=maybe", "/api/pairs?order=sideways", "/api/pairs?offset=-1"] {
                let reply = try await server.request(bad)
                #expect(reply.status == 400, "\(bad): \(reply.status)")
                #expect(try reply.object()["error"] is String)
            }
        }
    }

    /// `where`: conditions on any quality figure or score, with the other filters and any sort; in every link
    /// of the queue page, in next/previous and in a filtered batch. p95Shift is i/10 (none for pair 3); the
    /// input's PSNR is 20 + (3i mod 7): 20 23 26 22 25 21 24 20 23 26.
    @Test func filtersByAnyFigureOrScore() async throws {
        try await withServer { server, ids, _ in
            func list(_ query: String) async throws -> [PairID] { self.ids(try await server.json("/api/pairs?" + query)) }
            #expect(try await list("where=quality.p95Shift%3E0.5") == [6, 7, 8, 9].map { ids[$0] })
            #expect(try await list("where=quality.p95Shift%3C%3D0.2") == [0, 1, 2].map { ids[$0] })
            #expect(try await list("where=score.input.psnr%3C23") == [0, 3, 5, 7].map { ids[$0] })
            #expect(try await list("where=score.input.psnr%20!%3D%2020") == [1, 2, 3, 4, 5, 6, 8, 9].map { ids[$0] })
            #expect(try await list("where=score.input.psnr%3E%3D26") == [2, 9].map { ids[$0] })
            #expect(try await list("where=quality.p95Shift%3E0.5,score.input.psnr%3C23") == [ids[7]])
            #expect(try await list("where=quality.p95Shift%3E0.5&verdict=rejected") == [ids[9]])
            // Pairs without the figure never match; the sort still puts pairs lacking its figure last.
            let sorted = try await server.json("/api/pairs?where=score.input.psnr%3C23&sort=quality.p95Shift&order=desc&limit=2")
            #expect(self.ids(sorted) == [ids[7], ids[5]])
            #expect(sorted["total"] as? Int == 4)
            #expect(try await list("where=score.input.psnr%3C23&sort=quality.p95Shift&order=desc") == [7, 5, 0, 3].map { ids[$0] })
            #expect(try await list("where=score.nomodel.psnr%3C100").isEmpty)

            for bad in ["where=quality.p95Shift", "where=name%3Cb", "where=quality.p95Shift%3Eabc", "where=nonsense%3E1",
                        "where=%3E1", "where=score.input.psnr%3Cnan", "where=quality.a%22b%3E1"] {
                let reply = try await server.request("/api/pairs?" + bad)
                #expect(reply.status == 400, "\(bad): \(reply.status) \(reply.text)")
                #expect((try reply.object()["error"] as? String)?.contains("condition") == true, "\(bad): \(reply.text)")
            }

            // The queue page: the field shows the conditions, the rows match, links keep them.
            let queue = try await server.request("/?where=quality.p95Shift%3E0.5&sort=quality.p95Shift&order=desc")
            #expect(queue.status == 200)
            #expect(queue.text.contains("name=\"where\" id=\"where\" value=\"quality.p95Shift&gt;0.5\""))
            #expect(queue.text.components(separatedBy: "<tr data-id=").count - 1 == 4)
            #expect(queue.text.contains("/pairs/\(ids[9])?where=quality.p95Shift%3E0.5&amp;sort=quality.p95Shift&amp;order=desc"))
            // Next/previous in the pair view walk only the matching pairs.
            let pair = try await server.request("/pairs/\(ids[6])?where=quality.p95Shift%3E0.5")
            #expect(pair.text.contains("1 of 4") && pair.text.contains("/pairs/\(ids[7])?where=quality.p95Shift%3E0.5"), "\(pair.text)")

            // A filtered batch decides exactly the pairs the conditions match.
            let batch = try await server.request("POST", "/api/review", headers: ["Content-Type": "application/json"],
                                                 body: Data(#"{"filter": "where=score.input.psnr%3C23", "expected": 4, "state": "flagged"}"#.utf8))
            #expect(batch.status == 200, "\(batch.text)")
            #expect(try await list("review=flagged") == [0, 3, 5, 7].map { ids[$0] })
        }
    }

    @Test func pairDetailAndUnknownIDs() async throws {
        try await withServer { server, ids, _ in
            let detail = try await server.json("/api/pairs/\(ids[5])")
            #expect(detail["scene"] as? String == "scene-1")
            #expect((detail["quality"] as? [String: Double])?["p95Shift"] == 0.5)
            #expect((detail["evaluations"] as? [[String: Any]])?.first?["model"] as? String == "input")
            for path in ["/api/pairs/999", "/api/pairs/abc", "/api/pairs/0", "/api/pairs/\(ids[5])/image/../../catalog.sqlite",
                         "/api/pairs/%2e%2e%2fcatalog.sqlite", "/catalog.sqlite", "/static/../catalog.sqlite",
                         "/api/pairs/999/image/source", "/api/pairs/\(ids[0])/image/left", "/api/pairs/\(ids[0])/image/catalog"] {
                let reply = try await server.request(path)
                #expect(reply.status == 404, "\(path): \(reply.status)")
                #expect(!reply.text.contains("SQLite format"))
            }
            #expect(try await server.request("POST", "/api/pairs/\(ids[0])").status == 405)
        }
    }

    @Test func reviewPostChangesTheCatalogue() async throws {
        try await withServer { server, ids, root in
            let body = Data(#"{"state": "rejected", "note": "ghosting at the left edge"}"#.utf8)
            let reply = try await server.request("POST", "/api/pairs/\(ids[2])/review",
                                                 headers: ["Content-Type": "application/json",
                                                           "Origin": "http://127.0.0.1:\(server.port)"], body: body)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try reply.object()["reviewState"] as? String == "rejected")
            let reopened = try Dataset.open(at: root, readOnly: true)
            #expect(try reopened.pair("\(ids[2])").reviewState == .rejected)
            #expect(try reopened.pair("\(ids[2])").reviewNote == "ghosting at the left edge")
            #expect(try reopened.pair("\(ids[3])").reviewState == .unreviewed)
            #expect(self.ids(try await server.json("/api/pairs?review=rejected")) == [ids[2]])

            // Without an Origin (scripts, curl) a JSON POST is accepted; back to unreviewed.
            let again = try await server.request("POST", "/api/pairs/\(ids[2])/review", headers: ["Content-Type": "application/json"],
                                                 body: Data(#"{"state": "unreviewed"}"#.utf8))
            #expect(again.status == 200)
            #expect(try Dataset.open(at: root, readOnly: true).pair("\(ids[2])").reviewState == .unreviewed)

            let malformed = try await server.request("POST", "/api/pairs/\(ids[2])/review", headers: ["Content-Type": "application/json"],
                                                     body: Data(#"{"state": "maybe"}"#.utf8))
            #expect(malformed.status == 400)
            let form = try await server.request("POST", "/api/pairs/\(ids[2])/review",
                                                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                body: Data("state=approved".utf8))
            #expect(form.status == 415)
            let missing = try await server.request("POST", "/api/pairs/999/review", headers: ["Content-Type": "application/json"],
                                                   body: Data(#"{"state": "approved"}"#.utf8))
            #expect(missing.status == 404)
        }
    }

    @Test func crossOriginPostIsRefused() async throws {
        try await withServer { server, ids, root in
            let body = Data(#"{"state": "approved"}"#.utf8)
            for headers in [["Origin": "http://evil.example"], ["Origin": "null"],
                            ["Origin": "http://127.0.0.1:\(server.port + 1)"], ["Sec-Fetch-Site": "cross-site"]] {
                let reply = try await server.request("POST", "/api/pairs/\(ids[1])/review",
                                                     headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                                                     body: body)
                #expect(reply.status == 403, "\(headers): \(reply.status)")
            }
            #expect(try Dataset.open(at: root, readOnly: true).pair("\(ids[1])").reviewState == .unreviewed)
        }
    }

    @Test func foreignHostIsRefused() async throws {
        try await withServer { server, _, _ in
            for host in ["evil.example:\(server.port)", "evil.example", "127.0.0.1:\(server.port + 1)", "127.0.0.1",
                         "localhost.evil.example:\(server.port)"] {
                let reply = try await server.request("/api/pairs", host: host)
                #expect(reply.status == 403, "Host \(host): \(reply.status)")
                let page = try await server.request("/", host: host)
                #expect(page.status == 403)
            }
            #expect(try await server.request("/api/pairs", host: "").status != 200)
            #expect(try await server.request("/api/pairs", host: "localhost:\(server.port)").status == 200)
            #expect(try await server.request("/api/pairs", host: "LOCALHOST:\(server.port)").status == 200)
        }
    }

    @Test func tokenIsRequiredWhenSet() async throws {
        let token = String(repeating: "ab12", count: 16)
        try await withServer(token: token) { server, ids, _ in
            #expect(try await server.request("/api/pairs").status == 401)
            #expect(try await server.request("/").status == 401)
            #expect(try await server.request("/?token=wrong").status == 403)
            #expect(try await server.request("/api/pairs", headers: ["Cookie": "\(AccessPolicy.cookieName)=\(token.dropLast())x"]).status == 403)
            #expect(try await server.request("/api/pairs/\(ids[0])/image/source").status == 401)

            // The first visit carries the token; the answer moves it into a cookie and out of the address.
            let first = try await server.request("/?token=\(token)&verdict=accepted")
            #expect(first.status == 303)
            #expect(first.header("Location") == "/?verdict=accepted")
            let cookie = try #require(first.header("Set-Cookie"))
            #expect(cookie.hasPrefix("\(AccessPolicy.cookieName)=\(token);"))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            let withCookie = ["Cookie": "other=1; \(AccessPolicy.cookieName)=\(token)"]
            #expect(try await server.request("/?verdict=accepted", headers: withCookie).status == 200)
            #expect(try await server.request("/api/pairs", headers: withCookie).status == 200)
            #expect(try await server.request("/api/pairs", headers: ["Authorization": "Bearer \(token)"]).status == 200)
            // The token does not excuse a foreign Host.
            #expect(try await server.request("/api/pairs", headers: withCookie, host: "evil.example:\(server.port)").status == 403)
        }
    }

    @Test func imagesByIDWithETags() async throws {
        try await withServer { server, ids, root in
            let full = try await server.request("/api/pairs/\(ids[0])/image/source")
            #expect(full.status == 200)
            #expect(full.header("Content-Type") == "image/png")
            #expect(Array(full.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let stored = try Dataset.open(at: root, readOnly: true).pair("\(ids[0])").source
            #expect(full.body == (try Data(contentsOf: root.appendingPathComponent(stored.path))))
            let etag = try #require(full.header("ETag"))
            #expect(etag.hasPrefix("\""))

            let small = try await server.request("/api/pairs/\(ids[0])/image/target?size=16")
            #expect(small.status == 200)
            let raster = try PNGFile.decode(small.body, path: "reply")
            #expect(raster.width == 16 && raster.height == 12)
            let smallTag = try #require(small.header("ETag"))
            #expect(smallTag != etag)

            let notModified = try await server.request("/api/pairs/\(ids[0])/image/target?size=16", headers: ["If-None-Match": smallTag])
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
            #expect(notModified.header("ETag") == smallTag)
            let cached = try await server.request("/api/pairs/\(ids[0])/image/target?size=16")
            #expect(cached.body == small.body)
            let stale = try await server.request("/api/pairs/\(ids[0])/image/target?size=16", headers: ["If-None-Match": etag])
            #expect(stale.status == 200)

            let jpeg = try await server.request("/api/pairs/\(ids[0])/image/source?size=20&format=jpeg")
            #expect(jpeg.header("Content-Type") == "image/jpeg")
            #expect(Array(jpeg.body.prefix(3)) == [0xFF, 0xD8, 0xFF])
            let difference = try await server.request("/api/pairs/\(ids[0])/image/difference")
            #expect(difference.status == 200)
            #expect(try PNGFile.decode(difference.body, path: "reply").width == 32)
            #expect(try await server.request("/api/pairs/\(ids[0])/image/source?size=8").status == 400)
            #expect(try await server.request("/api/pairs/\(ids[0])/image/source?format=gif").status == 400)
        }
    }

    @Test func readOnlyRefusesDecisions() async throws {
        try await withServer(readOnly: true) { server, ids, root in
            let reply = try await server.request("POST", "/api/pairs/\(ids[0])/review", headers: ["Content-Type": "application/json"],
                                                 body: Data(#"{"state": "approved"}"#.utf8))
            #expect(reply.status == 403)
            #expect(try Dataset.open(at: root, readOnly: true).pair("\(ids[0])").reviewState == .unreviewed)
            #expect(try await server.request("/api/pairs").status == 200)
            #expect(try await server.request("/pairs/\(ids[0])").text.contains("read-only"))
        }
    }

    @Test func pagesRenderTheQueueAndThePair() async throws {
        try await withServer { server, ids, _ in
            let queue = try await server.request("/?sort=quality.p95Shift&order=desc&verdict=accepted")
            #expect(queue.status == 200)
            #expect(queue.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(queue.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            let html = queue.text
            #expect(html.contains("<tr data-id=\"\(ids[9])\"") == false)  // rejected, filtered out
            #expect(html.contains("<tr data-id=\"\(ids[8])\""))
            #expect(html.contains("worst aligned first"))
            #expect(html.contains("href=\"/pairs/\(ids[8])?verdict=accepted&amp;sort=quality.p95Shift&amp;order=desc\""))
            let eighth = try #require(html.range(of: "data-id=\"\(ids[8])\""))
            let seventh = try #require(html.range(of: "data-id=\"\(ids[7])\""))
            #expect(eighth.lowerBound < seventh.lowerBound)

            let pair = try await server.request("/pairs/\(ids[7])?verdict=accepted&sort=quality.p95Shift&order=desc")
            #expect(pair.status == 200)
            #expect(pair.text.contains("data-next=\"\(ids[6])\""))
            #expect(pair.text.contains("data-prev=\"\(ids[8])\""))
            #expect(pair.text.contains("/api/pairs/\(ids[7])/image/source"))
            for asset in ["review.css", "queue.js", "pair.js"] {
                let reply = try await server.request("/static/\(asset)")
                #expect(reply.status == 200 && !reply.body.isEmpty)
            }
            #expect(try await server.request("/pairs/999").status == 404)
        }
    }

    @Test func cacheKeepsItsByteBudget() {
        var cache = ByteBoundedCache(limit: 100)
        cache.put("a", Data(count: 20))
        cache.put("b", Data(count: 20))
        _ = cache.get("a")
        cache.put("c", Data(count: 20))
        cache.put("d", Data(count: 20))
        cache.put("e", Data(count: 20))
        #expect(cache.bytes <= 100)
        cache.put("f", Data(count: 20))  // evicts the least recently used: b
        #expect(cache.get("b") == nil)
        #expect(cache.get("a") != nil)
        #expect(cache.bytes <= 100)
        cache.put("huge", Data(count: 30))  // over a quarter of the budget: not kept
        #expect(cache.get("huge") == nil)
    }

    @Test func hostHeaderParsing() {
        let loopback = AccessPolicy(bindHost: "127.0.0.1", port: 8417, token: nil)
        #expect(loopback.acceptsHost("127.0.0.1:8417"))
        #expect(loopback.acceptsHost("localhost:8417"))
        #expect(!loopback.acceptsHost("10.0.0.2:8417"))
        #expect(!loopback.acceptsHost("127.0.0.1:8417:1"))
        #expect(!loopback.acceptsHost(nil))
        let lab = AccessPolicy(bindHost: "0.0.0.0", port: 8417, token: "t")
        #expect(lab.acceptsHost("10.0.0.2:8417"))
        #expect(lab.acceptsHost("[fe80::1]:8417"))
        #expect(!lab.acceptsHost("attacker.example:8417"))
        #expect(!lab.acceptsHost("10.0.0.2:80"))
        #expect(lab.tokenMatches("t") && !lab.tokenMatches("u") && !lab.tokenMatches(""))
        #expect(ReviewOptions(host: "0.0.0.0").token?.count == 64)
        #expect(ReviewOptions(host: "127.0.0.1").token == nil)
    }
}
