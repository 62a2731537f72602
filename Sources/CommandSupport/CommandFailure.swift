import ArgumentParser
import Foundation
import SyncCore

/// How every executable reports a failure: one rule, one exit code per kind of error (the
/// README's table, from `SyncError.exitCode`).
///
/// - A **bad value** on a well-formed command line is invalid input: an unknown form or content
///   code, a date or period that does not exist, a negative or non-numeric count, an unknown
///   report format or task status, a number out of its range. Whether it is caught while parsing
///   (a typed option's `transform`, see `CommandLineValue`), in `validate()` or in `run()`, it is
///   a `SyncError`: stderr gets `Lỗi: <message naming the field and the value>` and the process
///   exits with the error's code, 2 for invalid input, whichever command was given the value.
/// - A value the **command's own rules** require, where ArgumentParser sees only optional options
///   (`hub report` needs `--period` or both `--from` and `--to`; `unit-client init` needs
///   `--enrolment` or `--unit`), is invalid input too: `Lỗi: Thiếu «--to»: …`, exit 2.
/// - A **bad command line** is what ArgumentParser itself finds wrong with its shape: an unknown
///   command or option, an option without its value, an option it knows to be required left out.
///   It keeps ArgumentParser's message and usage text and exit 64 (`EX_USAGE`).
/// - Every other `SyncError` from `run()` exits with its own code (3 not found, 4 forbidden or
///   unauthorised, 5 database, 6 state conflict, 7 corrupt, 8 network); anything else exits 1.
public enum CommandFailure {
    /// The `SyncError` behind `error`: the error itself when `run()` threw it, or the one
    /// ArgumentParser wrapped when a `transform` or `validate()` threw it while parsing.
    ///
    /// ArgumentParser keeps the thrown error inside its own, non-public error values
    /// (`CommandError` holding `ParserError.unableToParseValue(…, originalError:)` or
    /// `.userValidationError(_:)`), so this looks through those, and only those, by reflection.
    public static func syncError(in error: any Error) -> SyncError? {
        if let e = error as? SyncError { return e }
        guard String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") else { return nil }
        return find(error, depth: 0)
    }

    private static func find(_ value: Any, depth: Int) -> SyncError? {
        if let e = value as? SyncError { return e }
        guard depth < 8 else { return nil }
        for child in Mirror(reflecting: value).children {
            if let e = find(child.value, depth: depth + 1) { return e }
        }
        return nil
    }

    /// Writes `Lỗi: <message>` on stderr and returns the exit code for `error`.
    public static func report(_ error: SyncError) -> Int32 {
        FileHandle.standardError.write(Data("Lỗi: \(error.message)\n".utf8))
        return error.exitCode
    }
}

extension AsyncParsableCommand {
    /// The `main()` of a root command: parses, runs, and reports a failure by the rule of
    /// `CommandFailure`. Commands simply throw; none catches its own `SyncError`. `faultHook`:
    /// arm the test-only `CCHC_FAULT` hook (`FaultHook`), refusing a malformed value (exit 2).
    public static func mainReportingErrors(_ arguments: [String]? = nil, faultHook: Bool = false) async {
        // The plan's master data first: without it no command can run, and it must say why.
        if case .failure(let missing) = Catalog.standardResult { exit(withError: ExitCode(CommandFailure.report(missing))) }
        if faultHook {
            do {
                try FaultHook.install()
            } catch {
                exit(withError: ExitCode(CommandFailure.syncError(in: error).map(CommandFailure.report) ?? 1))
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard let failure = CommandFailure.syncError(in: error) else { exit(withError: error) }
            exit(withError: ExitCode(CommandFailure.report(failure)))
        }
    }
}
