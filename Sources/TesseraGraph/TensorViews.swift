extension Tensor {
    /// The same elements with another shape of the same element count.
    public func reshape(_ newShape: [Int]) throws(GraphError) -> Tensor {
        guard Graph.shapeProblem(newShape) == nil, newShape.reduce(1, *) == elementCount else {
            throw .shapeMismatch(operation: "reshape", detail: "cannot view \(shape) (\(elementCount) elements) as \(newShape)")
        }
        return Tensor(graphID: graphID, elementType: elementType, shape: newShape, elements: elements)
    }

    /// The elements as one dimension.
    public func flatten() -> Tensor {
        Tensor(graphID: graphID, elementType: elementType, shape: [elementCount], elements: elements)
    }

    /// Elements `range` of dimension `dimension`; the rank is kept.
    public func slice(_ range: Range<Int>, dimension: Int = 0) throws(GraphError) -> Tensor {
        if rank == 1, dimension == 0, range.lowerBound >= 0, range.upperBound <= shape[0] {
            return Tensor(graphID: graphID, elementType: elementType, shape: [range.count], elements: elements.subrange(range))
        }
        try checkDimension(dimension, "slice")
        var ranges = shape.map { 0..<$0 }
        ranges[dimension] = range
        return try slice(ranges)
    }

    /// The sub-block `ranges[d]` of every dimension `d`.
    public func slice(_ ranges: [Range<Int>]) throws(GraphError) -> Tensor {
        guard ranges.count == rank else {
            throw .shapeMismatch(operation: "slice", detail: "\(ranges.count) ranges for a tensor of shape \(shape)")
        }
        for (dim, range) in ranges.enumerated() where range.lowerBound < 0 || range.upperBound > shape[dim] {
            throw .indexOutOfRange(operation: "slice", detail: "range \(range) of dimension \(dim) outside 0..<\(shape[dim]) (shape \(shape))")
        }
        let strides = Tensor.rowMajorStrides(shape)
        let offset = zip(ranges, strides).reduce(0) { $0 + $1.0.lowerBound * $1.1 }
        return view(shape: ranges.map { $0.count }, offset: offset, strides: strides)
    }

    /// Every `stride`-th element of dimension `dimension`, from the first (Poplar's `subSample`):
    /// `⌈size / stride⌉` of them; the rank is kept.
    public func subSample(_ stride: Int, dimension: Int) throws(GraphError) -> Tensor {
        try checkDimension(dimension, "subSample")
        guard stride > 0 else {
            throw .indexOutOfRange(operation: "subSample", detail: "stride \(stride) of dimension \(dimension) is not positive (shape \(shape))")
        }
        var newShape = shape, strides = Tensor.rowMajorStrides(shape)
        newShape[dimension] = (shape[dimension] + stride - 1) / stride
        strides[dimension] *= stride
        return view(shape: newShape, offset: 0, strides: strides)
    }

    /// Index `index` of the outermost dimension; the rank drops by one.
    public func index(_ index: Int) throws(GraphError) -> Tensor {
        guard rank > 0 else { throw .indexOutOfRange(operation: "index", detail: "cannot index a scalar") }
        guard (0..<shape[0]).contains(index) else {
            throw .indexOutOfRange(operation: "index", detail: "index \(index) outside 0..<\(shape[0]) (shape \(shape))")
        }
        let strides = Tensor.rowMajorStrides(shape)
        return view(shape: Array(shape.dropFirst()), offset: index * strides[0], strides: Array(strides.dropFirst()))
    }

    /// Dimensions reordered: dimension `d` of the result is dimension `permutation[d]` of this view.
    public func dimShuffle(_ permutation: [Int]) throws(GraphError) -> Tensor {
        guard permutation.sorted() == Array(0..<rank) else {
            throw .shapeMismatch(operation: "dimShuffle", detail: "\(permutation) is not a permutation of the \(rank) dimensions of \(shape)")
        }
        let strides = Tensor.rowMajorStrides(shape)
        return view(shape: permutation.map { shape[$0] }, offset: 0, strides: permutation.map { strides[$0] })
    }

    /// The last two dimensions swapped.
    public func transpose() throws(GraphError) -> Tensor {
        guard rank >= 2 else { throw .shapeMismatch(operation: "transpose", detail: "needs rank ≥ 2, got shape \(shape)") }
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return try dimShuffle(permutation)
    }

    /// This view repeated to `newShape` by NumPy's rules: trailing dimensions align, and a
    /// dimension of size 1 (or a missing leading one) repeats its elements.
    public func broadcast(to newShape: [Int]) throws(GraphError) -> Tensor {
        let lead = newShape.count - rank
        guard lead >= 0 else {
            throw .shapeMismatch(operation: "broadcast", detail: "cannot broadcast \(shape) to lower rank \(newShape)")
        }
        // A view holds at most as many elements as one variable: its runs count them in 32 bits.
        if let problem = Graph.shapeProblem(newShape) { throw .shapeMismatch(operation: "broadcast", detail: problem) }
        let strides = Tensor.rowMajorStrides(shape)
        var newStrides = [Int](repeating: 0, count: newShape.count)
        for dim in 0..<rank {
            let size = shape[dim], target = newShape[lead + dim]
            if size == target {
                newStrides[lead + dim] = strides[dim]
            } else if size != 1 {
                throw .shapeMismatch(operation: "broadcast", detail: "dimension \(dim) of \(shape) is \(size), neither 1 nor \(target) of \(newShape)")
            }
        }
        return view(shape: newShape, offset: 0, strides: newStrides)
    }

    /// Views joined along `dimension`; all other dimensions and the element type must agree.
    public static func concatenate(_ tensors: [Tensor], dimension: Int = 0) throws(GraphError) -> Tensor {
        guard let first = tensors.first else {
            throw .shapeMismatch(operation: "concatenate", detail: "no tensors to concatenate")
        }
        try first.checkDimension(dimension, "concatenate")
        for tensor in tensors.dropFirst() {
            guard tensor.graphID == first.graphID else { throw .foreignObject(kind: "tensor", name: "concatenate operand") }
            guard tensor.elementType == first.elementType else {
                throw .elementTypeMismatch(context: "concatenate", expected: first.elementType, actual: tensor.elementType)
            }
            var a = tensor.shape, b = first.shape
            if a.count == b.count { a[dimension] = 0; b[dimension] = 0 }
            guard a == b else {
                throw .shapeMismatch(operation: "concatenate", detail: "\(tensor.shape) does not match \(first.shape) outside dimension \(dimension)")
            }
        }
        var newShape = first.shape
        newShape[dimension] = tensors.reduce(0) { $0 + $1.shape[dimension] }
        let outer = first.shape[..<dimension].reduce(1, *)
        var builder = ElementRunBuilder()
        let chunks = tensors.map { $0.shape[dimension...].reduce(1, *) }
        var hints = [SearchHint](repeating: SearchHint(), count: tensors.count)
        for block in 0..<outer {
            for (k, tensor) in tensors.enumerated() {
                tensor.elements.appendElements(first: block * chunks[k], stride: 1, count: chunks[k], to: &builder, hint: &hints[k])
            }
        }
        return Tensor(graphID: first.graphID, elementType: first.elementType, shape: newShape, elements: builder.build())
    }

    func checkDimension(_ dimension: Int, _ operation: String) throws(GraphError) {
        guard (0..<rank).contains(dimension) else {
            throw .indexOutOfRange(operation: operation, detail: "dimension \(dimension) outside 0..<\(rank) (shape \(shape))")
        }
    }
}
