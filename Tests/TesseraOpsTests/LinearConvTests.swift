import Testing
import Tessera
import TesseraTestSupport

/// One convolution case: its parameters and the tiles of the test target.
struct LinearConvCase: CustomTestStringConvertible, Sendable {
    var parameters: ConvParameters
    var tiles: Int
    var testDescription: String { "\(parameters) on \(tiles) tiles" }

    static let all: [LinearConvCase] = [
        // Dense, odd sizes, symmetric padding, bias.
        LinearConvCase(parameters: ConvParameters(batch: 2, inputChannels: 3, outputChannels: 5, inputField: [7, 9], kernel: [3, 3],
                                                  padding: .symmetric(1), hasBias: true), tiles: 4),
        // Stride 2, asymmetric padding, rectangular kernel, float16.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 4, outputChannels: 6, inputField: [9, 8], kernel: [3, 2],
                                                  stride: [2, 2], padding: ConvPadding(top: 1, bottom: 0, left: 2, right: 1),
                                                  elementType: .float16), tiles: 8),
        // Dilation 2, more output channels than one 16-lane block.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 5, outputChannels: 19, inputField: [11, 10], kernel: [3, 3],
                                                  padding: .symmetric(2), dilation: [2, 2]), tiles: 16),
        // Grouped, 16 channels per group, float16 with bias.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 32, outputChannels: 32, groups: 2, inputField: [6, 5],
                                                  kernel: [3, 3], padding: .symmetric(1), elementType: .float16, hasBias: true), tiles: 16),
        // Depthwise, stride 2, bias.
        LinearConvCase(parameters: ConvParameters(batch: 2, inputChannels: 12, outputChannels: 12, groups: 12, inputField: [8, 7],
                                                  kernel: [3, 3], stride: [2, 2], padding: .symmetric(1), hasBias: true), tiles: 4),
        // Depthwise with channel multiplier 2, float16, stride 1 × 2.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 6, outputChannels: 12, groups: 6, inputField: [5, 9],
                                                  kernel: [3, 3], stride: [1, 2], padding: .symmetric(1), elementType: .float16), tiles: 8),
        // Depthwise over more groups than one 16-lane register, not a multiple of 16, dilated, float16.
        LinearConvCase(parameters: ConvParameters(batch: 2, inputChannels: 37, outputChannels: 37, groups: 37, inputField: [7, 6],
                                                  kernel: [3, 3], padding: .symmetric(2), dilation: [2, 1], elementType: .float16,
                                                  hasBias: true), tiles: 8),
        // Padding wider than the kernel reach: border windows lie wholly in padding.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 2, outputChannels: 3, inputField: [3, 4], kernel: [2, 2],
                                                  padding: .symmetric(3), hasBias: true), tiles: 16),
        // 1 × 1 of stride 2 (ResNet's downsampling) and of stride 3 × 2 on odd fields: planned on the input's subsample.
        LinearConvCase(parameters: ConvParameters(batch: 2, inputChannels: 6, outputChannels: 10, inputField: [9, 7], kernel: [1, 1],
                                                  stride: [2, 2], hasBias: true), tiles: 8),
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 5, outputChannels: 4, inputField: [11, 8], kernel: [1, 1],
                                                  stride: [3, 2], elementType: .float16), tiles: 4),
        // Many input channels, a small output: the planner splits input channels and reduces (float32, then
        // grouped float16 with a bias added in the reduction).
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 300, outputChannels: 3, inputField: [2, 2], kernel: [1, 1],
                                                  hasBias: true), tiles: 16),
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 320, outputChannels: 4, groups: 2, inputField: [2, 3],
                                                  kernel: [1, 2], elementType: .float16, hasBias: true), tiles: 16),
        // A reduction cut into chunks of 7 rows of 6 over planes of 5 × 6: chunks start inside
        // channel planes, and each finds its channels' bias from where it starts.
        LinearConvCase(parameters: ConvParameters(batch: 1, inputChannels: 256, outputChannels: 5, inputField: [5, 6], kernel: [1, 1],
                                                  hasBias: true), tiles: 16),
    ]
}

