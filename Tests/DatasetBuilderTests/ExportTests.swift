import PairVocabulary
import TestSupport
import DatasetBuilder
import Foundation
import Imaging
import Testing

@Suite struct ExportTests {
    @Test func exportWritesOnlyAcceptedPairsOfTheSplitAndIsDeterministic() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 10, scenes: 3)
        try dataset.review(pair: "3", state: .rejected, note: "misaligned")
        // Test split: ids 1, 3, 5, 7, 9; 5 is rejected by the checks, 3 by review.
        let exporter = Exporter(options: ExportOptions(format: .realdof, split: .only(.test)))
        let a = try exporter.run(from: dataset, to: dir.appendingPathComponent("a"))
        let b = try exporter.run(from: dataset, to: dir.appendingPathComponent("b"))
        #expect(a.pairs == 3)
        let filesA = try contents(of: a.folder)
        let filesB = try contents(of: b.folder)
        #expect(filesA.keys.sorted() == a.files)
        #expect(filesA == filesB, "two exports differ")
        #expect(Set(filesA.keys) == Set([".rigctl-export", "README.md", "SHA256SUMS", "manifest.csv", "manifest.json",
                                         "source/0001_scene-0.png", "source/0002_scene-0.png", "source/0003_scene-2.png",
                                         "target/0001_scene-0.png", "target/0002_scene-0.png", "target/0003_scene-2.png"]))
        // Exporting again over the same folder replaces it with identical bytes.
        _ = try exporter.run(from: dataset, to: a.folder)
        #expect(try contents(of: a.folder) == filesA)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("rigctl-tmp") }.isEmpty)

        // SHA256SUMS covers every other file but rigctl's own marker, with the right hashes.
        let sums = String(decoding: try #require(filesA["SHA256SUMS"]), as: UTF8.self)
        let lines = sums.split(separator: "\n")
        #expect(lines.count == filesA.count - 2)
        #expect(!lines.contains { $0.hasSuffix(" .rigctl-export") }, "\(sums)")
        for line in lines {
            let hash = String(line.prefix(64)), path = String(line.dropFirst(66))
            #expect(SHA256Hex.of(try #require(filesA[path])) == hash, "\(path)")
        }

        // The manifests carry the capture time, camera settings, alignment figures and source hashes.
        let manifestData = try #require(filesA["manifest.json"])
        let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        let pairs = try #require(manifest["pairs"] as? [[String: Any]])
        #expect(pairs.count == 3 && manifest["pairCount"] as? Int == 3)
        let first = pairs[0]
        #expect(first["captureTime"] as? String == "2026-01-01T00:00:00.000Z")
        let cameras = try #require(first["cameras"] as? [String: [String: Any]])
        #expect(cameras["source"]?["aperture"] as? Double == 1.8 && cameras["target"]?["aperture"] as? Double == 16)
        let alignment = try #require(first["alignment"] as? [String: Any])
        #expect((alignment["homography"] as? [Double])?.count == 9)
        let sourceFiles = try #require(first["sourceFiles"] as? [String: String])
        let detail = try dataset.pair("1")
        #expect(sourceFiles["aligned/source"] == detail.source.sha256)
        #expect(sourceFiles["original/target"] == detail.capture?.shot(.target)?.file.sha256)
        let csv = String(decoding: try #require(filesA["manifest.csv"]), as: UTF8.self)
        #expect(csv.split(separator: "\n").count == 4)
        #expect(csv.contains(",1.8,") && csv.contains(detail.source.sha256))
        let readme = String(decoding: try #require(filesA["README.md"]), as: UTF8.self)
        #expect(readme.contains("| pairs | 3 |") && readme.contains("f/1.8 (3)") && readme.contains("affine (3)"))

        // --split all takes train pairs too.
        let all = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: dir.appendingPathComponent("all"))
        #expect(all.pairs == 7)
    }

    @Test func namesFromUsersNeverEscapeTheOutputFolder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let s = try writePNG(dir.appendingPathComponent("in/s.png"), seed: 1)
        let t = try writePNG(dir.appendingPathComponent("in/t.png"), seed: 2)
        for (i, name) in ["../../evil", "/etc/passwd", "..", "a/../../b", "x\ny"].enumerated() {
            let s = try writePNG(dir.appendingPathComponent("in/s\(i).png"), seed: UInt64(100 + i))
            try dataset.addPair(PairInput(scene: SceneInput(name: name, tags: ["../../tag"]), name: name, source: s,
                                          target: t, verdict: .accepted, split: .test))
        }
        try dataset.addPair(PairInput(scene: SceneInput(name: "ok"), name: "ok", source: s, target: t, verdict: .accepted,
                                      split: .test))
        let parent = dir.appendingPathComponent("export-parent")
        let out = parent.appendingPathComponent("out")
        let report = try Exporter(options: ExportOptions(format: .dpdd)).run(from: dataset, to: out)
        #expect(report.pairs == 6)
        // Nothing was written beside the output folder, and every file is inside it at the expected depth.
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["out"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("evil").path))
        for path in report.files {
            #expect(!path.contains("..") && !path.hasPrefix("/"), "\(path)")
            #expect(path.split(separator: "/").count <= 3)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path))
        }
        #expect(report.files.contains("test_c/source/0003_etc_passwd.png"))
        #expect(report.files.contains("test_c/target/0002_evil.png"))
    }

    @Test func depthAndAreaAveragedDownscaling() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        // 16x8 source of 4x4 blocks with known values; target constant.
        let (w, h) = (16, 8)
        var samples = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let block = UInt8((y / 4) * 4 + x / 4)
                for c in 0..<3 { samples[(y * w + x) * 3 + c] = block * 20 + UInt8(c) }
            }
        }
        let s = dir.appendingPathComponent("s.png"), t = dir.appendingPathComponent("t.png")
        try PNGFile.write(Raster8(width: w, height: h, channels: 3, samples: samples), to: s)
        try PNGFile.write(Raster8(width: w, height: h, channels: 3, samples: [UInt8](repeating: 77, count: w * h * 3)), to: t)
        try dataset.addPair(PairInput(scene: SceneInput(name: "blocks"), name: "blocks", source: s, target: t,
                                      verdict: .accepted, split: .test))

        // 16-bit, no resize: 8-bit values scale exactly (v * 257).
        let deep = try Exporter(options: ExportOptions(depth: 16)).run(from: dataset, to: dir.appendingPathComponent("d"))
        guard case .sixteen(let r16) = try PNGFile.read(deep.folder.appendingPathComponent("source/0001_blocks.png")) else {
            Issue.record("not a 16-bit PNG")
            return
        }
        #expect(r16.width == w && r16.samples.enumerated().allSatisfy { Int($0.element) == Int(samples[$0.offset]) * 257 })

        // An image that already fits is copied byte for byte.
        let same = try Exporter(options: ExportOptions(maxSize: 16)).run(from: dataset, to: dir.appendingPathComponent("f"))
        #expect(try Data(contentsOf: same.folder.appendingPathComponent("source/0001_blocks.png")) == Data(contentsOf: s))

        // Long side 8: each output pixel is the mean of a 2x2 area inside one uniform block, so values are exact.
        let small = try Exporter(options: ExportOptions(maxSize: 8)).run(from: dataset, to: dir.appendingPathComponent("s"))
        guard case .eight(let r8) = try PNGFile.read(small.folder.appendingPathComponent("source/0001_blocks.png")) else {
            Issue.record("not an 8-bit PNG")
            return
        }
        #expect(r8.width == 8 && r8.height == 4)
        for y in 0..<4 {
            for x in 0..<8 {
                #expect(r8.samples[(y * 8 + x) * 3] == UInt8(((y / 2) * 4 + x / 2) * 20), "pixel \(x),\(y)")
            }
        }
        let manifest = String(decoding: try Data(contentsOf: small.folder.appendingPathComponent("manifest.json")),
                              as: UTF8.self)
        #expect(manifest.contains("\"width\" : 8") && manifest.contains("\"maxSize\" : 8"))
        // A non-integer factor keeps the mean: 8 -> 3 columns of a ramp.
        let ramp = RGBImage(width: 8, height: 1, pixels: (0..<24).map { Float($0 % 8) / 7 })
        let third = ramp.resizedByArea(width: 3, height: 1)
        let meanIn = ramp.plane(0).reduce(0, +) / 8, meanOut = third.plane(0).reduce(0, +) / 3
        #expect(abs(meanIn - meanOut) < 1e-6)
        #expect(third[0, 0, 0] < third[0, 1, 0] && third[0, 1, 0] < third[0, 2, 0])

        #expect(throws: DatasetError.self) {
            try Exporter(options: ExportOptions(depth: 12)).run(from: dataset, to: dir.appendingPathComponent("x"))
        }
    }

    @Test func refusesToReplaceAFolderThatIsNotAnExport() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        let out = dir.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: out.appendingPathComponent("thesis.tex"))
        #expect(throws: DatasetError.refusingToOverwrite(path: out.path)) {
            try Exporter(options: ExportOptions()).run(from: dataset, to: out)
        }
        #expect(try String(contentsOf: out.appendingPathComponent("thesis.tex"), encoding: .utf8) == "keep")
    }

    @Test func exportChecksTheCataloguedHashes() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let file = dataset.root.appendingPathComponent(try dataset.pair("1").source.path)
        var data = try Data(contentsOf: file)
        data[data.count - 1] ^= 0xFF
        try data.write(to: file)
        #expect(throws: DatasetError.self) {
            try Exporter(options: ExportOptions()).run(from: dataset, to: dir.appendingPathComponent("out"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}

@Suite struct ReviewVerdictExportTests {
    /// A pair the checks flagged for review is exported only after a person approves it.
    @Test func reviewPairsNeedApproval() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let scratch = dir.appendingPathComponent("scratch")
        for (i, verdict) in [Verdict.accepted, .review, .review].enumerated() {
            let item = try SyntheticCapture.make(index: i, seed: 5, in: scratch, width: 32, height: 24, scenes: 1)
            let capture = try dataset.ingestCapture(item.capture)
            var pair = item.pair(captureID: capture.id, verdict: verdict)
            pair.split = .test
            try dataset.addPair(pair)
        }
        let exporter = Exporter(options: ExportOptions(format: .realdof, split: .only(.test)))
        #expect(try exporter.run(from: dataset, to: dir.appendingPathComponent("before")).pairs == 1)
        try dataset.review(pair: "3", state: .approved, note: "the moving leaf is outside the crop")
        #expect(try exporter.run(from: dataset, to: dir.appendingPathComponent("after")).pairs == 2)
        #expect(try dataset.status().byVerdict == ["accepted": 1, "review": 2])
    }
}
