import Foundation
import PairVocabulary

/// A 95 % interval.
public struct Interval: Sendable, Equatable, Codable {
    public var low: Double
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }

    public func contains(_ value: Double) -> Bool { low <= value && value <= high }

    /// False for the interval of a single scene, which a bootstrap over scenes cannot give (both ends NaN, null
    /// in JSON): one scene's pairs say nothing about how another scene would score.
    public var isKnown: Bool { !low.isNaN && !high.isNaN }

    enum CodingKeys: String, CodingKey { case low, high }

    /// Unknown ends (one scene) and infinite ones (a perfect output's PSNR) are written as null, as everywhere in
    /// rigctl's JSON, and read back as unknown.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(low.isFinite ? low : nil, forKey: .low)
        try c.encode(high.isFinite ? high : nil, forKey: .high)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        low = try c.decodeIfPresent(Double.self, forKey: .low) ?? .nan
        high = try c.decodeIfPresent(Double.self, forKey: .high) ?? .nan
    }

    /// Two unknown ends are equal (NaN is not equal to itself).
    public static func == (a: Interval, b: Interval) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.low, b.low) && same(a.high, b.high)
    }
}

/// How sure a table row's means are: a 95 % percentile-bootstrap interval per metric, resampling scenes (pairs of
/// one scene share a subject, light and focus distance, so they are not independent draws).
public struct MethodUncertainty: Sendable, Equatable, Codable {
    /// Scenes resampled (a folder set's pairs are each their own scene).
    public var scenes: Int
    public var psnr: Interval
    public var ssim: Interval
    public var mae: Interval
    public var lpips: Interval?

    public init(scenes: Int, psnr: Interval, ssim: Interval, mae: Interval, lpips: Interval?) {
        self.scenes = scenes
        self.psnr = psnr
        self.ssim = ssim
        self.mae = mae
        self.lpips = lpips
    }
}

/// A row against the reference row on the same pairs: the mean per-pair difference (row minus reference) of each
/// metric with its paired-bootstrap 95 % interval over scenes, and whether the difference holds (the interval
/// leaves out 0).
public struct MethodComparison: Sendable, Equatable, Codable {
    public struct Difference: Sendable, Equatable, Codable {
        public var difference: Double
        public var interval: Interval
        public var holds: Bool

        public init(difference: Double, interval: Interval) {
            self.difference = difference
            self.interval = interval
            self.holds = difference.isFinite && interval.isKnown && !interval.contains(0)
        }

        enum CodingKeys: String, CodingKey { case difference, interval, holds }

        /// An infinite difference (one output identical to its target) is null, as infinite PSNR is.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(difference.isFinite ? difference : nil, forKey: .difference)
            try c.encode(interval, forKey: .interval)
            try c.encode(holds, forKey: .holds)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            difference = try c.decodeIfPresent(Double.self, forKey: .difference) ?? .infinity
            interval = try c.decode(Interval.self, forKey: .interval)
            holds = try c.decode(Bool.self, forKey: .holds)
        }
    }

    public var against: String
    public var psnr: Difference
    public var ssim: Difference
    public var mae: Difference
    public var lpips: Difference?
}

/// The percentile bootstrap over scenes behind `MethodUncertainty` and `MethodComparison`. Each of `resamples`
/// draws picks as many scenes as there are, with replacement, and takes the mean over every pair of the drawn
/// scenes (a scene drawn twice counts twice); the interval is the 2.5th and 97.5th percentiles of those means.
/// Seeded, so the same scores give the same intervals on every machine.
public struct SceneBootstrap: Sendable {
    public var resamples: Int
    public var seed: UInt64

    public init(resamples: Int = 2000, seed: UInt64 = 0x5EED_B007) {
        self.resamples = max(1, resamples)
        self.seed = seed
    }

    /// The interval of the mean of `values`, grouped by scene (`scene[i]` for `values[i]`); unknown (NaN) with
    /// fewer than two scenes.
    public func interval(_ values: [Double], scenes: [String]) -> Interval {
        let groups = Self.group(values, scenes: scenes)
        guard groups.count >= 2 else { return Interval(low: .nan, high: .nan) }
        var generator = SplitMix64(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0, count = 0
            for _ in 0..<groups.count {
                let g = groups[Int(generator.next() % UInt64(groups.count))]
                sum += g.sum
                count += g.count
            }
            means.append(sum / Double(count))
        }
        means.sort()
        func percentile(_ p: Double) -> Double {
            let position = p * Double(means.count - 1)
            let below = Int(position.rounded(.down)), above = min(means.count - 1, below + 1)
            let t = position - Double(below)
            if t == 0 || means[below] == means[above] { return means[below] }
            return means[below] * (1 - t) + means[above] * t
        }
        return Interval(low: percentile(0.025), high: percentile(0.975))
    }

