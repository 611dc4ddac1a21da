import Foundation
import TestSupport
import Testing

extension DatasetWorkflowTests {
    /// Two scenes at the default fraction: the hash sends neither to test ("desk" and "shelf" hash to 0.22 and
    /// 0.79 with the default seed). `split` records that, says so with what to do and exits 1; `--all-test` makes
    /// the whole dataset a test set, as RealDOF is.
    @Test func aSplitThatLeavesTestEmptySaysSoAndAllTestTakesEverything() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let home = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds]).status == 0)
        for (n, scene) in ["desk", "shelf"].enumerated() {
            let set = try pairFolder(dir.appendingPathComponent("set-\(scene)"), names: ["p1", "p2"], seed: n * 10)
            let imported = try await CommandLine.run(["import", set.path, "--layout", "pairs", "--dataset", ds, "--scene", scene],
                                                     environment: home)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let split = try await CommandLine.run(["dataset", "split", "--dataset", ds], environment: home)
        #expect(split.status == 1, "\(split.stdout) \(split.stderr)")
        #expect(split.stdout.contains("test: 0 scenes, train: 2 scenes"), "\(split.stdout)")
        #expect(split.stderr.contains("no scene went to test") && split.stderr.contains("--all-test"), "\(split.stderr)")

        let all = try await CommandLine.run(["dataset", "split", "--dataset", ds, "--all-test"], environment: home)
        #expect(all.status == 0, "\(all.stdout) \(all.stderr)")
        #expect(all.stdout.contains("test: 2 scenes, train: 0 scenes") && all.stdout.contains("test 4"), "\(all.stdout)")
        #expect(all.stderr.isEmpty, "\(all.stderr)")

        let both = try await CommandLine.run(["dataset", "split", "--dataset", ds, "--all-test", "--test-fraction", "0.5"])
        #expect(both.status == 64, "\(both.stderr)")
    }
}
