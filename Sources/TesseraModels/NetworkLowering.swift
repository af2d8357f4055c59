import TesseraGraph
import TesseraOps
import TesseraRuntime

/// A network built into a graph: its input and output tensors, a tensor for every weight, and the
/// program that runs one forward pass.
public struct LoweredNetwork {
    /// The graph holding everything.
    public let graph: Graph
    /// The builder, with the plan of every operation.
    public let ops: OpBuilder
    /// Input `[N, C, H, W]`, written by the host before each run.
    public let input: Tensor
    /// Output of the last node, readable by the host after a run.
    public let output: Tensor
    /// Weight tensors by parameter name ("<node>.weight", "<node>.bias", "<node>.running_mean", "<node>.running_var").
    public let weights: [String: Tensor]
    /// One forward pass.
    public var program: Program { ops.program }
    /// What the host needs of the network once it is compiled, without the graph.
    public var compiled: CompiledNetwork { CompiledNetwork(input: input, output: output, weights: weights, plans: ops.plans) }
}

/// What the host keeps of a lowered network once it is compiled: the tensors it writes and reads
/// and the plan of every operation, but not the graph (which a large model's vertex tables make
/// the biggest thing in memory until the executable exists).
public struct CompiledNetwork {
    /// Input `[N, C, H, W]`, written by the host before each run.
    public let input: Tensor
    /// Output of the last node, readable by the host after a run.
    public let output: Tensor
    /// Weight tensors by parameter name.
    public let weights: [String: Tensor]
    /// The plan of every operation, in order.
    public let plans: [OperationPlan]
}

/// Builds a ``Network`` into a graph with the kernel library: every node becomes its operation,
/// every weight a host-visible variable, convolution weights mapped where their plan reads them
/// and the others spread linearly over the tiles.
public enum NetworkLowering {
    /// Lowers `network` for `target` with elements of `elementType`, calling `progress(done, total)`
    /// after each node (for a progress line on long builds).
    public static func lower(_ network: Network, target: Target, elementType: ElementType = .float32,
                             options: OpOptions = OpOptions(), progress: ((Int, Int) -> Void)? = nil) throws -> LoweredNetwork {
        let graph = Graph(target: target)
        let ops = OpBuilder(graph, options: options)
        var values: [Tensor] = []
        var weights: [String: Tensor] = [:]
        /// A host-visible weight, spread linearly over the tiles unless `make` creates and maps it.
        func weight(_ name: String, _ shape: [Int], make: (() throws -> Tensor)? = nil) throws -> Tensor {
            let tensor: Tensor
            if let make {
                tensor = try make()
            } else {
                tensor = graph.addVariable(elementType, shape, name: name)
                try graph.mapLinearly(tensor)
            }
            try graph.makeHostVisible(tensor)
            weights[name] = tensor
            return tensor
        }
        let fused = fusedActivations(network)
        for (index, node) in network.nodes.enumerated() {
            let inputs = node.inputs.map { values[$0] }
            let name = node.name
            let value: Tensor
            if fused.isFused[index] {
                // Applied by the operation that is its input.
                values.append(inputs[0])
                progress?(values.count, network.nodes.count)
                continue
            }
            switch node.operation {
            case .input:
                value = graph.addVariable(elementType, node.outputShape, name: name)
                try graph.mapLinearly(value)
                try graph.makeHostVisible(value)
            case let .convolution(out, kernel, stride, padding, groups, bias):
                let x = inputs[0]
                let parameters = ConvParameters(
                    batch: x.shape[0], inputChannels: x.shape[1], outputChannels: out, groups: groups,
                    inputField: [x.shape[2], x.shape[3]], kernel: [kernel, kernel], stride: [stride, stride],
                    padding: ConvPadding(top: padding, bottom: padding, left: padding, right: padding),
                    elementType: elementType, hasBias: bias)
                let w = try weight("\(name).weight", [out, x.shape[1] / groups, kernel, kernel]) {
                    try ops.createConvWeights(parameters: parameters, name: "\(name).weight")
                }
                let b = bias ? try weight("\(name).bias", [out]) : nil
                value = try ops.conv2d(x, weights: w, bias: b, parameters: parameters, name: name)
            case let .batchNorm(epsilon):
                let channels = [inputs[0].shape[1]]
                value = try ops.batchNormInference(
                    inputs[0], scale: try weight("\(name).weight", channels), shift: try weight("\(name).bias", channels),
                    mean: try weight("\(name).running_mean", channels), variance: try weight("\(name).running_var", channels),
                    epsilon: Float(epsilon), activation: fused.activation[index], name: name)
            case let .groupNorm(groups, epsilon):
                let channels = [inputs[0].shape[1]]
                value = try ops.groupNorm(inputs[0], groups: groups, scale: try weight("\(name).weight", channels),
                                          shift: try weight("\(name).bias", channels), epsilon: Float(epsilon),
                                          activation: fused.activation[index], name: name)
            case .relu: value = try ops.activation(inputs[0], .relu, name: name)
            case .silu: value = try ops.activation(inputs[0], .silu, name: name)
            case .sigmoid: value = try ops.activation(inputs[0], .sigmoid, name: name)
            case .tanh: value = try ops.activation(inputs[0], .tanh, name: name)
            case .hardSwish: value = try ops.activation(inputs[0], .hardSwish, name: name)
            case let .maxPool(kernel, stride, padding):
                value = try ops.maxPool2d(inputs[0], kernel: [kernel, kernel], stride: [stride, stride], padding: [padding, padding], name: name)
            case .globalAveragePool:
                value = try ops.globalAveragePool(inputs[0], name: name).reshape(node.outputShape)
            case .add:
                value = try ops.add(inputs[0], inputs[1], activation: fused.activation[index], name: name)
            case .channelScale:
                value = try ops.multiply(inputs[0], inputs[1], name: name)
            case .flatten:
                value = try inputs[0].reshape(node.outputShape)
            case let .linear(out, bias):
                let w = try weight("\(name).weight", [out, inputs[0].shape[1]])
                value = try ops.fullyConnected(inputs[0], weights: w, bias: bias ? try weight("\(name).bias", [out]) : nil, name: name)
            }
            values.append(value)
            progress?(values.count, network.nodes.count)
        }
        try graph.makeHostVisible(values[values.count - 1])
        ops.releaseCaches()
        return LoweredNetwork(graph: graph, ops: ops, input: values[0], output: values[values.count - 1], weights: weights)
    }

