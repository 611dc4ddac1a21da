import ArgumentParser
import DatasetBuilder
import Foundation
import Logging
import Imaging
import NeuralCore
import PairVocabulary
import Rig

@main
struct Rigctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rigctl",
        abstract: "Build real defocus-deblurring benchmarks: capture, align, catalogue, deblur and score.",
        version: RigctlVersion.forConfiguration,
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
        // A write to a closed socket or pipe must be an error the caller reports (libgphoto2 writes CloseSession to
        // a camera that has gone), not a silent death by SIGPIPE; sends and writes then fail with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        // Past a file size limit (`ulimit -f`) a write must fail with EFBIG, which the writers report naming the
        // limit and after which they remove their temporary, not kill the process mid-file with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        // The networks allocate and free blocks of hundreds of megabytes layer after layer; reusing them instead
        // of mapping fresh pages each time takes most of a large deblur's system time away (docs/ifan.md).
        // RIGCTL_MALLOC=system keeps glibc's default, to measure the difference.
        if ProcessInfo.processInfo.environment["RIGCTL_MALLOC"] != "system" { AllocatorPolicy.retainFreedMemory() }
        if let shortfall = DescriptorLimit.shortfall() {
            FileHandle.standardError.write(Data("rigctl: error: \(shortfall)\n".utf8))
            Glibc.exit(ExitStatus.failure)
        }
        if let bad = invalidArgument() {
            let message = "rigctl: error: argument \(bad.index) (\(bad.printable)) is not valid UTF-8; "
                + "rigctl takes file names and other arguments in UTF-8 only\n"
            FileHandle.standardError.write(Data(message.utf8))
            Glibc.exit(ExitStatus.badInput)
        }
        let level = ProcessInfo.processInfo.environment["RIGCTL_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level ?? .notice
            return handler
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let hint = UsageHints.unknownSubcommand(arguments, root: Rigctl.self) {
            FileHandle.standardError.write(Data("Error: \(hint)\n".utf8))
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch where message(for: error).hasPrefix("Unknown option") {
            let text = UsageHints.message(for: error, arguments: arguments, root: Rigctl.self)
            FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
            Glibc.exit(exitCode(for: error).rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

extension Rigctl {
    /// The first command-line argument that is not valid UTF-8. Swift would repair it with U+FFFD, turning an
    /// existing file's name into one that does not exist (or writing a file under another name), so it is refused.
    static func invalidArgument() -> (index: Int, printable: String)? {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            if String(validatingCString: pointer) == nil {
                let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                count: strlen(pointer))
                let printable = bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }
                return (index, printable.joined())
            }
        }
        return nil
    }
}

enum RigctlVersion {
    static let number = RigctlRelease.number

    /// The version text the command line carries. The full one names the network kernels, which loads OpenBLAS and
    /// starts its thread pool (joined again at exit); only `--version` asks for it, so import, export, status and
    /// the other commands without a network never load the library - under `ulimit -v` its thread could not
    /// allocate its buffers and the exit waited for it forever.
    static var forConfiguration: String {
        CommandLine.arguments.dropFirst().contains("--version") ? string : "rigctl \(number)"
    }

    /// The version with the C libraries underneath, since decoding results depend on them, and the network kernels
    /// chosen for this CPU, since speed does.
    static var string: String {
        let libraries = (ImagingLibraries.versions + [("libgphoto2", GPhotoLibrary.version)])
            .map { "\($0.name) \($0.version)" }.joined(separator: ", ")
        return "rigctl \(number) (\(libraries))\n\(Kernels.summary)"
    }
}
