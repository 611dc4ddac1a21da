import DatasetBuilder
import Foundation
import PairVocabulary
import Imaging

/// A fresh temporary directory per test, removed by the caller's `defer`.

/// Writes a small 8-bit RGB PNG whose pixels depend on `seed`, so different seeds give different files.
@discardableResult
func writePNG(_ url: URL, width: Int = 24, height: Int = 16, seed: UInt64) throws -> URL {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    var rng = SplitMix64(seed: seed)
    let samples = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    try PNGFile.write(Raster8(width: width, height: height, channels: 3, samples: samples), to: url)
    return url
}

/// Every regular file under `folder`, relative path to bytes.
func contents(of folder: URL) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let base = folder.standardizedFileURL.path
    guard let enumerator = FileManager.default.enumerator(atPath: base) else { return out }
    for case let relative as String in enumerator {
        let url = URL(fileURLWithPath: base + "/" + relative)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            out[relative] = try Data(contentsOf: url)
        }
    }
    return out
}

/// A dataset with `count` synthetic captures and their pairs, half of the pairs in test.
func makeDataset(in dir: URL, count: Int, seed: UInt64 = 1, scenes: Int = 4) throws -> Dataset {
    let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
    let scratch = dir.appendingPathComponent("scratch")
    for i in 0..<count {
        let item = try SyntheticCapture.make(index: i, seed: seed, in: scratch, width: 32, height: 24, scenes: scenes)
        let capture = try dataset.ingestCapture(item.capture)
        var pair = item.pair(captureID: capture.id, verdict: i % 5 == 4 ? .rejected : .accepted)
        pair.split = i % 2 == 0 ? .test : .train
        try dataset.addPair(pair)
    }
    return dataset
}
