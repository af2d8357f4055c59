import TesseraModels

/// Maps an ONNX graph onto a ``Network``, node by node, with its weights renamed to the network's
/// parameter names ("<node>.weight", "<node>.bias", "<node>.running_mean", "<node>.running_var").
struct ONNXGraphImporter {
    let graph: Onnx_GraphProto
    /// The graph's constants by name: its initializers, and the names `Identity` nodes give them.
    private var initializers: [String: NumPyArray]
    let batch: Int

    static let supported: Set<String> = ["Conv", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "HardSwish", "Mul", "Add", "MaxPool",
                                         "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Gemm", "Identity", "Dropout"]

    private var builder = NetworkBuilder()
    private var values: [String: Int] = [:]
    private var producers: [String: Onnx_NodeProto] = [:]
    private var consumers: [String: [Onnx_NodeProto]] = [:]
    private(set) var weights: [String: NumPyArray] = [:]

    init(graph: Onnx_GraphProto, weights: [String: NumPyArray], batch: Int) {
        self.graph = graph
        initializers = weights
        self.batch = batch
    }

    mutating func importNetwork() throws(ONNXError) -> Network {
        // Operators of the default domain are named as they are, others with their domain.
        func standard(_ node: Onnx_NodeProto) -> Bool { node.domain.isEmpty || node.domain == "ai.onnx" }
        let unsupported = graph.node.indices.filter { !Self.supported.contains(graph.node[$0].opType) || !standard(graph.node[$0]) }
        guard unsupported.isEmpty else {
            throw .unsupportedOperators(unsupported.map { index in
                let node = graph.node[index], operation = node.opType.isEmpty ? "(no operator type)" : node.opType
                return ((standard(node) ? "" : "\(node.domain).") + operation, Self.label(node, index: index))
            })
        }
        let inputs = graph.input.filter { initializers[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw .badModel(detail: "expected one non-initializer input, found \(inputs.map { $0.name })")
        }
        let dims = input.type.tensorType.shape.dim
        let shape = dims.enumerated().map { index, dim -> Int in
            if case .dimValue(let value)? = dim.value, value > 0 { return Int(value) }
            return index == 0 ? batch : 0
        }
        guard shape.count == 4, !shape.contains(0) else { throw .badModel(detail: "input '\(input.name)' must be [N, C, H, W] with known C, H, W; got \(shape)") }
        values[input.name] = builder.input(shape)
        for node in graph.node {
            for output in node.output { producers[output] = node }
            for name in node.input { consumers[name, default: []].append(node) }
        }
        for node in graph.node { try add(node) }
        guard let output = graph.output.first, values[output.name] == builder.nodes.count - 1 else {
            throw .badModel(detail: "the graph's output must be its last node's result")
        }
        return Network(name: graph.name.isEmpty ? "onnx" : graph.name, nodes: builder.nodes)
    }

    /// What an error calls node `index` of the graph: its name, or else its first named output (as the importer names
    /// it), or else `#index`.
    private static func label(_ node: Onnx_NodeProto, index: Int) -> String {
        if !node.name.isEmpty { return node.name }
        return node.output.first { !$0.isEmpty } ?? "#\(index)"
    }

    /// Inputs each operator needs at least.
    private static let minimumInputs = ["Conv": 2, "BatchNormalization": 5, "Mul": 2, "Add": 2, "Gemm": 2, "Reshape": 2]

    private mutating func add(_ node: Onnx_NodeProto) throws(ONNXError) {
        guard let firstOutput = node.output.first else { throw .badModel(detail: "node '\(node.name)' (\(node.opType)) has no output") }
        let name = node.name.isEmpty ? firstOutput : node.name
        let needed = Self.minimumInputs[node.opType] ?? 1
        guard node.input.count >= needed else {
            throw .badModel(detail: "node '\(name)' (\(node.opType)) has \(node.input.count) inputs, needs \(needed)")
        }
        func value(_ index: Int) throws(ONNXError) -> Int {
            guard index < node.input.count, let value = values[node.input[index]] else {
                throw .badModel(detail: "node '\(name)' reads '\(index < node.input.count ? node.input[index] : "?")', which no earlier node produces")
            }
            return value
        }
        func initializer(_ index: Int) throws(ONNXError) -> NumPyArray {
            guard index < node.input.count, let array = initializers[node.input[index]] else {
                throw .unsupportedAttribute(node: name, detail: "input \(index) must be an initializer (constant weights)")
            }
            return array
        }
        let result: Int
        switch node.opType {
        case "Identity" where values[node.input[0]] == nil && initializers[node.input[0]] != nil:
            // torch.onnx.export names one deduplicated weight for each of its users this way.
            initializers[firstOutput] = initializers[node.input[0]]
            return
        case "Identity", "Dropout":
            result = try value(0)
        case "Conv":
            let weight = try initializer(1)
            guard weight.shape.count == 4, weight.shape[2] == weight.shape[3] else {
                throw .unsupportedAttribute(node: name, detail: "weights \(weight.shape) are not [O, I/groups, k, k]")
            }
            let stride = try symmetric(node, "strides", default: 1)
            let padding = try symmetric(node, "pads", default: 0)
            guard try symmetric(node, "dilations", default: 1) == 1 else { throw .unsupportedAttribute(node: name, detail: "dilation ≠ 1") }
            guard attribute(node, "auto_pad")?.s.isEmpty ?? true || String(decoding: attribute(node, "auto_pad")!.s, as: UTF8.self) == "NOTSET" else {
                throw .unsupportedAttribute(node: name, detail: "auto_pad is not supported; export with explicit pads")
            }
            let layer = moduleName(node.input[1], fallback: name)
            let hasBias = node.input.count > 2 && !node.input[2].isEmpty
            let x = try value(0), groups = Int(attribute(node, "group")?.i ?? 1)
            try checkWindow(name, input: x, kernel: weight.shape[2], stride: stride, padding: padding, groups: groups)
            result = builder.convolution(layer, x, out: weight.shape[0], kernel: weight.shape[2], stride: stride, padding: padding,
                                         groups: groups, bias: hasBias)
            weights[layer + ".weight"] = weight
            if hasBias { weights[layer + ".bias"] = try initializer(2) }
        case "BatchNormalization":
            let layer = moduleName(node.input[1], fallback: name)
            for (index, suffix) in ["weight", "bias", "running_mean", "running_var"].enumerated() {
                weights["\(layer).\(suffix)"] = try initializer(index + 1)
            }
            let epsilon = attribute(node, "epsilon")?.f ?? 1e-5
            // Through its shortest decimal form, so that 1e-5 stored as float32 reads back as 1e-5.
            result = builder.sameShape(layer, .batchNorm(epsilon: Double("\(epsilon)") ?? Double(epsilon)), try value(0))
        case "Relu": result = builder.sameShape(name, .relu, try value(0))
        case "Tanh": result = builder.sameShape(name, .tanh, try value(0))
        case "HardSwish": result = builder.sameShape(name, .hardSwish, try value(0))
        case "Sigmoid":
            if isSiLUSigmoid(node) { return }
            result = builder.sameShape(name, .sigmoid, try value(0))
        case "Mul":
            result = try multiply(node, name)
        case "Add":
            let a = try value(0), b = try value(1)
            guard builder.nodes[a].outputShape == builder.nodes[b].outputShape else {
                throw .unsupportedAttribute(node: name, detail: "Add of shapes \(builder.nodes[a].outputShape) and \(builder.nodes[b].outputShape) (only equal shapes)")
            }
            result = builder.sameShape(name, .add, a, b)
        case "MaxPool":
            guard attribute(node, "ceil_mode")?.i ?? 0 == 0 else { throw .unsupportedAttribute(node: name, detail: "ceil_mode = 1") }
            let x = try value(0), kernel = try symmetric(node, "kernel_shape", default: 1)
            let stride = try symmetric(node, "strides", default: 1), padding = try symmetric(node, "pads", default: 0)
            try checkWindow(name, input: x, kernel: kernel, stride: stride, padding: padding)
            result = builder.maxPool(name, x, kernel: kernel, stride: stride, padding: padding)
        case "GlobalAveragePool":
            result = builder.globalAveragePool(name, try value(0))
        case "ReduceMean":
            // Axes held as floats convert only when exact (a NaN or a huge value is no axis).
            let axes = attribute(node, "axes")?.ints
                ?? (node.input.count > 1 ? initializers[node.input[1]]?.values.map { Int64(exactly: $0) ?? .min } : nil)
            guard Set(axes ?? []) == [2, 3] || Set(axes ?? []) == [-2, -1], attribute(node, "keepdims")?.i ?? 1 == 1 else {
                throw .unsupportedAttribute(node: name, detail: "ReduceMean is supported over H and W with keepdims only")
            }
            result = builder.globalAveragePool(name, try value(0))
        case "Flatten", "Reshape":
            let input = try value(0)
            if node.opType == "Flatten" && attribute(node, "axis")?.i ?? 1 != 1 {
                throw .unsupportedAttribute(node: name, detail: "Flatten is supported with axis 1 only")
            }
            if node.opType == "Reshape", let target = initializers[node.input[1]]?.values, target.count != 2 || target[1] != -1 && Int(exactly: target[1]) != builder.nodes[input].outputShape.dropFirst().reduce(1, *) {
                throw .unsupportedAttribute(node: name, detail: "Reshape is supported to [N, −1] only, got \(target)")
            }
            result = builder.flatten(name, input)
        case "Gemm":
            result = try gemm(node, name)
        default:
            throw .unsupportedOperators([(node.opType, name)])
        }
        for output in node.output { values[output] = result }
    }

    /// A Sigmoid whose only reader multiplies it by its own input: the two form SiLU.
    private func isSiLUSigmoid(_ node: Onnx_NodeProto) -> Bool {
        guard let output = node.output.first, let input = node.input.first, let readers = consumers[output], readers.count == 1,
              readers[0].opType == "Mul" else { return false }
        return readers[0].input.contains(input)
    }

    private mutating func multiply(_ node: Onnx_NodeProto, _ name: String) throws(ONNXError) -> Int {
        for (sigmoidSide, otherSide) in [(1, 0), (0, 1)] {
            if let producer = producers[node.input[sigmoidSide]], producer.opType == "Sigmoid", isSiLUSigmoid(producer),
               producer.input[0] == node.input[otherSide], let x = values[node.input[otherSide]] {
                return builder.sameShape(name, .silu, x)
            }
        }
        guard let a = values[node.input[0]], let b = values[node.input[1]] else {
            throw .unsupportedAttribute(node: name, detail: "Mul of a constant is not supported")
        }
        let (x, scale) = builder.nodes[b].outputShape.suffix(2) == [1, 1] ? (a, b) : (b, a)
        let shape = builder.nodes[x].outputShape, scaleShape = builder.nodes[scale].outputShape
        guard shape.count == 4, scaleShape == [shape[0], shape[1], 1, 1] else {
            throw .unsupportedAttribute(node: name, detail: "Mul of \(shape) by \(scaleShape): only x·sigmoid(x) and per-channel scaling")
        }
        return builder.sameShape(name, .channelScale, x, scale)
    }

    private mutating func gemm(_ node: Onnx_NodeProto, _ name: String) throws(ONNXError) -> Int {
        guard attribute(node, "alpha")?.f ?? 1 == 1, attribute(node, "beta")?.f ?? 1 == 1, attribute(node, "transA")?.i ?? 0 == 0,
              let input = values[node.input[0]], let weight = initializers[node.input[1]], weight.shape.count == 2 else {
            throw .unsupportedAttribute(node: name, detail: "Gemm is supported as x·Wᵀ + b with constant W, alpha = beta = 1, transA = 0")
        }
        let layer = moduleName(node.input[1], fallback: name)
        if attribute(node, "transB")?.i ?? 0 == 1 {
            weights[layer + ".weight"] = weight
        } else {
            let (rows, columns) = (weight.shape[0], weight.shape[1])
            weights[layer + ".weight"] = NumPyArray(shape: [columns, rows], values: (0..<(rows * columns)).map { weight.values[($0 % rows) * columns + $0 / rows] })
        }
        let out = weights[layer + ".weight"]!.shape[0]
        // C is optional: exporters drop an all-zero bias.
        let hasBias = node.input.count > 2 && !node.input[2].isEmpty
        let bias = hasBias ? initializers[node.input[2]]?.values : [Float](repeating: 0, count: out)
        guard let bias, bias.count == out else {
            throw .unsupportedAttribute(node: name, detail: "Gemm's bias must be \(out) constant values")
        }
        weights[layer + ".bias"] = NumPyArray(shape: [out], values: bias)
        return builder.linear(layer, input, out: out)
    }

    private func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? {
        node.attribute.first { $0.name == name }
    }

    /// An attribute that must hold one value repeated (square kernels, equal strides, symmetric pads).
    private func symmetric(_ node: Onnx_NodeProto, _ name: String, default value: Int) throws(ONNXError) -> Int {
        guard let ints = attribute(node, name)?.ints, let first = ints.first else { return value }
        guard ints.allSatisfy({ $0 == first }) else {
            throw .unsupportedAttribute(node: node.name, detail: "\(name) \(ints) is not the same on every side")
        }
        return Int(first)
    }

    /// Throws unless input `x` of node `name` is `[N, C, H, W]` and its window fits it: a positive kernel and stride,
    /// padding of at least 0 (each at most 2¹⁶), groups that divide the channels, and a kernel no larger than the padded
    /// input, so that the builder's output sizes are at least one.
    private func checkWindow(_ name: String, input x: Int, kernel: Int, stride: Int, padding: Int, groups: Int = 1) throws(ONNXError) {
        let shape = builder.nodes[x].outputShape, limit = 1 << 16
        guard shape.count == 4 else { throw .unsupportedAttribute(node: name, detail: "input \(shape) is not [N, C, H, W]") }
        guard (1...limit).contains(kernel), (1...limit).contains(stride), (0...limit).contains(padding), groups >= 1, shape[1] % groups == 0,
              shape[2] + 2 * padding >= kernel, shape[3] + 2 * padding >= kernel else {
            throw .unsupportedAttribute(node: name, detail: "kernel \(kernel), stride \(stride), padding \(padding) and groups \(groups) "
                + "do not fit input \(shape)")
        }
    }

    /// "layer1.0.conv1.weight" → "layer1.0.conv1"; initializers without a ".weight" name keep the node's name.
    private func moduleName(_ initializer: String, fallback: String) -> String {
        initializer.hasSuffix(".weight") ? String(initializer.dropLast(".weight".count)) : fallback
    }
}
