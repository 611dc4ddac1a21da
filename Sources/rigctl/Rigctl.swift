import ArgumentParser
import Imaging

@main
struct Rigctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rigctl",
        abstract: "Build real defocus-deblurring benchmarks: capture, align, catalogue, deblur and score.",
        version: RigctlVersion.string,
        subcommands: [
            Convert.self,
            TestChartCommand.self,
            ModelCommand.self,
            DeblurCommand.self,
            MetricsCommand.self,
            EvaluateCommand.self,
            LPIPSCommand.self,
            VirtualRigCommand.self,
            RigCommand.self,
            CaptureCommand.self,
            ProcessCommand.self,
            DatasetCommand.self,
            ImportCommand.self,
            ExportCommand.self,
            Align.self,
        ]
    )
}

enum RigctlVersion {
    static let number = "0.1.0"

    /// The version with the C libraries underneath, since decoding results depend on them.
    static var string: String {
        let libraries = ImagingLibraries.versions.map { "\($0.name) \($0.version)" }.joined(separator: ", ")
        return "rigctl \(number) (\(libraries))"
    }
}