/// Convolutions against the float64 reference, determinism across threads, typed errors.
@Suite struct LinearConvTests {
    /// Each case with weights spread linearly and with weights created for the plan
    /// (``OpBuilder/createConvWeights(parameters:options:name:)``, which maps every element).
    @Test(arguments: LinearConvCase.all, [false, true])
    func convolutionMatchesTheFloat64Reference(_ test: LinearConvCase, createdWeights: Bool) throws {
        let p = test.parameters
        let fixture = LinearFixture(tiles: test.tiles)
        let (input, x) = try fixture.input(p.inputShape, p.elementType, name: "x", seed: 1)
        let weights: Tensor, w: [Double]
        if createdWeights {
            weights = try fixture.ops.createConvWeights(parameters: p, name: "w")
            #expect(try fixture.graph.tileMapping(of: weights).reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } == weights.elementCount)
            w = try fixture.written(weights, seed: 2)
        } else {
            (weights, w) = try fixture.input(p.weightsShape, p.elementType, name: "w", seed: 2)
        }
        let bias = p.hasBias ? try fixture.input([p.outputChannels], p.elementType, name: "b", seed: 3) : nil
        let output = try fixture.ops.conv2d(input, weights: weights, bias: bias?.0, parameters: p, name: "conv")
        #expect(output.shape == p.outputShape && output.elementType == p.elementType)
        let got = try fixture.run(output)
        let worst = linearWorstError(got, linearReferenceConv(p, input: x, weights: w, bias: bias?.1), type: p.elementType)
        #expect(worst <= 1, "worst error \(worst) × tolerance")
        let plan = try #require(fixture.ops.plans.last)
        #expect(plan.kind == "conv" && plan.tilesUsed <= test.tiles)
        // One convolution vertex per tile, writing its output part in place as one contiguous run.
        let convVertices = fixture.graph.vertices.filter { $0.codelet is ConvPartialCodelet }
        #expect(convVertices.count == plan.tilesUsed && Set(convVertices.map(\.tile)).count == plan.tilesUsed)
        #expect(convVertices.allSatisfy { fixture.graph.runs(ofConnection: $0.connections.last!).count == 1 })
        // The planner's model agrees with the compiler's cost of the steps the plan built.
        let executable = try #require(fixture.executable)
        let ratio = linearModelRatio(plan, executable)
        #expect(ratio > 0.75 && ratio < 1.33, "planner / compiler cycles = \(ratio)")
        // The compiled buffers stay within the temporary memory the plan was chosen for.
        #expect(linearBusiestBuffers(executable) <= plan.temporaryBytesPerTile)
    }

