import JSONSchema

/// Deterministic generator of plugin configuration documents, about one in eight of them invalid.
struct DocumentGenerator {
    /// SplitMix64 state.
    var state: UInt64

    /// Seeds the generator.
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    static let words = ["alpha", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper",
                        "kestrel", "lumen", "meadow", "nimbus", "onyx", "prism", "quartz", "raven", "sierra", "tundra"]

    mutating func identifier() -> String { pick(Self.words) + "-" + String(int(1...999)) }

    mutating func hex(_ count: Int) -> String {
        String((0..<count).map { _ in Array("0123456789abcdef")[int(0...15)] })
    }

    /// Document number `i`.
    mutating func document(_ i: Int) -> JSONValue {
        let name = identifier()
        var endpoints: [JSONValue] = []
        for k in 0..<int(1...3) {
            var endpoint: JSONValue = [
                "host": .string("api\(k).\(pick(Self.words)).example.com"),
                "port": .number(JSONNumber(int(1...65535))),
                "tls": .bool(int(0...1) == 1),
                "paths": .array((0..<int(0...3)).map { _ in .string("/" + pick(Self.words)) }),
            ]
            if int(0...1) == 0 {
                endpoint = .object(endpoint.objectValue.map { o in
                    var o = o
                    o["address"] = .string("10.\(int(0...255)).\(int(0...255)).\(int(1...254))")
                    return o
                } ?? JSONObject())
            }
            endpoints.append(endpoint)
        }
        var settings = JSONObject()
        for _ in 0..<int(0...6) {
            let key = pick(Self.words) + pick(["Mode", "Limit", "Path", "Level", ""])
            switch int(0...2) {
            case 0: settings[key] = .string(pick(Self.words))
            case 1: settings[key] = .number(JSONNumber(int(0...10000)))
            default: settings[key] = .bool(int(0...1) == 1)
            }
        }
        let mode = pick(["fast", "safe", "debug"])
        var doc = JSONObject()
        doc["name"] = .string(name)
        doc["version"] = .string("\(int(0...3)).\(int(0...20)).\(int(0...50))")
        doc["enabled"] = .bool(int(0...3) != 0)
        doc["refreshMinutes"] = .number(JSONNumber(mode == "debug" ? int(1...60) : int(1...1440)))
        doc["ratio"] = .number(JSONNumber(parsing: "0.\(String(format2: int(1...99)))") ?? JSONNumber(1))
        doc["owner"] = ["email": .string("\(pick(Self.words)).\(i)@example.com"), "name": .string("Owner \(i)")]
        doc["homepage"] = .string("https://plugins.example.com/\(name)?ref=\(i)#readme")
        doc["created"] = .string("20\(int(10...29))-0\(int(1...9))-1\(int(0...9))T\(int(10...23)):\(int(10...59)):\(int(10...59))Z")
        doc["id"] = .string("\(hex(8))-\(hex(4))-4\(hex(3))-a\(hex(3))-\(hex(12))")
        doc["tags"] = .array(Array(Set((0..<int(0...5)).map { _ in identifier() })).sorted().map { .string($0) })
        doc["endpoints"] = .array(endpoints)
        doc["settings"] = .object(settings)
        doc["mode"] = .string(mode)
        doc["retry"] = ["attempts": .number(JSONNumber(int(0...10))), "backoff": "exponential", "delaySeconds": 1.5]
        if i % 8 == 7 { corrupt(&doc) }
        return .object(doc)
    }

    /// Breaks a document in one of several realistic ways.
    mutating func corrupt(_ doc: inout JSONObject) {
        switch int(0...9) {
        case 0: doc["refreshMinutes"] = 2000
        case 1: doc["owner"] = ["email": "not-an-email"]
        case 2: doc["version"] = "v1"
        case 3: doc["unknownKey"] = true
        case 4: doc["ratio"] = .number(JSONNumber(parsing: "0.015") ?? JSONNumber(2))
        case 5: doc["created"] = "2024-13-01T00:00:00Z"
        case 6: doc["endpoints"] = [["host": "bad_host!", "port": 70000]]
        case 7: doc["mode"] = "debug"; doc["refreshMinutes"] = 600
        case 8: doc["settings"] = ["Bad Key": 1]
        default: doc["name"] = nil
        }
    }
}

extension String {
    /// Two-digit zero-padded decimal.
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : String(value) }
}
