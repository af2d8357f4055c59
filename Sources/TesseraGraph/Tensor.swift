/// A view of the elements of one or more variables or constants of a ``Graph``.
///
/// Tensors never own or copy data: slicing, reshaping, shuffling dimensions, broadcasting and
/// concatenating make new views of the same elements. Shapes are row-major; the flattened
/// element order of a view is its row-major order.
public struct Tensor: Sendable, CustomStringConvertible {
    /// Identity of the graph whose variables this view reads.
    package let graphID: Int
    /// Element type of every element.
    public let elementType: ElementType
    /// Dimensions, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// The elements, in row-major order of `shape`.
    package let elements: ElementRunList

    package init(graphID: Int, elementType: ElementType, shape: [Int], elements: ElementRunList) {
        self.graphID = graphID
        self.elementType = elementType
        self.shape = shape
        self.elements = elements
    }

    /// Number of elements.
    public var elementCount: Int { elements.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Bytes the viewed elements occupy (counting a broadcast element once per view position).
    public var byteCount: Int { elementCount * elementType.byteSize }

    public var description: String { "Tensor<\(elementType)>\(shape)" }

    /// Row-major strides of `shape`, in elements.
    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for dim in shape.indices.reversed() {
            strides[dim] = stride
            stride *= shape[dim]
        }
        return strides
    }

    func view(shape newShape: [Int], offset: Int, strides: [Int]) -> Tensor {
        Tensor(graphID: graphID, elementType: elementType, shape: newShape,
               elements: elements.affineView(shape: newShape, offset: offset, strides: strides))
    }
}
