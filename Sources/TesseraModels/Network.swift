/// What one node of a network computes. Activations are [N, C, H, W] until `flatten`, then [N, F].
public enum NetworkOperation: Sendable, Hashable {
    /// The network's input.
    case input
    /// 2-D convolution; weights [outputChannels, inputChannels / groups, kernel, kernel].
    case convolution(outputChannels: Int, kernel: Int, stride: Int, padding: Int, groups: Int, bias: Bool)
    /// Batch normalisation over N, H, W per channel, with scale and shift.
    case batchNorm(epsilon: Double)
    /// Group normalisation over each group's channels and H, W per sample, with scale and shift.
    case groupNorm(groups: Int, epsilon: Double)
    /// max(x, 0).
    case relu
    /// x · sigmoid(x).
    case silu
    /// 1 / (1 + e^−x).
    case sigmoid
    /// Hyperbolic tangent.
    case tanh
    /// x · min(max(x + 3, 0), 6) / 6.
    case hardSwish
    /// Max pooling over `kernel` × `kernel` windows.
    case maxPool(kernel: Int, stride: Int, padding: Int)
    /// Mean over H and W: [N, C, H, W] → [N, C, 1, 1].
    case globalAveragePool
    /// Element-wise sum of two inputs of one shape (a residual connection).
    case add
    /// The first input scaled per channel by the second, [N, C, 1, 1] (squeeze-and-excitation).
    case channelScale
    /// [N, C, 1, 1] or [N, C, H, W] → [N, C·H·W].
    case flatten
    /// Fully connected layer; weights [outputFeatures, inputFeatures].
    case linear(outputFeatures: Int, bias: Bool)
}

/// One node: an operation on earlier nodes' outputs, named as torchvision names the module.
public struct NetworkNode: Sendable, Hashable {
    /// Module path, e.g. "layer1.0.conv1"; parameters are named "<name>.weight" and "<name>.bias".
    public var name: String
    /// What the node computes.
    public var operation: NetworkOperation
    /// Indices of the nodes whose outputs it reads.
    public var inputs: [Int]
    /// Shape of its output, batch first.
    public var outputShape: [Int]
}

/// A learned parameter tensor of a network.
public struct NetworkParameter: Sendable, Hashable {
    /// Name as torchvision's `state_dict` has it, e.g. "layer1.0.conv1.weight".
    public var name: String
    /// Shape, as torchvision stores it.
    public var shape: [Int]
    /// A parameter named `name` of `shape`.
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }

    /// Number of values.
    public var count: Int { shape.reduce(1, *) }
}

/// A network as a list of nodes in execution order; the last node is the output.
public struct Network: Sendable {
    /// A network named `name` with `nodes` in execution order.
    public init(name: String, nodes: [NetworkNode]) {
        self.name = name
        self.nodes = nodes
    }

    /// Model name, e.g. "resnet50".
    public var name: String
    /// Nodes in an order where every node follows its inputs.
    public var nodes: [NetworkNode]

    /// The learned parameters, in node order (batch-norm running statistics are buffers, not parameters).
    public var parameters: [NetworkParameter] {
        nodes.flatMap { node -> [NetworkParameter] in
            let input = node.inputs.first.map { nodes[$0].outputShape } ?? []
            switch node.operation {
            case let .convolution(out, kernel, _, _, groups, bias):
                let weight = NetworkParameter(name: node.name + ".weight", shape: [out, input[1] / groups, kernel, kernel])
                return bias ? [weight, NetworkParameter(name: node.name + ".bias", shape: [out])] : [weight]
            case .batchNorm, .groupNorm:
                return [NetworkParameter(name: node.name + ".weight", shape: [input[1]]), NetworkParameter(name: node.name + ".bias", shape: [input[1]])]
            case let .linear(out, bias):
                let weight = NetworkParameter(name: node.name + ".weight", shape: [out, input[1]])
                return bias ? [weight, NetworkParameter(name: node.name + ".bias", shape: [out])] : [weight]
            default:
                return []
            }
        }
    }

    /// Total learned values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Multiply-accumulates of one forward pass over one image (convolutions and linear layers).
    public var multiplyAccumulatesPerImage: Int {
        nodes.reduce(0) { total, node in
            let input = node.inputs.first.map { nodes[$0].outputShape } ?? []
            switch node.operation {
            case let .convolution(_, kernel, _, _, groups, _):
                let out = node.outputShape
                return total + out[1] * out[2] * out[3] * (input[1] / groups) * kernel * kernel
            case .linear:
                return total + node.outputShape[1] * input[1]
            default:
                return total
            }
        }
    }

    /// The output node.
    public var output: NetworkNode { nodes[nodes.count - 1] }
}
