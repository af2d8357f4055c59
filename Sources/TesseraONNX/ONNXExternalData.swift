import Foundation

/// The files beside a model that hold initializer values stored outside it (ONNX "external data",
/// which torch.onnx.export's dynamo exporter writes by default as `<model>.onnx.data`).
struct ONNXExternalData {
    /// Folder of the model file; nil for a model given as bytes.
    let directory: URL?
    private var files: [String: Data] = [:]

    init(directory: URL?) {
        self.directory = directory
    }

    /// The bytes of `tensor` named by its `location`, `offset` and `length` entries.
    mutating func bytes(of tensor: Onnx_TensorProto) throws(ONNXError) -> Data {
        var entries: [String: String] = [:]
        for entry in tensor.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw .badModel(detail: "initializer '\(tensor.name)' is stored externally but names no location")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw .badModel(detail: "initializer '\(tensor.name)': external data location '\(location)' is outside the model's folder")
        }
        guard let directory else {
            throw .badModel(detail: "initializer '\(tensor.name)' keeps its values in the external file '\(location)'; "
                + "load the model from its file (ONNXModel(contentsOf:)) so the file beside it can be read")
        }
        if files[location] == nil {
            let url = directory.appendingPathComponent(location)
            do {
                files[location] = try Data(contentsOf: url, options: .alwaysMapped)
            } catch {
                throw .badModel(detail: "initializer '\(tensor.name)': cannot read external data file \(url.path) (\(error.localizedDescription))")
            }
        }
        let file = files[location]!
        let offset = Int(entries["offset"] ?? "0"), length = entries["length"].map { Int($0) } ?? offset.map { file.count - $0 }
        // Compared without adding them: a damaged entry may hold any number.
        guard let offset, let length, offset >= 0, length >= 0, offset <= file.count, length <= file.count - offset else {
            throw .badModel(detail: "initializer '\(tensor.name)': bytes \(entries["offset"] ?? "0")+\(entries["length"] ?? "?") "
                + "lie outside '\(location)' (\(file.count) bytes)")
        }
        return file.subdata(in: offset..<(offset + length))
    }
}
