import ArgumentParser

@main
struct Rigctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rigctl",
        abstract: "Build real defocus-deblurring benchmarks: capture, align, catalogue, deblur and score.",
        version: RigctlVersion.string,
        subcommands: [
            Convert.self,
            Align.self,
        ]
    )
}

enum RigctlVersion {
    static let string = "0.1.0"
}
