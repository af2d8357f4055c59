// ResNet-50 and EfficientNet on a simulated IPU, read top to bottom:
// 1. describe the network (torchvision's layout and parameter names),
// 2. give it weights (random and seeded here; ONNX files bring trained ones),
// 3. build it into a graph with the kernel library and compile it onto the tiles,
// 4. run a batch and look at the answer, the memory and the cycles.
import Tessera

/// The model examples: one call builds, compiles and runs a network and prints what happened.
public enum ConvolutionalNetworkExample {
    /// Runs `network` on a synthetic batch on `target` and prints the top-5 classes and the reports.
    public static func run(_ network: Network, target: Target = .mk2) throws -> ModelSession {
        // 1–2. The description and seeded weights.
        let weights = NetworkWeights.random(for: network, seed: 0)
        print("\(network.name): \(network.parameterCount.grouped) parameters, "
            + "\(network.multiplyAccumulatesPerImage.grouped) multiply-accumulates per image")

        // 3. Lower onto the kernel library and compile: this places every byte of every tile.
        let session = try ModelSession(network: network, weights: weights, target: target)
        print("compiled in \(session.compileSeconds) s")

        // 4. One batch.
        let input = ModelSession.syntheticInput(count: session.compiled.input.elementCount)
        let logits = try session.run(input: input)
        let classes = session.compiled.output.shape[1]
        for (image, top) in ModelSession.top(5, of: logits, classes: classes).enumerated() {
            print("image \(image): " + top.map { "\($0.index) (\($0.probability))" }.joined(separator: ", "))
        }
        print(try MemoryReport(session.executable.memory).text)
        print(try CycleReport(executable: session.executable, record: session.record!).text)
        return session
    }

    /// ResNet-50 v1.5.
    public static func resnet50(batch: Int = 1, resolution: Int = 224, target: Target = .mk2) throws -> ModelSession {
        try run(ResNet.resnet50(batch: batch, resolution: resolution), target: target)
    }

    /// EfficientNet-B0, or its grouped G16 variant.
    public static func efficientNetB0(batch: Int = 1, resolution: Int = 224, grouped: Bool = false, target: Target = .mk2) throws -> ModelSession {
        let network = grouped ? EfficientNet.b0G16(batch: batch, resolution: resolution) : EfficientNet.b0(batch: batch, resolution: resolution)
        return try run(network, target: target)
    }
}
