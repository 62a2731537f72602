import ArgumentParser

/// `--json` for the commands that print something a program may read.
public struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "In kết quả dạng JSON (cho máy đọc).")
    public var json = false

    public init() {}
}
