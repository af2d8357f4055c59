import Foundation
import SwiftProtobuf
import TesseraModels

/// An ONNX model imported as a Tessera ``Network`` with its weights.
///
/// Reads models as `torch.onnx.export` writes torchvision's ResNet-50 and EfficientNet-B0
/// (opsets 13–18, both the TorchScript and the dynamo exporter): Conv, BatchNormalization, Relu,
/// Sigmoid, Tanh, HardSwish, Mul (SiLU as x·sigmoid(x), and channel scaling), Add, MaxPool,
/// GlobalAveragePool / ReduceMean over H and W, Flatten / Reshape to [N, −1], Gemm (with or without
/// its bias), Identity (also of a weight, as the exporter names deduplicated weights) and Dropout;
/// initializers inline or in external data files beside the model.
public struct ONNXModel: Sendable {
    /// The network, nodes named after their weights (torchvision's module paths for torch exports).
    public var network: Network
    /// Weights by the network's parameter names ("<node>.weight", "<node>.bias", and for batch
    /// norm "<node>.running_mean", "<node>.running_var"), as float32.
    public var weights: [String: NumPyArray]
    /// Opset of the default domain.
    public var opset: Int

    /// Imports the model in `data`; a dynamic batch dimension takes the value `batch`. Initializers
    /// stored as external data are read from files in `externalDataDirectory` (the model's folder).
    public init(data: Data, batch: Int = 1, externalDataDirectory: URL? = nil) throws(ONNXError) {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw .notONNX(detail: "protobuf decoding failed (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw .notONNX(detail: "no graph with nodes (\(data.count) bytes read)")
        }
        opset = Int(model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0)
        guard (7...25).contains(opset) else { throw .badModel(detail: "default-domain opset \(opset) is not supported (13–18 are tested)") }
        var initializers: [String: NumPyArray] = [:], external = ONNXExternalData(directory: externalDataDirectory)
        for var tensor in model.graph.initializer {
            if tensor.dataLocation == .external {
                tensor.rawData = try external.bytes(of: tensor)
            }
            initializers[tensor.name] = try Self.array(tensor)
        }
        var importer = ONNXGraphImporter(graph: model.graph, weights: initializers, batch: batch)
        network = try importer.importNetwork()
        weights = importer.weights
    }

    /// Imports the model file at `url`, with any external data files beside it.
    public init(contentsOf url: URL, batch: Int = 1) throws {
        try self.init(data: try Data(contentsOf: url), batch: batch, externalDataDirectory: url.deletingLastPathComponent())
    }

    /// An initializer as float32 values.
    static func array(_ tensor: Onnx_TensorProto) throws(ONNXError) -> NumPyArray {
        let shape = tensor.dims.map(Int.init)
        // In checked arithmetic: a damaged file may give any dimensions.
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow, product <= Int(Int32.max) else {
                throw .badModel(detail: "initializer '\(tensor.name)' has dimensions \(shape)")
            }
            count = product
        }
        let values: [Float]
        switch tensor.dataType {
        case 1:  // FLOAT
            values = tensor.hasRawData ? tensor.rawData.withUnsafeBytes { raw in
                (0..<min(count, raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            } : tensor.floatData
        case 7:  // INT64
            values = tensor.hasRawData ? tensor.rawData.withUnsafeBytes { raw in
                (0..<min(count, raw.count / 8)).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            } : tensor.int64Data.map(Float.init)
        default:
            throw .badModel(detail: "initializer '\(tensor.name)' has ONNX data type \(tensor.dataType); float32 and int64 are supported")
        }
        guard values.count == count else {
            throw .badModel(detail: "initializer '\(tensor.name)' holds \(values.count) values for shape \(shape)")
        }
        return NumPyArray(shape: shape, values: values)
    }
}
