import DatasetBuilder
import Foundation
import PairVocabulary
import Imaging
import Review
import TestSupport
import Testing

/// The data behind the pair view's overlays: the misalignment map measured from the stored pair, the original
/// frame the crop is drawn on, and model outputs by model name.
@Suite struct OverlayTests {
    func withOverlayServer(_ body: (RunningServer, PairID, Dataset) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, id) = try OverlayPair.make(in: dir)
        let server = try await RunningServer.start(dataset)
        do {
            try await body(server, id, dataset)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func misalignmentMapFindsTheShiftedBlock() async throws {
        try await withOverlayServer { server, id, _ in
            let map = try await server.json("/api/pairs/\(id)/misalignment")
            #expect(map["width"] as? Int == 224 && map["height"] as? Int == 168)
            #expect(map["blockSize"] as? Int == OverlayPair.blockSize)
            #expect(map["columns"] as? Int == 9 && map["rows"] as? Int == 7)
            #expect(map["maxBlockShift"] as? Double == 0.5)
            let rows = try #require(map["map"] as? [[Any]])
            #expect(rows.count == 7 && rows.allSatisfy { $0.count == 9 })
            let column = OverlayPair.shiftedBlock.x / OverlayPair.blockSize, row = OverlayPair.shiftedBlock.y / OverlayPair.blockSize
            let shifted = try #require(rows[row][column] as? Double, "the centre of the shifted patch was not measured")
            #expect(abs(shifted - 1.5) < 0.25, "shifted block: \(shifted) px")
            // Every block of the patch is measured and shows its shift; the blocks measured elsewhere agree.
            var patch: Set<[Int]> = [], others = 0
            for (r, cells) in rows.enumerated() {
                for (c, cell) in cells.enumerated() {
                    guard let value = cell as? Double else { continue }
                    if OverlayPair.isShifted(column: c, row: r) {
                        patch.insert([c * OverlayPair.blockSize, r * OverlayPair.blockSize])
                        #expect(abs(value - 1.5) < 0.25, "block (\(c), \(r)) of the patch: \(value) px")
                    } else {
                        others += 1
                        #expect(value < 0.2, "block (\(c), \(r)): \(value) px")
                    }
                }
            }
            #expect(patch.count == 9)
            #expect(others >= 12, "\(others) other blocks measured")
            // The failing blocks are exactly the measured blocks of the patch.
            let failing = try #require(map["misaligned"] as? [[String: Any]])
            let failed = Set(failing.compactMap { b in (b["x"] as? Int).flatMap { x in (b["y"] as? Int).map { [x, $0] } } })
            #expect(failed == patch && failed.count == failing.count, "failing \(failed), patch \(patch)")

            // Measured once: the second answer is the same (from the cache).
            let again = try await server.request("/api/pairs/\(id)/misalignment")
            #expect(try again.object()["measured"] as? Int == map["measured"] as? Int)
            #expect(try await server.request("/api/pairs/999/misalignment").status == 404)
        }
    }

    @Test func originalFrameAndModelOutputsByName() async throws {
        try await withOverlayServer { server, id, dataset in
            let original = try await server.request("/api/pairs/\(id)/image/original")
            #expect(original.status == 200)
            let frame = try PNGFile.decode(original.body, path: "reply")
            #expect(frame.width == 256 && frame.height == 192)

            let output = try await server.request("/api/pairs/\(id)/image/output?model=\(OverlayPair.model)")
            #expect(output.status == 200)
            let stored = try #require(try dataset.pair("\(id)").evaluations.first?.output)
            #expect(output.body == (try Data(contentsOf: try dataset.managedFileURL(stored))))
            #expect(output.header("ETag") != nil)

            #expect(try await server.request("/api/pairs/\(id)/image/output?model=nonesuch").status == 404)
            #expect(try await server.request("/api/pairs/\(id)/image/output").status == 400)
            #expect(try await server.request("/api/pairs/\(id)/image/source?model=\(OverlayPair.model)").status == 400)

            // The page: the output beside the pair, captioned with its scores; the crop for the frame mode.
            let page = try await server.request("/pairs/\(id)").text
            #expect(page.contains("id=\"view-out-0\" data-model=\"sharpen\""))
            #expect(page.contains("sharpen · PSNR 31.25 dB · SSIM 0.925 · LPIPS 0.0625"))
            #expect(page.contains("src=\"/api/pairs/\(id)/image/output?model=sharpen\""))
            #expect(page.contains("data-crop=\"16,12,224,168\""))
            #expect(page.contains("id=\"map-toggle\""))
        }
    }

    @Test func pairsWithoutAnOriginalHaveNoFrameMode() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let item = try SyntheticCapture.make(index: 0, seed: 5, in: dir.appendingPathComponent("scratch"), width: 32, height: 24)
        // An imported pair: a crop in its records but no capture, so no original frame to draw it on.
        var input = item.pair(captureID: 0)
        input.captureID = nil
        input.scene = SceneInput(name: "imported")
        let pair = try dataset.addPair(input)
        let server = try await RunningServer.start(dataset)
        do {
            let page = try await server.request("/pairs/\(pair.id)").text
            #expect(!page.contains("data-crop="))
            #expect(page.contains("data-mode=\"frame\" disabled"))
            #expect(try await server.request("/api/pairs/\(pair.id)/image/original").status == 404)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
