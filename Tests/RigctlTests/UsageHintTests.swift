import Foundation
import Testing

/// Mistyped words get a hint that points at what the person meant, not only the nearest word ArgumentParser found.
@Suite struct UsageHintTests {
    /// `--cout` is one edit from `--count` and from `--out` (which switches capture to files only): both are named.
    @Test func aMistypedOptionNamesEveryOptionAsNear() async throws {
        let run = try await CommandLine.run(["capture", "--rig", "bench.rig.json", "--scene", "a", "--cout", "2"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("Unknown option '--cout'. Did you mean '--count' or '--out'?"), "\(run.stderr)")
        let one = try await CommandLine.run(["dataset", "status", "--datset", "x"])
        #expect(one.status == 64)
        #expect(one.stderr.contains("Did you mean '--dataset'?"), "\(one.stderr)")
    }

    /// A mistyped subcommand followed by options is reported as the subcommand it is, with the nearest ones and
    /// the whole list, not as an unknown option of the command above it.
    @Test func aMistypedSubcommandIsNamedAsOne() async throws {
        let run = try await CommandLine.run(["dataset", "stats", "--dataset", "D"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("Unknown subcommand 'stats' of 'rigctl dataset'. Did you mean 'status'?"), "\(run.stderr)")
        #expect(run.stderr.contains("init, status, list, show, verify"), "\(run.stderr)")
        #expect(!run.stderr.contains("Unknown option"), "\(run.stderr)")
        let cut = try await CommandLine.run(["dataset", "stat"])
        #expect(cut.stderr.contains("Did you mean 'status'?"), "\(cut.stderr)")
        let top = try await CommandLine.run(["datset", "status"])
        #expect(top.status == 64)
        #expect(top.stderr.contains("Unknown subcommand 'datset' of 'rigctl'. Did you mean 'dataset'?"), "\(top.stderr)")
        // Words that are right still reach their command.
        #expect(try await CommandLine.run(["help", "dataset"]).status == 0)
        #expect(try await CommandLine.run(["dataset", "--help"]).status == 0)
    }
}