    /// Scenes in order of first appearance, with each one's sum and number of values.
    static func group(_ values: [Double], scenes: [String]) -> [(sum: Double, count: Int)] {
        var index: [String: Int] = [:]
        var groups: [(sum: Double, count: Int)] = []
        for (value, scene) in zip(values, scenes) {
            if let i = index[scene] {
                groups[i].sum += value
                groups[i].count += 1
            } else {
                index[scene] = groups.count
                groups.append((value, 1))
            }
        }
        return groups
    }

    /// Intervals for one method's per-pair results; `scene` names each pair's scene.
    public func uncertainty(of results: [PairResult], scene: (String) -> String) -> MethodUncertainty {
        let scenes = results.map { scene($0.pair) }
        let lpips = results.allSatisfy { $0.scores.lpips != nil } && !results.isEmpty
            ? interval(results.map { $0.scores.lpips! }, scenes: scenes) : nil
        return MethodUncertainty(scenes: Set(scenes).count, psnr: interval(results.map(\.scores.psnr), scenes: scenes),
                                 ssim: interval(results.map(\.scores.ssim), scenes: scenes),
                                 mae: interval(results.map(\.scores.mae), scenes: scenes), lpips: lpips)
    }

    /// `results` against `reference` pair by pair (only the pairs both have); nil when they share none.
    public func compare(_ results: [PairResult], with reference: [PairResult], named: String,
                        scene: (String) -> String) -> MethodComparison? {
        let byPair = Dictionary(reference.map { ($0.pair, $0) }, uniquingKeysWith: { a, _ in a })
        let matched = results.compactMap { r in byPair[r.pair].map { (r, $0) } }
        guard !matched.isEmpty else { return nil }
        let scenes = matched.map { scene($0.0.pair) }
        func difference(_ metric: (PairResult) -> Double?) -> MethodComparison.Difference? {
            var values: [Double] = []
            for (a, b) in matched {
                guard let x = metric(a), let y = metric(b) else { return nil }
                values.append(x - y)
            }
            return MethodComparison.Difference(difference: values.reduce(0, +) / Double(values.count),
                                               interval: interval(values, scenes: scenes))
        }
        return MethodComparison(against: named, psnr: difference { $0.scores.psnr }!, ssim: difference { $0.scores.ssim }!,
                                mae: difference { $0.scores.mae }!, lpips: difference { $0.scores.lpips })
    }
}

extension EvaluationReport {
    /// Every row with its intervals and, when `reference` names a row, its comparison with that row (the
    /// reference row itself gets none). `scene` names each pair's scene (a folder set: the pair itself).
    public mutating func addUncertainty(scene: (String) -> String, reference: String?,
                                        bootstrap: SceneBootstrap = SceneBootstrap()) {
        let referenceResults = reference.map { name in results.filter { $0.method == name } }
        for i in methods.indices {
            let mine = results.filter { $0.method == methods[i].name }
            guard !mine.isEmpty else { continue }
            methods[i].uncertainty = bootstrap.uncertainty(of: mine, scene: scene)
            if let reference, let referenceResults, methods[i].name != reference {
                methods[i].comparison = bootstrap.compare(mine, with: referenceResults, named: reference, scene: scene)
            }
        }
    }
}

/// What `evaluate --by` makes one table per: a catalogue's scenes, its scene tags, or its camera pairs.
public enum SubsetKey: String, Sendable, CaseIterable {
    case scene, tag, cameras
}

extension EvaluationReport {
    /// Rows per subset, in order of each subset's first pair: for every subset and method, the means over the
    /// subset's pairs, their intervals (bootstrap over the subset's scenes) and the comparison with `reference`.
    /// `subsets` names the subsets a pair belongs to (a pair is in one per tag of its scene), labelled
    /// "KEY=VALUE".
    public func subsetRows(key: SubsetKey, subsets: (String) -> [String], scene: (String) -> String,
                           reference: String?, bootstrap: SceneBootstrap = SceneBootstrap()) -> [MethodSummary] {
        var order: [String] = []
        var members: [String: Set<String>] = [:]
        for result in results {
            for subset in subsets(result.pair) {
                if members[subset] == nil { order.append(subset) }
                members[subset, default: []].insert(result.pair)
            }
        }
        var rows: [MethodSummary] = []
        for subset in order {
            let pairs = members[subset] ?? []
            var part = EvaluationReport(methods: [], results: results.filter { pairs.contains($0.pair) },
                                        croppedToMultipleOf8: croppedToMultipleOf8, scoreProtocol: scoreProtocol)
            part.methods = methods.compactMap { method in
                let mine = part.results.filter { $0.method == method.name }
                guard !mine.isEmpty else { return nil }
                var row = Evaluator.summarize(name: method.name, complexity: method.complexity, results: mine)
                row.scoreProtocol = method.scoreProtocol
                row.subset = "\(key.rawValue)=\(subset)"
                return row
            }
            part.addUncertainty(scene: scene, reference: reference, bootstrap: bootstrap)
            rows += part.methods
        }
        return rows
    }
}
