import ArgumentParser
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

enum RigctlVersion {
    static let number = "0.1.0"

    /// The version with the C libraries underneath, since decoding results depend on them.
    static var string: String {
        let libraries = (ImagingLibraries.versions + [("libgphoto2", GPhotoLibrary.version)])
            .map { "\($0.name) \($0.version)" }.joined(separator: ", ")
        return "rigctl \(number) (\(libraries))"
    }
}
