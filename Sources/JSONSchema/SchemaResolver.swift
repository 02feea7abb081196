import Foundation

/// Supplies schema documents for absolute URIs that are not part of the schema being compiled.
public protocol SchemaResolver: Sendable {
    /// The document for `uri` (no fragment), nil when unknown; never fetches from the network.
    func schema(for uri: String) throws -> JSONValue?
}

/// Serves JSON files from a local directory in place of a base URI (e.g. `http://localhost:1234/`).
public struct DirectorySchemaResolver: SchemaResolver {
    /// The URI prefix that maps onto `directory`.
    public let baseURI: String
    /// The directory holding the documents.
    public let directory: URL

    /// Maps URIs starting with `baseURI` to files under `directory`.
    public init(baseURI: String, directory: URL) {
        self.baseURI = baseURI.hasSuffix("/") ? baseURI : baseURI + "/"
        self.directory = directory
    }

    /// Reads and parses the file for `uri`, or returns nil when it is outside `baseURI` or missing.
    public func schema(for uri: String) throws -> JSONValue? {
        guard uri.hasPrefix(baseURI) else { return nil }
        let relative = String(uri.dropFirst(baseURI.count))
        guard !relative.split(separator: "/").contains("..") else { return nil }
        let file = directory.appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return try JSONValue.parse(data)
    }
}

/// Serves a fixed set of documents keyed by absolute URI.
public struct InMemorySchemaResolver: SchemaResolver {
    /// Documents by URI (without fragment).
    public let documents: [String: JSONValue]
    /// Serves `documents`.
    public init(_ documents: [String: JSONValue]) { self.documents = documents }
    /// The document for `uri`, if present.
    public func schema(for uri: String) throws -> JSONValue? { documents[uri] }
}

/// Tries several resolvers in order.
public struct ChainedSchemaResolver: SchemaResolver {
    /// The resolvers, asked first to last.
    public let resolvers: [any SchemaResolver]
    /// Chains `resolvers`.
    public init(_ resolvers: [any SchemaResolver]) { self.resolvers = resolvers }
    /// The first non-nil answer.
    public func schema(for uri: String) throws -> JSONValue? {
        for r in resolvers { if let s = try r.schema(for: uri) { return s } }
        return nil
    }
}
