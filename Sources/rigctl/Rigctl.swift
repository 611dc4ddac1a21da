import ArgumentParser
import Foundation
import Logging
import Imaging
import Rig

@main
struct Rigctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rigctl",
        abstract: "Build real defocus-deblurring benchmarks: capture, align, catalogue, deblur and score.",
        version: RigctlVersion.string,
        subcommands: [
            // In the order of the work: cameras, capture and processing, the dataset, scoring, tools.
            VirtualRigCommand.self,
            RigCommand.self,
            CaptureCommand.self,
            ProcessCommand.self,
            Align.self,
            DatasetCommand.self,
            ReviewCommand.self,
            ImportCommand.self,
            ExportCommand.self,
            EvaluateCommand.self,
            MetricsCommand.self,
            ModelCommand.self,
            DeblurCommand.self,
            LPIPSCommand.self,
            Convert.self,
            TestChartCommand.self,
        ]
    )
}

extension Rigctl {
    /// Log messages (busy retries, reconnects, virtual camera connections) go to standard error; the level comes
    /// from RIGCTL_LOG_LEVEL (trace, debug, info, notice, warning, error, critical; default notice).
    static func main() async {
        // libgphoto2 closes descriptor 0 whenever a PTP/IP camera disconnects; started without standard input, the
        // first file this process opened would get number 0 and be closed under it. Keep 0-2 taken, and 0 for good
        // (every close(0) in the process is ignored from here on).
        DescriptorZero.guardOnce()
        for fd in Int32(1)...2 where fcntl(fd, F_GETFD) == -1 { _ = open("/dev/null", O_RDWR) }
        let level = ProcessInfo.processInfo.environment["RIGCTL_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level ?? .notice
            return handler
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

enum RigctlVersion {
    static let number = "0.1.0"

    /// The version with the C libraries underneath, since decoding results depend on them.
    static var string: String {
        let libraries = (ImagingLibraries.versions + [("libgphoto2", GPhotoLibrary.version)])
            .map { "\($0.name) \($0.version)" }.joined(separator: ", ")
        return "rigctl \(number) (\(libraries))"
    }
}