    /// The activations applied by the operation before them, in its step (`activation`, by
    /// operation node), and the activation nodes that therefore add nothing (`isFused`): an
    /// activation whose input is a batch or group norm or an add that nothing else reads, as an
    /// XLA-style compiler fuses element-wise work into the op before it. The results are those of
    /// the two steps, roundings included, without a second pass over the activation's memory.
    static func fusedActivations(_ network: Network) -> (activation: [Activation?], isFused: [Bool]) {
        var readers = [Int](repeating: 0, count: network.nodes.count)
        for node in network.nodes { for input in node.inputs { readers[input] += 1 } }
        var activation = [Activation?](repeating: nil, count: network.nodes.count)
        var isFused = [Bool](repeating: false, count: network.nodes.count)
        for (index, node) in network.nodes.enumerated() {
            guard let function = Activation(node.operation), let input = node.inputs.first, readers[input] == 1 else { continue }
            switch network.nodes[input].operation {
            case .batchNorm, .groupNorm, .add:
                activation[input] = function
                isFused[index] = true
            default: continue
            }
        }
        return (activation, isFused)
    }
}

extension Activation {
    /// The activation a network operation applies, or nil for other operations.
    init?(_ operation: NetworkOperation) {
        switch operation {
        case .relu: self = .relu
        case .silu: self = .silu
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .hardSwish: self = .hardSwish
        default: return nil
        }
    }
}

extension CompiledNetwork {
    /// Writes `weights` (by parameter name) into the engine's copy of the weight tensors, converting to
    /// the network's element type. Every weight tensor must be given.
    public func write(weights values: [String: NumPyArray], to engine: Engine) throws {
        for (name, tensor) in weights {
            guard let array = values[name] else { throw ModelError.missingWeight(name) }
            guard array.values.count == tensor.elementCount else {
                throw ModelError.weightShape(name: name, expected: tensor.shape, actual: array.shape)
            }
            try write(array.values, to: tensor, engine: engine)
        }
    }

    /// Writes an input batch `[N, C, H, W]` as float32 values.
    public func write(input values: [Float], to engine: Engine) throws {
        guard values.count == input.elementCount else {
            throw ModelError.inputShape(expected: input.shape, actualCount: values.count)
        }
        try write(values, to: input, engine: engine)
    }

    /// The output after a run, as float32.
    public func readOutput(from engine: Engine) throws -> [Float] {
        output.elementType == .float16 ? try engine.read(output, as: Float16.self).map(Float.init) : try engine.read(output, as: Float.self)
    }

    private func write(_ values: [Float], to tensor: Tensor, engine: Engine) throws {
        if tensor.elementType == .float16 {
            try engine.write(tensor, values.map { Float16($0) })
        } else {
            try engine.write(tensor, values)
        }
    }
}

/// Errors of building and feeding models.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// A weight tensor has no values.
    case missingWeight(String)
    /// A weight's values do not match its tensor.
    case weightShape(name: String, expected: [Int], actual: [Int])
    /// The input does not match the network's input shape.
    case inputShape(expected: [Int], actualCount: Int)

    public var description: String {
        switch self {
        case let .missingWeight(name): "no values for weight '\(name)'"
        case let .weightShape(name, expected, actual): "weight '\(name)' is \(expected), the values given are \(actual)"
        case let .inputShape(expected, count): "the network takes input \(expected) (\(expected.reduce(1, *)) values), got \(count) values"
        }
    }
}
