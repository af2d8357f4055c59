import Dispatch
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
    /// The batch norms folded into the convolutions before them, whose weights and bias the host computes.
    public let foldedBatchNorms: [FoldedBatchNorm]
    /// One forward pass.
    public var program: Program { ops.program }
    /// What the host needs of the network once it is compiled, without the graph.
    public var compiled: CompiledNetwork {
        CompiledNetwork(input: input, output: output, weights: weights, foldedBatchNorms: foldedBatchNorms, plans: ops.plans)
    }
}

/// An inference batch norm folded into the convolution before it, as ONNX Runtime's and other inference
/// compilers' graph optimisers do: the convolution's weights hold `w · s` and its bias
/// `(b − mean) · s + shift` per output channel, with `s = scale / √(variance + ε)`, so the batch
/// norm's step (and its coefficient steps) disappear. The host computes both from the parameters.
public struct FoldedBatchNorm {
    /// The convolution's node name (its parameters "<name>.weight" and, if it has one, "<name>.bias").
    public let convolution: String
    /// The batch norm's node name (its parameters "<name>.weight", ".bias", ".running_mean", ".running_var").
    public let batchNorm: String
    /// The batch norm's ε.
    public let epsilon: Double
    /// Whether the convolution has a bias of its own.
    public let convolutionHasBias: Bool
    /// The convolution's weights tensor `[O, C / groups, kH, kW]`, holding the folded weights.
    public let weights: Tensor
    /// The convolution's bias tensor `[O]`, holding the folded bias.
    public let bias: Tensor
}

/// What the host keeps of a lowered network once it is compiled: the tensors it writes and reads
/// and the plan of every operation, but not the graph (which a large model's vertex tables make
/// the biggest thing in memory until the executable exists).
public struct CompiledNetwork {
    /// Input `[N, C, H, W]`, written by the host before each run.
    public let input: Tensor
    /// Output of the last node, readable by the host after a run.
    public let output: Tensor
    /// Weight tensors by parameter name (the parameters written as they are).
    public let weights: [String: Tensor]
    /// The batch norms folded into convolutions, whose tensors the host computes from the parameters.
    public let foldedBatchNorms: [FoldedBatchNorm]
    /// The plan of every operation, in order.
    public let plans: [OperationPlan]
}

/// Builds a ``Network`` into a graph with the kernel library: every node becomes its operation,
/// every weight a host-visible variable, convolution weights mapped where their plan reads them
/// and the others spread linearly over the tiles.
public enum NetworkLowering {
    /// Lowers `network` for `target` with elements of `elementType`, calling `progress(done, total)`
    /// after each node (for a progress line on long builds). With `foldsBatchNorm`, each batch norm
    /// whose input is a convolution read by nothing else is folded into it (``FoldedBatchNorm``).
    public static func lower(_ network: Network, target: Target, elementType: ElementType = .float32,
                             options: OpOptions = OpOptions(), foldsBatchNorm: Bool = false,
                             progress: ((Int, Int) -> Void)? = nil) throws -> LoweredNetwork {
        let graph = Graph(target: target)
        let ops = OpBuilder(graph, options: options)
        var values: [Tensor] = []
        var weights: [String: Tensor] = [:]
        var folded: [FoldedBatchNorm] = []
        /// A host-visible weight, spread linearly over the tiles unless `make` creates and maps it;
        /// written by name unless `computed` (a folded batch norm's).
        func weight(_ name: String, _ shape: [Int], computed: Bool = false, make: (() throws -> Tensor)? = nil) throws -> Tensor {
            let tensor: Tensor
            if let make {
                tensor = try make()
            } else {
                tensor = graph.addVariable(elementType, shape, name: name)
                try graph.mapLinearly(tensor)
            }
            try graph.makeHostVisible(tensor)
            if !computed { weights[name] = tensor }
            return tensor
        }
        let fused = fusions(network, foldsBatchNorm: foldsBatchNorm)
        let planning = prefetchPlans(network, foldedBatchNorm: fused.foldedBatchNorm, target: target, elementType: elementType,
                                     options: options)
        defer { planning.wait() }
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
                // A shape no variable can hold comes back empty: say so before anything reads its sizes.
                guard value.shape == node.outputShape else { throw ModelError.inputShapeTooLarge(node.outputShape) }
                try graph.mapLinearly(value)
                try graph.makeHostVisible(value)
            case let .convolution(out, kernel, _, _, groups, bias):
                let x = inputs[0]
                let batchNorm = fused.foldedBatchNorm[index]
                let parameters = convParameters(node, input: x.shape, elementType: elementType, folded: batchNorm != nil)!
                let w = try weight("\(name).weight", [out, x.shape[1] / groups, kernel, kernel], computed: batchNorm != nil) {
                    try ops.createConvWeights(parameters: parameters, name: "\(name).weight")
                }
                let b = parameters.hasBias ? try weight("\(name).bias", [out], computed: batchNorm != nil) : nil
                if let batchNorm, case let .batchNorm(epsilon) = network.nodes[batchNorm].operation {
                    folded.append(FoldedBatchNorm(convolution: name, batchNorm: network.nodes[batchNorm].name, epsilon: epsilon,
                                                  convolutionHasBias: bias, weights: w, bias: b!))
                }
                value = try ops.conv2d(x, weights: w, bias: b, parameters: parameters, activation: fused.activation[index], name: name)
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
        return LoweredNetwork(graph: graph, ops: ops, input: values[0], output: values[values.count - 1], weights: weights,
                              foldedBatchNorms: folded)
    }

