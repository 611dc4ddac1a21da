import Evaluation
import ArgumentParser
import Foundation

/// Exit codes that scripts can rely on (the table in README.md). 0 is success.
enum ExitStatus {
    /// A failure of the environment: cannot write, a camera that fails, a dataset that does not verify.
    static let failure: Int32 = 1
    /// Bad input: a file that cannot be read, a damaged or unsupported file, bad weights.
    static let badInput: Int32 = 2
    /// `align` judged the pair not usable; `capture` and `process` when every pair of the run was rejected.
    static let rejectedPair: Int32 = 3
    /// A usage error: an unknown option, a missing or invalid argument. ArgumentParser exits with it
    /// (`ExitCode.validationFailure`, EX_USAGE); named here so that the table is in one place.
    static let usage: Int32 = ExitCode.validationFailure.rawValue
    /// Stopped by Ctrl-C (SIGINT) or SIGTERM after a clean stop: the work in hand was finished and committed, the
    /// rest resumes with `rigctl process`. 128 + SIGINT, as a shell reports a process killed by Ctrl-C.
    static let interrupted: Int32 = 130
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
    if case EvaluationError.cancelled = error { return ExitStatus.interrupted }
    if let classified = error as? ClassifiedError { return classified.isBadInput ? ExitStatus.badInput : ExitStatus.failure }
    return ExitStatus.failure
}

/// Errors that know whether they come from bad input or from a failure elsewhere.
protocol ClassifiedError: Error {
    var isBadInput: Bool { get }
}
