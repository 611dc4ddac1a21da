import ArgumentParser
import Foundation

/// Exit codes that scripts can rely on.
enum ExitStatus {
    /// Bad input: a file that cannot be read, a damaged or unsupported file, bad weights.
    static let badInput: Int32 = 2
    /// A failure of the environment: cannot write, a camera that fails.
    static let failure: Int32 = 1
}

/// Prints an error as one clear line on standard error and exits with a status that says what kind it was,
/// instead of a stack trace.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("rigctl: error: \(error)\n".utf8))
        throw ExitCode(exitStatus(for: error))
    }
}

func exitStatus(for error: Error) -> Int32 {
    if let classified = error as? ClassifiedError { return classified.isBadInput ? ExitStatus.badInput : ExitStatus.failure }
    return ExitStatus.failure
}

/// Errors that know whether they come from bad input or from a failure elsewhere.
protocol ClassifiedError: Error {
    var isBadInput: Bool { get }
}