    /// A reduction reads its tile's own stage of partials where the convolution wrote them and
    /// receives the other stages' and its box's channels of the bias: no on-tile copies, and the
    /// bytes received are the other stages' partials and at most one bias element per channel
    /// and vertex (not a bias element per output position).
    @Test func aReductionReadsItsOwnPartialsInPlaceAndTheBiasPerChannel() throws {
        let p = LinearConvCase.all.last!.parameters
        let fixture = LinearFixture(tiles: 16)
        let (input, _) = try fixture.input(p.inputShape, p.elementType, name: "x", seed: 1)
        let (weights, _) = try fixture.input(p.weightsShape, p.elementType, name: "w", seed: 2)
        let (bias, _) = try fixture.input([p.outputChannels], p.elementType, name: "b", seed: 3)
        let output = try fixture.ops.conv2d(input, weights: weights, bias: bias, parameters: p, name: "conv")
        _ = try fixture.run(output)
        let stages = try ConvPlanner().plan(p, target: testTarget(tiles: 16), options: OpOptions(), op: "conv").inputChannelSplit
        let reduce = try #require(fixture.executable?.steps.first { $0.name == "conv/reduce" })
        let partialBytes = (stages - 1) * output.elementCount * 4
        #expect(stages > 1 && reduce.onTileCopyBytes == 0)
        #expect(reduce.exchangedBytes >= partialBytes && reduce.exchangedBytes <= partialBytes + reduce.vertices * p.outputChannels * 4,
                "\(reduce.exchangedBytes) bytes received by \(reduce.vertices) vertices over \(stages) stages")
    }

    @Test func inputChannelSplitCasesReallyReduce() throws {
        for test in LinearConvCase.all.suffix(3) {
            let plan = try ConvPlanner().plan(test.parameters, target: testTarget(tiles: test.tiles), options: OpOptions(), op: "conv")
            #expect(plan.inputChannelSplit > 1, "\(plan)")
        }
    }

    @Test func convolutionIsBitwiseIdenticalWithOneAndTwoThreads() throws {
        let p = ConvParameters(batch: 2, inputChannels: 8, outputChannels: 10, groups: 2, inputField: [9, 7], kernel: [3, 3],
                               padding: .symmetric(1), hasBias: true)
        func run(threads: Int) throws -> [Double] {
            let fixture = LinearFixture(tiles: 8)
            let (input, _) = try fixture.input(p.inputShape, .float32, name: "x", seed: 11)
            let (weights, _) = try fixture.input(p.weightsShape, .float32, name: "w", seed: 12)
            let (bias, _) = try fixture.input([p.outputChannels], .float32, name: "b", seed: 13)
            return try fixture.run(try fixture.ops.conv2d(input, weights: weights, bias: bias, parameters: p, name: "conv"), threads: threads)
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    }

    @Test func invalidConvolutionsAreTypedErrors() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let ops = OpBuilder(graph)
        let base = ConvParameters(batch: 1, inputChannels: 6, outputChannels: 4, groups: 2, inputField: [5, 5], kernel: [3, 3])
        let x = graph.addVariable(.float32, base.inputShape, name: "x")
        let w = graph.addVariable(.float32, base.weightsShape, name: "w")
        func detail(_ change: (inout ConvParameters) -> Void) -> String? {
            var p = base
            change(&p)
            do {
                _ = try ops.conv2d(x, weights: w, parameters: p, name: "c1")
                return nil
            } catch {
                if case .badParameter(let op, let detail) = error, op == "c1" { return detail }
                return "unexpected \(error)"
            }
        }
        #expect(detail { $0.groups = 4 }?.contains("divisible by groups 4") == true)
        #expect(detail { $0.kernel = [7, 3] }?.contains("larger than the padded input") == true)
        #expect(detail { $0.stride = [0, 1] }?.contains("stride [0, 1]") == true)
        #expect(detail { $0.dilation = [1, -1] }?.contains("dilation") == true)
        #expect(detail { $0.padding = ConvPadding(top: -1, bottom: 0, left: 0, right: 0) }?.contains("padding") == true)
        #expect(detail { $0.hasBias = true }?.contains("no bias tensor") == true)

        let wrongWeights = graph.addVariable(.float32, [4, 6, 3, 3], name: "dense-w")
        #expect {
            _ = try ops.conv2d(x, weights: wrongWeights, parameters: base, name: "c2")
        } throws: { error in
            guard case .shapeMismatch(let op, let detail) = error as? OpError else { return false }
            return op == "c2" && detail.contains("[4, 6, 3, 3]") && detail.contains("[4, 3, 3, 3]")
        }
        let halfWeights = graph.addVariable(.float16, base.weightsShape, name: "half-w")
        #expect {
            _ = try ops.conv2d(x, weights: halfWeights, parameters: base, name: "c3")
        } throws: { error in
            guard case .typeMismatch(let op, _) = error as? OpError else { return false }
            return op == "c3"
        }
        var integer = base
        integer.elementType = .int32
        #expect {
            _ = try ops.conv2d(x, weights: w, parameters: integer, name: "c4")
        } throws: { error in
            guard case .typeMismatch(let op, let detail) = error as? OpError else { return false }
            return op == "c4" && detail.contains("int32")
        }
    }
}
