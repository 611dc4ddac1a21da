import ArgumentParser
import DatasetBuilder
import Foundation
import Review
import WebServing

/// `rigctl review`: the browser review of a dataset's pairs (see docs/review.md).
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review a dataset's pairs in the browser: queue, pair viewer and decisions.",
        discussion: """
            Serves on 127.0.0.1 by default and prints the address to open. With --host other than a loopback \
            address it generates a token and prints an address that carries it; every request must present it. \
            The catalogue is opened read-only (no writer's lock, decision buttons hidden, decision requests refused) \
            unless --decisions is given; then it is opened for writing and decisions go through the catalogue exactly \
            as `rigctl dataset review` does. Stops on Ctrl-C or SIGTERM.
            """
    )

    @OptionGroup var location: DatasetLocation
    @Option(help: "Port to listen on (0: any free port).") var port: Int = 8417
    @Option(help: "Address to listen on; 0.0.0.0 serves the lab's network and requires the printed token.")
    var host: String = "127.0.0.1"
    @Flag(help: "Enable decisions: open the catalogue for writing (holding the writer's lock) and accept approve/reject. Without it the catalogue is opened read-only.")
    var decisions = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        let dataset = try reportingErrors { try location.open(readOnly: !decisions) }
        let options = ReviewOptions(host: host, port: port)
        let server = ReviewServer(dataset: dataset, options: options)
        do {
            try await server.run(stopOnSignals: true) { address in
                var lines = ["rigctl review: serving \(dataset.root.path)\(decisions ? " (decisions on)" : " (read-only; --decisions enables decisions)") at \(address.url)"]
                if address.token != nil {
                    lines.append("rigctl review: the token in this address is required; share it only with people who may decide on pairs")
                }
                lines.append("rigctl review: Ctrl-C stops")
                print(lines.joined(separator: "\n"))
                fflush(nil)  // the address must reach a pipe at once, not at exit
            }
        } catch {
            let reason = ListenFailure(error)?.explanation(host: host, port: port) ?? "\(error)"
            FileHandle.standardError.write(Data("rigctl: error: cannot serve on \(host):\(port): \(reason)\n".utf8))
            throw ExitCode(ExitStatus.failure)
        }
    }
}