    /// The parameters of convolution `node` on an input of `shape` (with a bias when it has one or a
    /// batch norm is folded into it), or nil for another operation.
    static func convParameters(_ node: NetworkNode, input shape: [Int], elementType: ElementType, folded: Bool) -> ConvParameters? {
        guard case let .convolution(out, kernel, stride, padding, groups, bias) = node.operation else { return nil }
        return ConvParameters(
            batch: shape[0], inputChannels: shape[1], outputChannels: out, groups: groups,
            inputField: [shape[2], shape[3]], kernel: [kernel, kernel], stride: [stride, stride],
            padding: ConvPadding(top: padding, bottom: padding, left: padding, right: padding),
            elementType: elementType, hasBias: bias || folded)
    }

    /// Plans every convolution of `network` on another thread while this one builds the graph, so
    /// that the lowering mostly finds its plans in the planner's cache (the search is deterministic:
    /// which thread runs it changes nothing). Errors are left for the lowering to meet and report.
    /// Returns the group to wait on before the lowering returns.
    private static func prefetchPlans(_ network: Network, foldedBatchNorm: [Int?], target: Target, elementType: ElementType,
                                      options: OpOptions) -> DispatchGroup {
        let parameters = network.nodes.indices.compactMap { index -> ConvParameters? in
            let node = network.nodes[index]
            guard let input = node.inputs.first else { return nil }
            return convParameters(node, input: network.nodes[input].outputShape, elementType: elementType,
                                  folded: foldedBatchNorm[index] != nil)
        }
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            for p in parameters { _ = try? ConvPlanner.shared.plan(p, target: target, options: options, op: "prefetch") }
        }
        return group
    }

    /// How the lowering fuses nodes of `network` into the operations before them, as an XLA-style
    /// compiler fuses element-wise work into the op before it:
    /// - with `foldsBatchNorm`, a batch norm whose input is a convolution that nothing else reads is
    ///   folded into the convolution's weights and bias (`foldedBatchNorm`, by convolution node);
    /// - an activation whose input (or folded batch norm's convolution) is a convolution, a batch or
    ///   group norm or an add that nothing else reads is applied by that operation as it writes
    ///   (`activation`, by operation node): the results of the two steps, roundings included, without
    ///   a second pass over the output.
    /// Fused nodes (`isFused`) add nothing of their own.
    static func fusions(_ network: Network, foldsBatchNorm: Bool = false)
        -> (activation: [Activation?], isFused: [Bool], foldedBatchNorm: [Int?]) {
        var readers = [Int](repeating: 0, count: network.nodes.count)
        for node in network.nodes { for input in node.inputs { readers[input] += 1 } }
        var activation = [Activation?](repeating: nil, count: network.nodes.count)
        var isFused = [Bool](repeating: false, count: network.nodes.count)
        var foldedBatchNorm = [Int?](repeating: nil, count: network.nodes.count)
        for (index, node) in network.nodes.enumerated() {
            guard let input = node.inputs.first, readers[input] == 1 else { continue }
            if foldsBatchNorm, case .batchNorm = node.operation, case .convolution = network.nodes[input].operation {
                foldedBatchNorm[input] = index
                isFused[index] = true
                continue
            }
            guard let function = Activation(node.operation) else { continue }
            // A folded batch norm's value is its convolution's; an operation applies one activation.
            var producer = input
            if case .batchNorm = network.nodes[input].operation, isFused[input] { producer = network.nodes[input].inputs[0] }
            guard activation[producer] == nil else { continue }
            switch network.nodes[producer].operation {
            case .convolution, .batchNorm, .groupNorm, .add:
                activation[producer] = function
                isFused[index] = true
            default: continue
            }
        }
        return (activation, isFused, foldedBatchNorm)
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
        func parameter(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let array = values[name] else { throw ModelError.missingWeight(name) }
            guard array.values.count == shape.reduce(1, *) else { throw ModelError.weightShape(name: name, expected: shape, actual: array.shape) }
            return array.values
        }
        for (name, tensor) in weights { try write(parameter(name, tensor.shape), to: tensor, engine: engine) }
        for fold in foldedBatchNorms {
            let channels = [fold.bias.elementCount]
            let w = try parameter("\(fold.convolution).weight", fold.weights.shape)
            let b = fold.convolutionHasBias ? try parameter("\(fold.convolution).bias", channels) : nil
            let scale = try parameter("\(fold.batchNorm).weight", channels), shift = try parameter("\(fold.batchNorm).bias", channels)
            let mean = try parameter("\(fold.batchNorm).running_mean", channels)
            let variance = try parameter("\(fold.batchNorm).running_var", channels)
            let factors = channels[0] == 0 ? [] : (0..<channels[0]).map { Double(scale[$0]) / (Double(variance[$0]) + fold.epsilon).squareRoot() }
            let perChannel = w.count / max(channels[0], 1)
            try write(w.indices.map { Float(Double(w[$0]) * factors[$0 / perChannel]) }, to: fold.weights, engine: engine)
            try write((0..<channels[0]).map { o in Float((Double(b?[o] ?? 0) - Double(mean[o])) * factors[o] + Double(shift[o])) },
                      to: fold.bias, engine: engine)
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
    /// The network's input shape has a negative size or more elements than one variable can hold.
    case inputShapeTooLarge([Int])

    public var description: String {
        switch self {
        case let .missingWeight(name): "no values for weight '\(name)'"
        case let .weightShape(name, expected, actual): "weight '\(name)' is \(expected), the values given are \(actual)"
        case let .inputShape(expected, count): "the network takes input \(expected) (\(expected.reduce(1, *)) values), got \(count) values"
        case let .inputShapeTooLarge(shape):
            "the network's input \(shape) has a negative size or more than \(Graph.maximumElementsPerVariable) elements, the most one variable holds"
        }
    }
}
