/// Appends nodes to a network, working out each output shape. Each method returns the new node's index.
public struct NetworkBuilder {
    /// The nodes so far, in order.
    public private(set) var nodes: [NetworkNode] = []

    /// An empty network.
    public init() {}

    /// The input node: `[batch, channels, height, width]`.
    public mutating func input(_ shape: [Int]) -> Int { append("input", .input, [], shape) }

    /// A convolution; `padding` defaults to (kernel − 1) / 2 on every side.
    public mutating func convolution(_ name: String, _ input: Int, out: Int, kernel: Int, stride: Int = 1,
                                     padding: Int? = nil, groups: Int = 1, bias: Bool = false) -> Int {
        let shape = nodes[input].outputShape, pad = padding ?? (kernel - 1) / 2
        let size = { (extent: Int) in (extent + 2 * pad - kernel) / stride + 1 }
        return append(name, .convolution(outputChannels: out, kernel: kernel, stride: stride, padding: pad, groups: groups, bias: bias),
                      [input], [shape[0], out, size(shape[2]), size(shape[3])])
    }

    /// Max pooling.
    public mutating func maxPool(_ name: String, _ input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        let shape = nodes[input].outputShape
        let size = { (extent: Int) in (extent + 2 * padding - kernel) / stride + 1 }
        return append(name, .maxPool(kernel: kernel, stride: stride, padding: padding), [input], [shape[0], shape[1], size(shape[2]), size(shape[3])])
    }

    /// Mean over H and W.
    public mutating func globalAveragePool(_ name: String, _ input: Int) -> Int {
        let shape = nodes[input].outputShape
        return append(name, .globalAveragePool, [input], [shape[0], shape[1], 1, 1])
    }

    /// [N, …] → [N, product of the rest].
    public mutating func flatten(_ name: String, _ input: Int) -> Int {
        let shape = nodes[input].outputShape
        return append(name, .flatten, [input], [shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// A fully connected layer with bias.
    public mutating func linear(_ name: String, _ input: Int, out: Int) -> Int {
        append(name, .linear(outputFeatures: out, bias: true), [input], [nodes[input].outputShape[0], out])
    }

    /// An operation that keeps its first input's shape (normalisation, activation, add, channel scale).
    public mutating func sameShape(_ name: String, _ operation: NetworkOperation, _ inputs: Int...) -> Int {
        sameShape(name, operation, inputs)
    }

    /// The same, with the inputs as an array.
    public mutating func sameShape(_ name: String, _ operation: NetworkOperation, _ inputs: [Int]) -> Int {
        append(name, operation, inputs, nodes[inputs[0]].outputShape)
    }

    private mutating func append(_ name: String, _ operation: NetworkOperation, _ inputs: [Int], _ shape: [Int]) -> Int {
        nodes.append(NetworkNode(name: name, operation: operation, inputs: inputs, outputShape: shape))
        return nodes.count - 1
    }
}
