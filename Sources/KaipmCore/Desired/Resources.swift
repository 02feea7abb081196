/// Resource quotas for a plugin's sandbox: memory, CPU share and process count.
public struct Resources: Sendable, Hashable, Codable {
    /// Memory limit in bytes.
    public var memoryBytes: Int?
    /// CPU share in cores (0.25 = a quarter of one core).
    public var cpu: Double?
    /// Most processes and threads.
    public var pids: Int?

    public init(memoryBytes: Int? = nil, cpu: Double? = nil, pids: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpu = cpu
        self.pids = pids
    }

    /// Each field of `self`, or the default's where unset.
    public func withDefaults(_ defaults: Resources) -> Resources {
        Resources(memoryBytes: memoryBytes ?? defaults.memoryBytes, cpu: cpu ?? defaults.cpu,
                  pids: pids ?? defaults.pids)
    }

    /// Reads `{memory: 128Mi, cpu: 0.25, pids: 32}`.
    static func read(_ reader: inout MappingReader) -> Resources {
        var resources = Resources()
        if let memory = reader.node("memory") {
            if let text = reader.string(memory, key: "memory") {
                if let bytes = parseQuantity(text) {
                    resources.memoryBytes = bytes
                } else {
                    reader.report("'memory' must be a size like 128Mi, 1Gi or 500M, found '\(text)'", at: memory)
                }
            }
        }
        if let cpu = reader.node("cpu") {
            switch cpu.value {
            case let .int(number) where number > 0: resources.cpu = Double(number)
            case let .float(text): 
                if let value = Double(text), value > 0 { resources.cpu = value } else { fallthrough }
            default:
                reader.report("'cpu' must be a positive number of cores like 0.5, found \(cpu.typeName)", at: cpu)
            }
        }
        if let pids = reader.int("pids") {
            if pids > 0 { resources.pids = pids } else { reader.report("'pids' must be positive", at: reader.node) }
        }
        reader.finish()
        return resources
    }

    /// Parses Kubernetes-style quantities: `128Mi`, `1Gi`, `500M`, `1048576`.
    public static func parseQuantity(_ text: String) -> Int? {
        let units: [(String, Int)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
                                      ("K", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("k", 1_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Int(text.dropLast(suffix.count)), number > 0 else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        guard let number = Int(text), number > 0 else { return nil }
        return number
    }
}
