import Foundation

/// Runs `scripts/<name>` with python3 and `arguments`, feeding it `input` on standard input, and
/// decodes the JSON it prints: how the benchmarks time ONNX Runtime in the same run.
func runReferenceScript<Result: Decodable>(_ name: String, arguments: [String], input: Data? = nil, as _: Result.Type) throws -> Result {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/\(name)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.standardized.path] + arguments
    let output = Pipe(), standardInput = Pipe()
    process.standardOutput = output
    if input != nil { process.standardInput = standardInput }
    try process.run()
    if let input {
        standardInput.fileHandleForWriting.write(input)
        try standardInput.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return try JSONDecoder().decode(Result.self, from: data)
}
