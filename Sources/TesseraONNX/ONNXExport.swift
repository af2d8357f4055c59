import Foundation
import SwiftProtobuf
import TesseraModels

extension ONNXModel {
    /// `network` with `weights` as an ONNX model (opset 17), as torch.onnx.export would write it:
    /// so that other runtimes (ONNX Runtime, Netron) can run or show exactly what Tessera runs.
    /// The input is named "input", the output "output".
    public static func export(_ network: Network, weights: [String: NumPyArray]) throws(ONNXError) -> Data {
        var graph = Onnx_GraphProto()
        graph.name = network.name
        var names: [String] = []
        func tensorValue(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
            var info = Onnx_ValueInfoProto()
            info.name = name
            info.type.tensorType.elemType = 1
            info.type.tensorType.shape.dim = shape.map { size in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(size)
                return dim
            }
            return info
        }
        func initializer(_ name: String) throws(ONNXError) -> String {
            guard let array = weights[name] else { throw .badModel(detail: "no weights for '\(name)'") }
            var tensor = Onnx_TensorProto()
            tensor.name = name
            tensor.dataType = 1
            tensor.dims = array.shape.map(Int64.init)
            tensor.rawData = array.values.withUnsafeBytes { Data($0) }
            graph.initializer.append(tensor)
            return name
        }
        func node(_ type: String, _ name: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
            var node = Onnx_NodeProto()
            node.opType = type
            node.name = name
            node.input = inputs
            node.output = [name + ":0"]
            node.attribute = attributes
            graph.node.append(node)
            return node.output[0]
        }
        for (index, netNode) in network.nodes.enumerated() {
            let inputs = netNode.inputs.map { names[$0] }
            let name = netNode.name
            let output: String
            switch netNode.operation {
            case .input:
                graph.input.append(tensorValue("input", netNode.outputShape))
                output = "input"
            case let .convolution(_, kernel, stride, padding, groups, bias):
                var operands = inputs + [try initializer(name + ".weight")]
                if bias { operands.append(try initializer(name + ".bias")) }
                output = node("Conv", name, operands, [ints("kernel_shape", [kernel, kernel]), ints("strides", [stride, stride]),
                                                       ints("pads", [padding, padding, padding, padding]), int("group", groups)])
            case let .batchNorm(epsilon):
                let operands = try ["weight", "bias", "running_mean", "running_var"].map { (suffix) throws(ONNXError) in try initializer("\(name).\(suffix)") }
                output = node("BatchNormalization", name, inputs + operands, [float("epsilon", Float(epsilon))])
            case .groupNorm:
                throw .badModel(detail: "node '\(name)': group normalisation is not exported (its ONNX form changed between opsets)")
            case .relu: output = node("Relu", name, inputs)
            case .sigmoid: output = node("Sigmoid", name, inputs)
            case .tanh: output = node("Tanh", name, inputs)
            case .hardSwish: output = node("HardSwish", name, inputs)
            case .silu: output = node("Mul", name, [inputs[0], node("Sigmoid", name + ".sigmoid", inputs)])
            case let .maxPool(kernel, stride, padding):
                output = node("MaxPool", name, inputs, [ints("kernel_shape", [kernel, kernel]), ints("strides", [stride, stride]),
                                                       ints("pads", [padding, padding, padding, padding])])
            case .globalAveragePool: output = node("GlobalAveragePool", name, inputs)
            case .add: output = node("Add", name, inputs)
            case .channelScale: output = node("Mul", name, inputs)
            case .flatten: output = node("Flatten", name, inputs, [int("axis", 1)])
            case let .linear(_, bias):
                var operands = inputs + [try initializer(name + ".weight")]
                if bias { operands.append(try initializer(name + ".bias")) }
                output = node("Gemm", name, operands, [int("transB", 1)])
            }
            names.append(output)
            if index == network.nodes.count - 1 {
                graph.output.append(tensorValue(output, netNode.outputShape))
            }
        }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "tessera"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.graph = graph
        do {
            return try model.serializedData()
        } catch {
            throw .badModel(detail: "serialisation failed: \(error)")
        }
    }

    private static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    private static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    private static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}
