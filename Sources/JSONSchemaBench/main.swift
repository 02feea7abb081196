import Foundation
import JSONSchema

// Validation throughput on a realistic plugin-config schema: the schema is compiled once, then
// 1,000 generated documents (one in eight invalid) are validated repeatedly.
// Usage: JSONSchemaBench [output-directory] [rounds]
// With an output directory the schema and documents are written there (schema.json, docs.json) for bench.py.

let arguments = CommandLine.arguments
let outputDirectory = arguments.count > 1 ? arguments[1] : nil
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 30 : 30

var generator = DocumentGenerator(seed: 20_240_517)
let documents = (0..<1000).map { generator.document($0) }
let schemaValue: JSONValue
do {
    schemaValue = try JSONValue.parse(BenchSchema.text)
} catch {
    print("bench schema does not parse: \(error)")
    exit(1)
}

if let outputDirectory {
    let dir = URL(fileURLWithPath: outputDirectory)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(schemaValue.serialized(pretty: true).utf8).write(to: dir.appendingPathComponent("schema.json"))
    try Data(JSONValue.array(documents).serialized().utf8).write(to: dir.appendingPathComponent("docs.json"))
}

let compileStart = DispatchTime.now().uptimeNanoseconds
let schema = try JSONSchema.compile(schemaValue, options: SchemaOptions(formatAssertion: true))
let compileNanos = DispatchTime.now().uptimeNanoseconds - compileStart

let invalid = documents.filter { !schema.validate($0).isValid }.count
let quickInvalid = documents.filter { !schema.isValid($0) }.count
guard invalid == quickInvalid else {
    print("validate and isValid disagree: \(invalid) vs \(quickInvalid)")
    exit(1)
}

/// Times every document `rounds` times with `body` and returns the median nanoseconds per document.
func medianNanos(_ body: (JSONValue) -> Bool) -> Double {
    var samples: [UInt64] = []
    samples.reserveCapacity(rounds * documents.count)
    var sink = 0
    for _ in 0..<rounds {
        for document in documents {
            let start = DispatchTime.now().uptimeNanoseconds
            if body(document) { sink += 1 }
            samples.append(DispatchTime.now().uptimeNanoseconds - start)
        }
    }
    if sink < 0 { print(sink) }
    samples.sort()
    return Double(samples[samples.count / 2])
}

_ = medianNanos { schema.validate($0).isValid }  // warm-up
let validateMedian = medianNanos { schema.validate($0).isValid }
let isValidMedian = medianNanos { schema.isValid($0) }

print("schema compiled once in \(String(format: "%.2f", Double(compileNanos) / 1e6)) ms; \(documents.count) documents, \(invalid) invalid; \(rounds) rounds")
print(String(format: "swift JSONSchema validate: median %.2f us/doc, %.0f docs/s", validateMedian / 1000, 1e9 / validateMedian))
print(String(format: "swift JSONSchema isValid:  median %.2f us/doc, %.0f docs/s", isValidMedian / 1000, 1e9 / isValidMedian))
print("RESULT swift validate_ns=\(Int(validateMedian)) is_valid_ns=\(Int(isValidMedian)) invalid=\(invalid)")
if let first = documents.lazy.map({ schema.validate($0) }).first(where: { !$0.isValid }) {
    print("example errors: " + first.errors.map(\.description).joined(separator: "; "))
}
